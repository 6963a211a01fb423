// The ReadModels contract on each database: the figures of /api/v1/status, the metrics
// scrape and the dashboard, and the attempts of the live feed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CIRCUIT_DEFAULTS } from '../src/domain/index.ts';
import { HOUR, T0, claimAt, created, delivery, event, freshStores, ids, readWhileFinishing, result, subscription } from './support/store-fixtures.ts';
import { STORE_NAMES } from './support/stores.ts';

const MINUTE = 60_000;

for (const name of STORE_NAMES) {
  describe(`ReadModels contract (${name})`, () => {
    const fresh = freshStores(name);

    it('deliveryCounts, queueFigures and pendingFigures reflect every state', async () => {
      const { store } = await fresh();
      const read = store.readModels;
      const sub = subscription();
      const doomed = subscription();
      await created(store, sub, doomed);
      assert.deepEqual(await read.queueFigures(T0), { depth: 0, dueNow: 0, inFlight: 0, oldestDueAgeMs: 0, succeededLastHour: 0, failedLastHour: 0 });
      assert.deepEqual(await read.deliveryCounts(), { queued: 0, delivering: 0, succeeded: 0, failed: 0, filtered: 0, cancelled: 0 });

      // Four sent long ago: one succeeds, two fail (one more than an hour ago), one is still out.
      const old = event({ createdAt: T0 - 5 * HOUR });
      const sent = [0, 1, 2, 3].map(() => delivery(old, sub));
      await store.queue.enqueue([{ event: old, deliveries: sent }]);
      const claimed = await store.queue.claimDue(claimAt(T0 - 4 * HOUR, 'l', 10, 5 * HOUR));
      assert.equal(claimed.length, 4);
      const byId = new Map(claimed.map((c) => [c.delivery.id, c]));
      await store.queue.recordAttempts([
        result(byId.get(sent[0]!.id)!, 'l', 'succeeded', T0 - 1000),
        result(byId.get(sent[1]!.id)!, 'l', 'failed', T0 - 2 * HOUR),
        result(byId.get(sent[2]!.id)!, 'l', 'failed', T0 - 500),
      ], CIRCUIT_DEFAULTS);

      const recent = event({ createdAt: T0 - 10_000 });
      await store.queue.enqueue([{
        event: recent,
        deliveries: [
          delivery(recent, sub, { nextAttemptAt: T0 - 5000 }),
          delivery(recent, sub, { nextAttemptAt: T0 - 1000 }),
          delivery(recent, sub, { nextAttemptAt: T0 + 60_000 }),
          delivery(recent, sub, { status: 'filtered', nextAttemptAt: null }),
          delivery(recent, doomed, { nextAttemptAt: T0 + 60_000 }),
        ],
      }]);
      await store.subscriptions.delete(doomed.id, T0 - 100);

      assert.deepEqual(await read.deliveryCounts(), { queued: 3, delivering: 1, succeeded: 1, failed: 2, filtered: 1, cancelled: 1 });
      assert.deepEqual(await read.queueFigures(T0), {
        depth: 4, dueNow: 2, inFlight: 1, oldestDueAgeMs: 5000, succeededLastHour: 1, failedLastHour: 1,
      });
      assert.deepEqual(await read.pendingFigures(T0), { depth: 4, dueNow: 2, inFlight: 1, oldestDueAgeMs: 5000 });
      // Three hours on, the last one's lease has expired: it is due again, since it was first due.
      const muchLater = await read.queueFigures(T0 + 3 * HOUR);
      assert.deepEqual([muchLater.succeededLastHour, muchLater.failedLastHour, muchLater.dueNow, muchLater.inFlight, muchLater.oldestDueAgeMs],
        [0, 0, 4, 0, 8 * HOUR]);
      assert.equal(await read.countDeliveriesSince(T0 - 10_000), 5);
      assert.equal(await read.countDeliveriesSince(T0 - 6 * HOUR), 9);
    });

    it("countDeliveriesSince for one application counts each delivery once while deliveries finish", async () => {
      const { store } = await fresh();
      const sub = subscription();
      await created(store, sub);
      const readings = await readWhileFinishing(store, sub, 30, async () => [await store.readModels.countDeliveriesSince(T0 - HOUR, sub.applicationId)]);
      assert.deepEqual(readings.filter((n) => n !== 30), []);
    });

    it('attemptStats: counts by outcome, nearest-rank percentiles and per-bucket figures of a time range', async () => {
      const { store } = await fresh();
      const sub = subscription();
      await created(store, sub);
      const ev = event({ createdAt: T0 - HOUR });
      await store.queue.enqueue([{ event: ev, deliveries: Array.from({ length: 10 }, () => delivery(ev, sub)) }]);
      const claimed = await store.queue.claimDue(claimAt(T0 - HOUR, 'l', 100, 2 * HOUR));
      // Durations 10..100 ms; the first five in the first minute, the rest in the third; the two slowest failed.
      await store.queue.recordAttempts(claimed.map((c, i) => result(c, 'l', i >= 8 ? 'failed' : 'succeeded', i < 5 ? T0 + 1000 : T0 + 2 * MINUTE + 1000, null, { durationMs: (i + 1) * 10 })), CIRCUIT_DEFAULTS);

      const stats = await store.readModels.attemptStats({ from: T0, to: T0 + 5 * MINUTE, bucketMs: MINUTE });
      assert.deepEqual(stats.byOutcome, { success: 8, http_error: 2, timeout: 0, network_error: 0, blocked: 0, rejected: 0 });
      assert.equal(stats.p50Ms, 50);
      assert.equal(stats.p95Ms, 100);
      assert.deepEqual(stats.buckets, [
        { start: T0, attempts: 5, failures: 0, p95Ms: 50 },
        { start: T0 + 2 * MINUTE, attempts: 5, failures: 2, p95Ms: 100 },
      ]);
      const empty = await store.readModels.attemptStats({ from: T0 + HOUR, to: T0 + 2 * HOUR, bucketMs: MINUTE });
      assert.deepEqual(empty, { byOutcome: { success: 0, http_error: 0, timeout: 0, network_error: 0, blocked: 0, rejected: 0 }, p50Ms: null, p95Ms: null, buckets: [] });
    });

    it('failingSubscriptions and inactiveSubscriptions name the subscriptions that need a look', async () => {
      const { store } = await fresh();
      const healthy = subscription();
      const flaky = subscription({ targetUrl: 'https://example.com/flaky' });
      const broken = subscription({ targetUrl: 'https://example.com/broken' });
      const gone = subscription();
      const off = subscription({ active: false, updatedAt: T0 + 5 });
      const offEarlier = subscription({ active: false, updatedAt: T0 + 1 });
      await created(store, healthy, flaky, broken, gone, off, offEarlier);
      const ev = event();
      const plan = [[healthy, 'succeeded'], [flaky, 'failed'], [broken, 'failed'], [broken, 'failed'], [gone, 'failed']] as const;
      await store.queue.enqueue([{ event: ev, deliveries: plan.map(([s]) => delivery(ev, s)) }]);
      const claimed = await store.queue.claimDue(claimAt(T0, 'l', 100));
      const outcomeOf = new Map<string, string[]>();
      for (const [s, outcome] of plan) outcomeOf.set(s.id, [...(outcomeOf.get(s.id) ?? []), outcome]);
      await store.queue.recordAttempts(claimed.map((c, i) => result(c, 'l', outcomeOf.get(c.delivery.subscriptionId)!.pop() as 'failed' | 'succeeded', T0 + 10 + i)), CIRCUIT_DEFAULTS);
      await store.subscriptions.delete(gone.id, T0 + 100);

      const failing = await store.readModels.failingSubscriptions(T0, T0 + MINUTE, 10);
      assert.deepEqual(failing.map((f) => [f.id, f.targetUrl, f.failures]), [[broken.id, broken.targetUrl, 2], [flaky.id, flaky.targetUrl, 1]]);
      assert.ok(failing.every((f) => f.lastFailureAt >= T0 + 10 && f.lastFailureAt < T0 + 20));
      assert.deepEqual(await store.readModels.failingSubscriptions(T0 + MINUTE, T0 + 2 * MINUTE, 10), []);
      assert.equal((await store.readModels.failingSubscriptions(T0, T0 + MINUTE, 1)).length, 1);

      const inactive = await store.readModels.inactiveSubscriptions(1);
      assert.equal(inactive.total, 2);
      assert.deepEqual(ids(inactive.items), [off.id], 'most recently changed first');
    });

    it('attemptsAfter and latestAttempts read the attempt feed in id order, with their delivery', async () => {
      const { store } = await fresh();
      const sub = subscription();
      await created(store, sub);
      const ev = event({ eventType: 'feed.test' });
      await store.queue.enqueue([{ event: ev, deliveries: [0, 1, 2].map(() => delivery(ev, sub)) }]);
      const claimed = await store.queue.claimDue(claimAt(T0, 'l'));
      const results = claimed.map((c, i) => result(c, 'l', 'succeeded', T0 + i));
      await store.queue.recordAttempts(results, CIRCUIT_DEFAULTS);
      const attemptIds = results.map((r) => r.attempt.id).sort();

      const all = await store.readModels.attemptsAfter(null, 10);
      assert.deepEqual(ids(all), attemptIds);
      assert.deepEqual(
        { ...all[0]!, id: null, deliveryId: null, createdAt: null },
        { id: null, deliveryId: null, subscriptionId: sub.id, applicationId: sub.applicationId, eventType: 'feed.test', attemptNumber: 1, outcome: 'success', statusCode: 200, durationMs: 12, trigger: 'scheduled', createdAt: null },
      );
      assert.deepEqual(ids(await store.readModels.attemptsAfter(attemptIds[0]!, 1)), [attemptIds[1]]);
      assert.deepEqual(ids(await store.readModels.latestAttempts(2)), attemptIds.slice(1), 'the newest two, oldest first');
      assert.deepEqual(await store.readModels.attemptsAfter(attemptIds[2]!, 10), []);
    });
  });
}
