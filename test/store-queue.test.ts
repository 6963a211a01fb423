// The Queue contract on each database: the outbox, claims under a lease (fair, capped, FIFO,
// circuits), outcomes written only under the lease, released leases and the next due time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CIRCUIT_DEFAULTS } from '../src/domain/index.ts';
import { StoreNotFoundError } from '../src/store/errors.ts';
import { HOUR, T0, claimAt, claimedIds, created, delivery, event, freshStores, ids, result, subscription } from './support/store-fixtures.ts';
import { STORE_NAMES } from './support/stores.ts';

const written = (records: readonly { written: boolean }[]) => records.map((r) => r.written);

for (const name of STORE_NAMES) {
  describe(`Queue contract (${name})`, () => {
    const fresh = freshStores(name);

    describe('enqueue: the outbox', () => {
      it('is atomic: one bad delivery leaves nothing behind, and says why', async () => {
        const { store, count } = await fresh();
        const sub = subscription();
        await created(store, sub);
        const missing = subscription();

        const e1 = event();
        const e2 = event();
        const good = delivery(e1, sub);
        const bad = delivery(e2, missing);
        await assert.rejects(store.queue.enqueue([{ event: e1, deliveries: [good] }, { event: e2, deliveries: [bad] }]), StoreNotFoundError);
        assert.equal(await store.deliveryLog.getEvent(e1.id), undefined);
        assert.equal(await store.deliveryLog.getEvent(e2.id), undefined);
        assert.equal(await store.deliveryLog.getDelivery(good.id), undefined);

        const e3 = event();
        const first = delivery(e3, sub);
        await assert.rejects(store.queue.enqueue([{ event: e3, deliveries: [first, delivery(e3, missing)] }]), StoreNotFoundError);
        assert.equal(await count('events'), 0);
        assert.equal(await count('deliveries'), 0);

        // The store is still usable after the rollback.
        await store.queue.enqueue([{ event: e3, deliveries: [first] }]);
        assert.equal((await store.deliveryLog.getDelivery(first.id))?.status, 'queued');
      });

      it('keeps the payload bytes exactly as given, and hands them out with the claim', async () => {
        const { store } = await fresh();
        const sub = subscription();
        await created(store, sub);
        const text = Buffer.from('{"b":1,  "a":12345678901234567890, "s":"caf\u00e9 \u2713 \u{1F600}"}\n', 'utf8');
        const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const e1 = event({ payload: new Uint8Array(text) });
        const e2 = event({ payload: new Uint8Array(everyByte) });
        await store.queue.enqueue([
          { event: e1, deliveries: [delivery(e1, sub)] },
          { event: e2, deliveries: [delivery(e2, sub)] },
        ]);
        const got1 = await store.deliveryLog.getEvent(e1.id);
        assert.ok(got1?.payload instanceof Uint8Array);
        assert.ok(Buffer.from(got1.payload).equals(text), Buffer.from(got1.payload).toString('hex'));
        assert.ok(Buffer.from((await store.deliveryLog.getEvent(e2.id))!.payload).equals(everyByte));

        const claimed = await store.queue.claimDue(claimAt(T0, 't'));
        assert.equal(claimed.length, 2);
        for (const c of claimed) {
          const expected = c.delivery.eventId === e1.id ? text : everyByte;
          assert.ok(Buffer.from(c.payload).equals(expected), 'the claim hands out the same bytes');
        }
      });

      it('stores the idempotency key with the event, in the same transaction', async () => {
        const { store } = await fresh();
        const sub = subscription();
        await created(store, sub);
        const ev = event();
        const key = { scope: 'events', key: 'k-1', requestHash: 'abc', response: '{"event_id":"x"}', createdAt: T0 };
        await store.queue.enqueue([{ event: ev, deliveries: [delivery(ev, sub)], idempotency: key }]);
        assert.deepEqual(await store.idempotencyKeys.find('events', 'k-1', T0), key);
      });

      it('announces due work through onDue when it queues deliveries, not for filtered ones alone', async () => {
        const { store } = await fresh();
        const sub = subscription();
        await created(store, sub);
        let calls = 0;
        const stop = store.queue.onDue(() => calls++);
        const filtered = event();
        await store.queue.enqueue([{ event: filtered, deliveries: [delivery(filtered, sub, { status: 'filtered', nextAttemptAt: null })] }]);
        assert.equal(calls, 0);
        const queued = event();
        await store.queue.enqueue([{ event: queued, deliveries: [delivery(queued, sub)] }]);
        assert.equal(calls, 1);
        stop();
        await store.queue.enqueue([{ event: event(), deliveries: [] }]);
        assert.equal(calls, 1);
      });
    });

    describe('claimDue', () => {
      it('leases due deliveries only, and skips inactive subscriptions until they are active again', async () => {
        const { store } = await fresh();
        const active = subscription();
        const inactive = subscription({ active: false });
        await created(store, active, inactive);
        const ev = event();
        const overdue = delivery(ev, active, { nextAttemptAt: T0 - 1000 });
        const dueNow = delivery(ev, active, { nextAttemptAt: T0 });
        const future = delivery(ev, active, { nextAttemptAt: T0 + 1 });
        const paused = delivery(ev, inactive, { nextAttemptAt: T0 - 1000 });
        const finished = delivery(ev, active, { status: 'succeeded', nextAttemptAt: null });
        await store.queue.enqueue([{ event: ev, deliveries: [overdue, dueNow, future, paused, finished] }]);
        assert.equal(await store.queue.nextDueAt(T0), T0 - 1000);

        const claimed = await store.queue.claimDue(claimAt(T0, 'lease-1'));
        assert.deepEqual(claimedIds(claimed), [overdue.id, dueNow.id].sort());
        for (const c of claimed) {
          assert.equal(c.leaseToken, 'lease-1');
          assert.equal(c.delivery.status, 'delivering');
          assert.equal((await store.deliveryLog.getDelivery(c.delivery.id))?.status, 'delivering');
        }
        assert.equal((await store.deliveryLog.getDelivery(future.id))?.nextAttemptAt, T0 + 1);
        assert.deepEqual(await store.queue.claimDue(claimAt(T0, 'lease-2')), []);
        assert.deepEqual(claimedIds(await store.queue.claimDue(claimAt(T0 + 1, 'lease-3'))), [future.id]);

        await store.subscriptions.update({ ...inactive, active: true });
        assert.deepEqual(claimedIds(await store.queue.claimDue(claimAt(T0 + 2, 'lease-4'))), [paused.id], 'reactivated: its waiting delivery goes');
      });

      it('takes at most `limit` deliveries', async () => {
        const { store } = await fresh();
        const sub = subscription();
        await created(store, sub);
        const ev = event();
        const ds = [0, 1, 2].map((i) => delivery(ev, sub, { nextAttemptAt: T0 - 3 + i }));
        await store.queue.enqueue([{ event: ev, deliveries: ds }]);
        const first = await store.queue.claimDue(claimAt(T0, 'a', 2));
        const second = await store.queue.claimDue(claimAt(T0, 'b', 2));
        assert.equal(first.length, 2);
        assert.equal(second.length, 1);
        assert.deepEqual([...claimedIds(first), ...claimedIds(second)].sort(), ids(ds).sort());
      });

      it('holds each subscription to max_in_flight and shares a batch between subscriptions', async () => {
        const { store } = await fresh();
        const capped = subscription({ maxInFlight: 2 });
        const other = subscription();
        await created(store, capped, other);
        const ev = event();
        const cappedDue = [0, 1, 2, 3, 4].map(() => delivery(ev, capped));
        const otherDue = [0, 1, 2].map(() => delivery(ev, other));
        await store.queue.enqueue([{ event: ev, deliveries: [...cappedDue, ...otherDue] }]);

        const first = await store.queue.claimDue(claimAt(T0, 'a', 4));
        const bySubscription = (claimed: typeof first, id: string) => claimed.filter((c) => c.delivery.subscriptionId === id).length;
        assert.equal(bySubscription(first, capped.id), 2, 'capped at its max_in_flight');
        assert.equal(bySubscription(first, other.id), 2, 'the rest of the batch goes to the other subscription');
        assert.equal(bySubscription(await store.queue.claimDue(claimAt(T0, 'b', 10)), capped.id), 0, 'nothing more while two are out');

        const cappedClaim = first.find((c) => c.delivery.subscriptionId === capped.id)!;
        await store.queue.recordAttempts([result(cappedClaim, 'a', 'succeeded', T0 + 1)], CIRCUIT_DEFAULTS);
        const next = await store.queue.claimDue(claimAt(T0 + 2, 'c', 10));
        assert.equal(bySubscription(next, capped.id), 1, 'one slot freed, one more goes');
      });

      it('FIFO: one at a time, in ingestion order, the head holding the rest while it waits', async () => {
        const { store } = await fresh();
        const fifo = subscription({ ordering: 'fifo' });
        await created(store, fifo);
        const ev = event();
        const [head, second, third] = [0, 1, 2].map(() => delivery(ev, fifo));
        await store.queue.enqueue([{ event: ev, deliveries: [head!, second!, third!] }]);

        const [claimed] = await store.queue.claimDue(claimAt(T0, 'a'));
        assert.equal(claimed?.delivery.id, head!.id);
        assert.deepEqual(await store.queue.claimDue(claimAt(T0, 'b')), [], 'one in flight at a time');
        await store.queue.recordAttempts([result(claimed!, 'a', 'queued', T0 + 1, T0 + 1000)], CIRCUIT_DEFAULTS);
        assert.deepEqual(await store.queue.claimDue(claimAt(T0 + 500, 'c')), [], 'the head waits for its retry, and the rest behind it');
        assert.deepEqual(claimedIds(await store.queue.claimDue(claimAt(T0 + 1000, 'd'))), [head!.id]);
      });

      it('an open circuit holds its deliveries until its cool-down, then lets one probe through', async () => {
        const { store } = await fresh();
        const sub = subscription();
        await created(store, sub);
        const ev = event();
        const ds = [0, 1, 2, 3].map(() => delivery(ev, sub));
        await store.queue.enqueue([{ event: ev, deliveries: ds }]);
        const policy = { failureThreshold: 2, cooldownMs: 1000 };
        const claimed = await store.queue.claimDue(claimAt(T0, 'a', 2));
        const records = await store.queue.recordAttempts(claimed.map((c) => result(c, 'a', 'queued', T0 + 10, T0 + 10)), policy);
        assert.deepEqual(records, claimed.map(() => ({ written: true, failingSince: T0 + 10 })), 'each failure reports since when its subscription fails');
        assert.equal((await store.subscriptions.get(sub.id))?.circuit.state, 'open');
        assert.equal(await store.readModels.countOpenCircuits(), 1);

        assert.deepEqual(await store.queue.claimDue({ ...claimAt(T0 + 500, 'b'), circuitCooldownMs: policy.cooldownMs }), [], 'open: nothing goes');
        const probe = await store.queue.claimDue({ ...claimAt(T0 + 1010, 'c'), circuitCooldownMs: policy.cooldownMs });
        assert.equal(probe.length, 1, 'after the cool-down, one probe');
        assert.equal((await store.subscriptions.get(sub.id))?.circuit.state, 'half_open');
        assert.deepEqual(await store.queue.claimDue({ ...claimAt(T0 + 1020, 'd'), circuitCooldownMs: policy.cooldownMs }), [], 'while the probe is out');

        assert.deepEqual(await store.queue.recordAttempts([result(probe[0]!, 'c', 'succeeded', T0 + 1030)], policy), [{ written: true, failingSince: null }]);
        assert.deepEqual((await store.subscriptions.get(sub.id))?.circuit, { state: 'closed', consecutiveFailures: 0, retryAt: null, failingSince: null });
        assert.equal((await store.queue.claimDue(claimAt(T0 + 1040, 'e'))).length, 3, 'closed again: the rest flow');
      });

      it('spends a rate-limited subscription\'s tokens: at most its rate per second', async () => {
        const { store } = await fresh();
        const limited = subscription({ rateLimitPerSecond: 2 });
        await created(store, limited);
        const ev = event();
        await store.queue.enqueue([{ event: ev, deliveries: [0, 1, 2, 3, 4].map(() => delivery(ev, limited)) }]);
        assert.equal((await store.queue.claimDue(claimAt(T0, 'a'))).length, 2, 'a full bucket: one second\'s worth');
        assert.equal((await store.queue.claimDue(claimAt(T0 + 100, 'b'))).length, 0, 'empty');
        assert.equal((await store.queue.claimDue(claimAt(T0 + 600, 'c'))).length, 1, 'half a second later, one token more');
      });
    });

    describe('recordAttempts, releaseLeases and leases', () => {
      it('writes only under the lease that sent the attempt', async () => {
        const { store } = await fresh();
        const sub = subscription();
        await created(store, sub);
        const ev = event();
        const d = delivery(ev, sub);
        await store.queue.enqueue([{ event: ev, deliveries: [d] }]);
        const [claimed] = await store.queue.claimDue(claimAt(T0, 'lease-1', 1));
        assert.ok(claimed);

        assert.deepEqual(written(await store.queue.recordAttempts([result(claimed, 'stale', 'succeeded', T0 + 10)], CIRCUIT_DEFAULTS)), [false]);
        const untouched = await store.deliveryLog.getDelivery(d.id);
        assert.equal(untouched?.status, 'delivering');
        assert.equal(untouched?.attempts, 0);
        assert.deepEqual(await store.deliveryLog.listAttempts(d.id), []);

        const good = result(claimed, 'lease-1', 'queued', T0 + 20, T0 + 60_000);
        assert.deepEqual(written(await store.queue.recordAttempts([result(claimed, 'stale', 'failed', T0 + 20), good], CIRCUIT_DEFAULTS)), [false, true]);
        const retried = await store.deliveryLog.getDelivery(d.id);
        assert.equal(retried?.status, 'queued');
        assert.equal(retried?.attempts, 1);
        assert.equal(retried?.nextAttemptAt, T0 + 60_000);
        assert.equal(retried?.lastAttemptAt, T0 + 20);
        assert.deepEqual(await store.deliveryLog.listAttempts(d.id), [good.attempt]);
        assert.equal(await store.queue.nextDueAt(T0), T0 + 60_000);

        assert.deepEqual(written(await store.queue.recordAttempts([result(claimed, 'lease-1', 'succeeded', T0 + 30)], CIRCUIT_DEFAULTS)), [false], 'a lease is used once');
        assert.equal((await store.deliveryLog.listAttempts(d.id)).length, 1);
      });

      it('an expired lease is claimable again, and then the old token is refused', async () => {
        const { store } = await fresh();
        const sub = subscription();
        await created(store, sub);
        const ev = event();
        const d = delivery(ev, sub);
        await store.queue.enqueue([{ event: ev, deliveries: [d] }]);
        const [first] = await store.queue.claimDue(claimAt(T0, 'old', 1, 1000));
        assert.ok(first);
        assert.deepEqual(await store.queue.claimDue(claimAt(T0 + 999, 'new', 1, 5000)), [], 'lease still held');
        const [second] = await store.queue.claimDue(claimAt(T0 + 1000, 'new', 1, 5000));
        assert.equal(second?.delivery.id, d.id);
        assert.equal(second?.leaseToken, 'new');

        assert.deepEqual(written(await store.queue.recordAttempts([result(first, 'old', 'succeeded', T0 + 1100)], CIRCUIT_DEFAULTS)), [false]);
        assert.deepEqual(written(await store.queue.recordAttempts([result(second!, 'new', 'succeeded', T0 + 1200)], CIRCUIT_DEFAULTS)), [true]);
        const done = await store.deliveryLog.getDelivery(d.id);
        assert.equal(done?.status, 'succeeded');
        assert.equal(done?.attempts, 1);
        assert.equal(await store.queue.nextDueAt(T0), null);
      });

      it('a result with a notice writes the operational event and its delivery with it', async () => {
        const { store } = await fresh();
        const sub = subscription();
        const operations = subscription({ system: true });
        await created(store, sub, operations);
        const ev = event();
        await store.queue.enqueue([{ event: ev, deliveries: [delivery(ev, sub)] }]);
        const [claimed] = await store.queue.claimDue(claimAt(T0, 'l'));
        const opsEvent = event({ eventType: 'delivery.failed' });
        const opsDelivery = delivery(opsEvent, operations, { nextAttemptAt: T0 + 5 });
        const failed = {
          ...result(claimed!, 'l', 'failed', T0 + 5),
          notice: {
            event: { id: opsEvent.id, type: 'delivery.failed' as const, subscriptionId: sub.id, deliveryId: claimed!.delivery.id, reason: 'failed after 1 attempt(s): HTTP 500', createdAt: T0 + 5 },
            delivery: { event: opsEvent, deliveries: [opsDelivery] },
          },
        };
        let due = 0;
        const stop = store.queue.onDue(() => due++);
        await store.queue.recordAttempts([failed], CIRCUIT_DEFAULTS);
        stop();
        assert.equal(due, 1, 'the operations delivery is due work');
        assert.deepEqual((await store.readModels.recentOperationalEvents(5)).map((e) => e.reason), ['failed after 1 attempt(s): HTTP 500']);
        assert.equal((await store.deliveryLog.getDelivery(opsDelivery.id))?.status, 'queued');
      });

      it('releaseLeases puts leased deliveries back, due now; other tokens release nothing', async () => {
        const { store } = await fresh();
        const sub = subscription();
        await created(store, sub);
        const ev = event();
        const ds = [0, 1].map(() => delivery(ev, sub));
        await store.queue.enqueue([{ event: ev, deliveries: ds }]);
        const claimed = await store.queue.claimDue(claimAt(T0, 'mine', 10, HOUR));
        assert.equal(claimed.length, 2);
        let due = 0;
        const stop = store.queue.onDue(() => due++);
        assert.equal(await store.queue.releaseLeases([{ deliveryId: ds[0]!.id, leaseToken: 'not-mine' }], T0 + 5), 0);
        assert.equal(due, 0);
        assert.equal(await store.queue.releaseLeases(claimed.map((c) => ({ deliveryId: c.delivery.id, leaseToken: 'mine' })), T0 + 5), 2);
        stop();
        assert.equal(due, 1);
        for (const d of ds) {
          const got = await store.deliveryLog.getDelivery(d.id);
          assert.deepEqual([got?.status, got?.attempts], ['queued', 0], 'queued again, no attempt spent');
          assert.ok(got!.nextAttemptAt! <= T0 + 5, 'due now');
        }
        assert.equal((await store.queue.claimDue(claimAt(T0 + 5, 'next'))).length, 2, 'claimable at once, not after the lease');
        assert.deepEqual(written(await store.queue.recordAttempts([result(claimed[0]!, 'mine', 'succeeded', T0 + 6)], CIRCUIT_DEFAULTS)), [false]);
      });
    });
  });
}
