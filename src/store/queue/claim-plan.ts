// How many deliveries each subscription may start in one claim. This is where "a bad
// receiver hurts only itself" is decided: every subscription with due work gets a share of
// the batch (served-longest-ago first), no more than its concurrency cap minus what is
// already in flight anywhere, no more than its rate limit allows, one at a time for FIFO,
// and a single probe when its circuit's cool-down has passed; and when the claiming process
// keeps part of its worker pool for prompt receivers, the others get no more than it allows
// them (delivery/pool-reserve.ts). Pure: the store supplies the rows (locked where the
// database can) and writes back the state changes.
import { MIN_RATE_LIMIT_PER_SECOND, type CircuitState, type Ordering } from '../../domain/index.ts';
import type { ClaimReserve } from '../contracts.ts';

export interface ClaimCandidate {
  id: string;
  maxInFlight: number;
  ordering: Ordering;
  rateLimitPerSecond: number | null;
  rateTokens: number | null;
  rateRefilledAt: number | null;
  circuitState: CircuitState;
}

export interface Quota {
  subscriptionId: string;
  count: number;
  fifo: boolean;
}

/** Changes to a subscription row that go with claiming for it. */
export interface CandidateUpdate {
  subscriptionId: string;
  lastClaimedAt: number;
  /** Token bucket after this claim's grant (rate-limited subscriptions only). */
  rateTokens: number | null;
  rateRefilledAt: number | null;
  /** Set when this claim sends the probe of an open circuit. */
  halfOpenUntil: number | null;
}

export interface ClaimPlan {
  quotas: Quota[];
  updates: CandidateUpdate[];
}

/** Tokens available now: the bucket refills at the rate, holding at most one second's worth. */
function availableTokens(candidate: ClaimCandidate, now: number): number {
  if (candidate.rateLimitPerSecond === null) return Infinity;
  const rate = Math.max(MIN_RATE_LIMIT_PER_SECOND, candidate.rateLimitPerSecond);
  const capacity = Math.max(1, rate);
  if (candidate.rateTokens === null || candidate.rateRefilledAt === null) return capacity;
  const refilled = candidate.rateTokens + (Math.max(0, now - candidate.rateRefilledAt) / 1000) * rate;
  return Math.min(capacity, refilled);
}

export function planClaims(
  candidates: readonly ClaimCandidate[],
  inFlight: ReadonlyMap<string, number>,
  options: { now: number; limit: number; circuitCooldownMs: number; reserve?: ClaimReserve | undefined },
): ClaimPlan {
  const { now, limit, circuitCooldownMs, reserve } = options;
  const share = Math.max(1, Math.ceil(limit / Math.max(1, candidates.length)));
  const quotas: Quota[] = [];
  const updates: CandidateUpdate[] = [];
  let left = limit;
  let openLeft = reserve?.open ?? 0;
  for (const candidate of candidates) {
    if (left <= 0) break;
    const busy = inFlight.get(candidate.id) ?? 0;
    const fifo = candidate.ordering === 'fifo';
    const probing = candidate.circuitState !== 'closed';
    const tokens = availableTokens(candidate, now);
    const wanted = Math.min(
      left,
      share,
      fifo || probing ? 1 - Math.min(1, busy) : candidate.maxInFlight - busy,
      Math.floor(tokens),
    );
    if (wanted <= 0) continue;
    const allowance = reserve?.allowance(candidate.id) ?? Infinity;
    // Open slots first, so that the reserve stays free as long as it can.
    const open = allowance === Infinity ? 0 : Math.min(wanted, openLeft);
    const allowed = allowance === Infinity ? wanted : open + Math.min(wanted - open, allowance);
    if (allowed <= 0) continue;
    openLeft -= open;
    quotas.push({ subscriptionId: candidate.id, count: allowed, fifo });
    updates.push({
      subscriptionId: candidate.id,
      lastClaimedAt: now,
      rateTokens: candidate.rateLimitPerSecond === null ? null : tokens,
      rateRefilledAt: candidate.rateLimitPerSecond === null ? null : now,
      halfOpenUntil: probing ? now + circuitCooldownMs : null,
    });
    left -= allowed;
  }
  return { quotas, updates };
}

/** Spends the tokens of what was really claimed (a quota may find fewer due rows than granted). */
export function settleUpdates(updates: readonly CandidateUpdate[], claimedBySubscription: ReadonlyMap<string, number>): CandidateUpdate[] {
  return updates.map((update) => {
    const claimed = claimedBySubscription.get(update.subscriptionId) ?? 0;
    return {
      ...update,
      rateTokens: update.rateTokens === null ? null : update.rateTokens - claimed,
      // A probe that found nothing to send leaves the circuit as it was.
      halfOpenUntil: claimed > 0 ? update.halfOpenUntil : null,
    };
  });
}
