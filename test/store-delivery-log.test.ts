// The DeliveryLog contract on each database: deliveries and their attempts as the API reads
// them (filters, pagination, counts), events, and an operator's retry and replay.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { CIRCUIT_DEFAULTS } from '../src/domain/index.ts';
import { HOUR, T0, claimAt, created, delivery, event, freshStores, ids, readWhileFinishing, result, subscription } from './support/store-fixtures.ts';
import { STORE_NAMES } from './support/stores.ts';

for (const name of STORE_NAMES) {
  describe(`DeliveryLog contract (${name})`, () => {
    const fresh = freshStores(name);

    it('lists deliveries newest first, by every filter, page by page, and counts the same ones', async () => {
      const { store } = await fresh();
      const a = subscription();
      const b = subscription();
      await created(store, a, b);
      const early = event({ createdAt: T0 - HOUR, eventType: 'order.created' });
      // An event's trace context is stored with it and read back (tracing).
      const late = event({ createdAt: T0, eventType: 'user.registered', trace: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'a=1' } });
      const d1 = delivery(early, a);
      const d2 = delivery(early, b, { status: 'filtered', nextAttemptAt: null });
      const d3 = delivery(late, a);
      const d4 = delivery(late, b);
      await store.queue.enqueue([{ event: early, deliveries: [d1, d2] }, { event: late, deliveries: [d3, d4] }]);
      const log = store.deliveryLog;

      assert.deepEqual(ids((await log.listDeliveries({ limit: 10 })).items), [d4.id, d3.id, d2.id, d1.id]);
      const page1 = await log.listDeliveries({ limit: 3 });
      assert.equal(page1.nextAfter, d2.id);
      assert.deepEqual(ids((await log.listDeliveries({ limit: 3, before: page1.nextAfter! })).items), [d1.id]);
      assert.deepEqual(ids((await log.listDeliveries({ limit: 10, subscriptionId: b.id })).items), [d4.id, d2.id]);
      assert.deepEqual(ids((await log.listDeliveries({ limit: 10, status: 'filtered' })).items), [d2.id]);
      assert.deepEqual(ids((await log.listDeliveries({ limit: 10, eventType: 'order.created' })).items), [d2.id, d1.id]);
      assert.deepEqual(ids((await log.listDeliveries({ limit: 10, since: T0 })).items), [d4.id, d3.id]);
      assert.deepEqual(ids((await log.listDeliveries({ limit: 10, until: T0 })).items), [d2.id, d1.id]);

      assert.equal(await log.countDeliveries({}), 4);
      assert.equal(await log.countDeliveries({ subscriptionId: a.id, status: 'queued' }), 2);
      assert.equal(await log.countDeliveries({ eventType: 'user.registered', since: T0, until: T0 + 1 }), 2);
      assert.deepEqual(await log.getDelivery(d1.id), d1);
      assert.equal(await log.getDelivery(uuidv7()), undefined);
      assert.equal(await log.getEvent(uuidv7()), undefined);
      assert.deepEqual({ ...(await log.getEvent(late.id))!, payload: null }, { ...late, payload: null });
      assert.equal((await log.getEvent(early.id))!.trace, null);
    });

    it('counts each delivery once, and lists it once, while deliveries finish', async () => {
      const { store } = await fresh();
      const sub = subscription();
      await created(store, sub);
      const readings = await readWhileFinishing(store, sub, 30, async () => [
        await store.deliveryLog.countDeliveries({ subscriptionId: sub.id }),
        (await store.deliveryLog.listDeliveries({ subscriptionId: sub.id, limit: 100 })).items.length,
      ]);
      assert.deepEqual(readings.filter((n) => n !== 30), []);
    });

    it('lists a delivery\'s attempts in order', async () => {
      const { store } = await fresh();
      const sub = subscription();
      await created(store, sub);
      const ev = event();
      const d = delivery(ev, sub);
      await store.queue.enqueue([{ event: ev, deliveries: [d] }]);
      const first = (await store.queue.claimDue(claimAt(T0, 'a')))[0]!;
      const failed = result(first, 'a', 'queued', T0 + 1, T0 + 100);
      await store.queue.recordAttempts([failed], CIRCUIT_DEFAULTS);
      const second = (await store.queue.claimDue(claimAt(T0 + 100, 'b')))[0]!;
      const succeeded = result(second, 'b', 'succeeded', T0 + 101);
      await store.queue.recordAttempts([succeeded], CIRCUIT_DEFAULTS);
      assert.deepEqual(await store.deliveryLog.listAttempts(d.id), [failed.attempt, succeeded.attempt]);
      assert.deepEqual((await store.deliveryLog.listAttempts(d.id)).map((a) => a.attemptNumber), [1, 2]);
      assert.deepEqual(await store.deliveryLog.listAttempts(uuidv7()), []);
    });

    it('retryDelivery queues a finished or queued delivery for a manual attempt now, and refuses what cannot be sent', async () => {
      const { store } = await fresh();
      const sub = subscription();
      await created(store, sub);
      const ev = event();
      const failed = delivery(ev, sub, { status: 'failed', nextAttemptAt: null, attempts: 8 });
      const waiting = delivery(ev, sub, { nextAttemptAt: T0 + HOUR });
      const filtered = delivery(ev, sub, { status: 'filtered', nextAttemptAt: null });
      const inFlight = delivery(ev, sub);
      await store.queue.enqueue([{ event: ev, deliveries: [failed, waiting, filtered, inFlight] }]);
      await store.queue.claimDue(claimAt(T0, 'out'));
      let due = 0;
      const stop = store.queue.onDue(() => due++);

      const retried = await store.deliveryLog.retryDelivery(failed.id, T0 + 10);
      assert.deepEqual([retried?.status, retried?.nextAttemptAt, retried?.manualRetry, retried?.attempts], ['queued', T0 + 10, true, 8]);
      assert.equal((await store.deliveryLog.retryDelivery(waiting.id, T0 + 10))?.nextAttemptAt, T0 + 10, 'a waiting one goes now');
      assert.equal(due, 2);
      assert.equal((await store.deliveryLog.retryDelivery(filtered.id, T0 + 10))?.status, 'filtered', 'unchanged: nothing to send');
      assert.equal((await store.deliveryLog.retryDelivery(inFlight.id, T0 + 10))?.status, 'delivering', 'unchanged: being sent');
      assert.equal(await store.deliveryLog.retryDelivery(uuidv7(), T0), undefined);
      stop();
      assert.equal(due, 2);

      const claimed = await store.queue.claimDue(claimAt(T0 + 10, 'again'));
      assert.deepEqual(claimed.map((c) => c.delivery.id).sort(), [failed.id, waiting.id].sort());
      await store.queue.recordAttempts(claimed.map((c) => result(c, 'again', 'succeeded', T0 + 11, null, { trigger: 'manual' })), CIRCUIT_DEFAULTS);
      assert.equal((await store.deliveryLog.getDelivery(failed.id))?.manualRetry, false, 'the manual attempt was made');
    });

    it('requeueDeliveries moves matching finished deliveries back in batches, each once', async () => {
      const { store } = await fresh();
      const sub = subscription();
      const other = subscription();
      await created(store, sub, other);
      const old = event({ createdAt: T0 - 2 * HOUR });
      const recent = event({ createdAt: T0 });
      const oldFailed = [0, 1, 2].map(() => delivery(old, sub, { status: 'failed', nextAttemptAt: null, attempts: 3 }));
      const recentFailed = delivery(recent, sub, { status: 'failed', nextAttemptAt: null, attempts: 3 });
      const succeeded = delivery(recent, sub, { status: 'succeeded', nextAttemptAt: null, attempts: 1 });
      const othersFailed = delivery(recent, other, { status: 'failed', nextAttemptAt: null, attempts: 3 });
      await store.queue.enqueue([
        { event: old, deliveries: oldFailed },
        { event: recent, deliveries: [recentFailed, succeeded, othersFailed] },
      ]);
      const query = { subscriptionId: sub.id, status: 'failed' as const, until: T0 - HOUR };
      assert.equal(await store.deliveryLog.countDeliveries(query), 3);
      assert.equal(await store.deliveryLog.requeueDeliveries(query, T0 + 1, 2), 2);
      assert.equal(await store.deliveryLog.requeueDeliveries(query, T0 + 1, 2), 1);
      assert.equal(await store.deliveryLog.requeueDeliveries(query, T0 + 1, 2), 0, 'each moves once');
      for (const d of oldFailed) assert.equal((await store.deliveryLog.getDelivery(d.id))?.status, 'queued');
      for (const d of [recentFailed, othersFailed]) assert.equal((await store.deliveryLog.getDelivery(d.id))?.status, 'failed');
      assert.equal(await store.deliveryLog.requeueDeliveries({ subscriptionId: sub.id, status: 'succeeded', since: T0 }, T0 + 1, 10), 1);
      assert.equal((await store.deliveryLog.getDelivery(succeeded.id))?.manualRetry, true);
    });
  });
}
