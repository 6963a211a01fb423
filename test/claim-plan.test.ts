// The claim plan's token bucket: a rate limit, however low, lets the next delivery go in time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIN_RATE_LIMIT_PER_SECOND } from '../src/domain/index.ts';
import { planClaims, settleUpdates, type ClaimCandidate } from '../src/store/queue/claim-plan.ts';

function rateLimited(rate: number, tokens: number | null, refilledAt: number | null): ClaimCandidate {
  return { id: 's', maxInFlight: 10, ordering: 'parallel', rateLimitPerSecond: rate, rateTokens: tokens, rateRefilledAt: refilledAt, circuitState: 'closed' };
}

/** How many the subscription may start at `now`, and its bucket after starting them. */
function claim(candidate: ClaimCandidate, now: number) {
  const plan = planClaims([candidate], new Map(), { now, limit: 100, circuitCooldownMs: 30_000 });
  const count = plan.quotas[0]?.count ?? 0;
  const [update] = settleUpdates(plan.updates, new Map([['s', count]]));
  return { count, next: update ? { ...candidate, rateTokens: update.rateTokens, rateRefilledAt: update.rateRefilledAt } : candidate };
}

test('a rate limit below the floor (one stored before the API refused it) is read as the floor, so it never stalls', () => {
  let now = 1_000_000;
  const first = claim(rateLimited(5e-324, null, null), now);
  assert.equal(first.count, 1, 'the first delivery goes at once');
  const waited = claim(first.next, now + 1000);
  assert.equal(waited.count, 0, 'the second waits for its token');
  now += 1000 / MIN_RATE_LIMIT_PER_SECOND;
  assert.equal(claim(first.next, now).count, 1, 'and goes once the floor rate has refilled it');
});

test('the floor rate itself spaces attempts 100 s apart', () => {
  assert.equal(MIN_RATE_LIMIT_PER_SECOND, 0.01);
  let { count, next } = claim(rateLimited(MIN_RATE_LIMIT_PER_SECOND, null, null), 0);
  assert.equal(count, 1);
  assert.equal(claim(next, 99_000).count, 0);
  ({ count, next } = claim(next, 100_000));
  assert.equal(count, 1);
});
