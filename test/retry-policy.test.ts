// The backoff schedule, checked with a fake clock: waiting 30 s, 60 s, ... for real would be absurd.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { effectivePolicy, hasAttemptsLeft, retryDelayMs } from '../src/delivery/retry-policy.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';
import { ClaimWitness } from './support/delivery-app.ts';
import { eventually, startReceiver, status, type Receiver } from './support/receiver.ts';

const defaults = loadConfig({ env: {} }).retry;

test('the default policy: 30 s, doubling, capped at 1 h, 8 attempts', () => {
  assert.deepEqual(defaults, { maxAttempts: 8, initialDelayMs: 30_000, backoffFactor: 2, maxDelayMs: 3_600_000, jitter: 0.2 });
  const middle = () => 0.5; // no jitter
  const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => retryDelayMs(defaults, n, middle));
  assert.deepEqual(delays, [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
  assert.equal(hasAttemptsLeft(defaults, 7), true);
  assert.equal(hasAttemptsLeft(defaults, 8), false);
});

test('jitter spreads each delay by at most ±20 % and never past the cap', () => {
  assert.equal(retryDelayMs(defaults, 1, () => 0), 24_000);
  assert.equal(retryDelayMs(defaults, 1, () => 0.999999), 36_000);
  assert.equal(retryDelayMs(defaults, 8, () => 0.999999), 3_600_000);
  const seen = new Set(Array.from({ length: 50 }, () => retryDelayMs(defaults, 2)));
  assert.ok(seen.size > 1, 'delays should differ');
  for (const d of seen) assert.ok(d >= 48_000 && d <= 72_000, `${d} outside ±20 % of 60 s`);
});

test('a subscription overrides only the fields it sets', () => {
  const policy = effectivePolicy(defaults, { retryPolicy: { maxAttempts: 3, initialDelayMs: 10 } });
  assert.deepEqual(policy, { ...defaults, maxAttempts: 3, initialDelayMs: 10 });
  assert.deepEqual(effectivePolicy(defaults, { retryPolicy: null }), defaults);
});

for (const name of STORE_NAMES) {
  describe(`the dispatcher schedules retries by the policy (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let receiver: Receiver;
    let witnessing: Receiver;
    let witness: ClaimWitness;
    let now = Date.parse('2026-01-01T00:00:00Z');

    before(async () => {
      target = newTarget(name);
      receiver = await startReceiver();
      receiver.respond(status(500));
      witnessing = await startReceiver();
      app = await startTestApp(target, { clock: () => now, config: { allowNetworks: ['127.0.0.0/8'], pollIntervalMs: 20 } });
      witness = await ClaimWitness.create(app, witnessing);
    });
    after(async () => {
      await app.close();
      await receiver.close();
      await witnessing.close();
      await target.cleanup();
    });

    test('each failure moves next_attempt_at by the backoff, measured on the fake clock', async () => {
      const created = await app.server!.inject({ method: 'POST', url: '/api/v1/subscriptions', payload: { target_url: receiver.url, retry_policy: { jitter: 0, max_attempts: 4 } } });
      const ingested = await app.server!.inject({ method: 'POST', url: `/api/v1/ingest/${created.json().id}`, payload: { event_type: 'retry.me' } });
      const deliveryId = ingested.json().delivery_id;
      const get = async () => (await app.server!.inject({ method: 'GET', url: `/api/v1/deliveries/${deliveryId}` })).json();
      const expectedDelays = [30_000, 60_000, 120_000];
      for (const [i, delay] of expectedDelays.entries()) {
        const attemptedAt = now;
        const delivery = await eventually(async () => {
          const d = await get();
          return d.attempts === i + 1 && d.status === 'queued' ? d : undefined;
        }, 5000, `attempt ${i + 1}`);
        assert.equal(Date.parse(delivery.next_attempt_at) - attemptedAt, delay);
        // Nothing happens before the delay has passed: the dispatcher claims and sends
        // another subscription's delivery meanwhile, and leaves this one queued...
        now += delay - 1;
        await witness.passed();
        assert.equal(receiver.requests.length, i + 1);
        assert.equal((await get()).status, 'queued');
        // ...and the next attempt goes out once it has.
        now += 1;
        app.dispatcher!.wake();
      }
      const failed = await eventually(async () => {
        const d = await get();
        return d.status === 'failed' ? d : undefined;
      });
      assert.equal(failed.attempts, 4);
      assert.equal(receiver.requests.length, 4);
    });
  });
}
