// The Subscriptions contract on each database: records, event-type matching, deletion,
// disabling, and the change announcements every cache relies on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { DEFAULT_APPLICATION_ID, type OperationalNotice, type Subscription } from '../src/domain/index.ts';
import { HOUR, T0, claimAt, claimedIds, created, delivery, event, freshStores, ids, result, subscription } from './support/store-fixtures.ts';
import { STORE_NAMES } from './support/stores.ts';

for (const name of STORE_NAMES) {
  describe(`Subscriptions contract (${name})`, () => {
    const fresh = freshStores(name);

    it('create, get, list, update, delete and count', async () => {
      const { store } = await fresh();
      const subscriptions = store.subscriptions;
      const full = subscription({
        eventTypes: ['order.created', 'user.*'], description: 'everything set', active: false, requireSignedIngest: true,
        retryPolicy: { maxAttempts: 3, initialDelayMs: 1000, backoffFactor: 1.5, maxDelayMs: 60_000, jitter: 0.1 },
        headers: { 'x-api-key': 'abc' }, maxInFlight: 4, rateLimitPerSecond: 2.5, ordering: 'fifo',
        filter: { 'data.total': { $gte: 100 } },
      });
      const plain = subscription({ targetUrl: 'https://example.com/plain', secret: 'plain text secret' });
      const third = subscription({ targetUrl: 'https://example.com/third' });
      await created(store, full, plain, third);

      assert.deepEqual(await subscriptions.get(full.id), full);
      assert.deepEqual(await subscriptions.get(plain.id), plain);
      assert.equal(await subscriptions.get(uuidv7()), undefined);
      assert.equal(await subscriptions.count(), 3);

      const first = await subscriptions.list({ limit: 2 });
      assert.deepEqual(ids(first.items), [full.id, plain.id]);
      assert.equal(first.nextAfter, plain.id);
      const second = await subscriptions.list({ limit: 2, after: first.nextAfter! });
      assert.deepEqual(ids(second.items), [third.id]);
      assert.equal(second.nextAfter, null);
      assert.equal((await subscriptions.list({ limit: 3 })).nextAfter, null);

      const changed: Subscription = {
        ...full, targetUrl: 'https://example.com/changed', eventTypes: null, description: null, active: true,
        retryPolicy: null, headers: {}, filter: null, updatedAt: T0 + 5000, createdAt: T0 + 99_999,
      };
      assert.equal(await subscriptions.update(changed), true);
      assert.deepEqual(await subscriptions.get(full.id), { ...changed, createdAt: T0 }, 'created_at never changes');
      assert.equal(await subscriptions.update(subscription()), false, 'unknown id');

      assert.equal(await subscriptions.delete(plain.id, T0 + 10_000), true);
      assert.equal(await subscriptions.get(plain.id), undefined);
      assert.deepEqual(ids((await subscriptions.list({ limit: 10 })).items), [full.id, third.id]);
      assert.equal(await subscriptions.count(), 2);
      assert.equal(await subscriptions.delete(plain.id, T0 + 20_000), false, 'already deleted');
      assert.equal(await subscriptions.update({ ...plain, description: 'back?' }), false, 'a deleted one cannot be updated');
      assert.equal(await subscriptions.delete(uuidv7(), T0), false);
    });

    it('update with resetHealth closes the circuit and forgets failures; without it, the circuit stays', async () => {
      const { store } = await fresh();
      const sub = subscription();
      await created(store, sub);
      const ev = event();
      const deliveries = [0, 1].map(() => delivery(ev, sub));
      await store.queue.enqueue([{ event: ev, deliveries }]);
      const claimed = await store.queue.claimDue(claimAt(T0, 'l'));
      await store.queue.recordAttempts(claimed.map((c) => result(c, 'l', 'failed', T0 + 1)), { failureThreshold: 2, cooldownMs: 1000 });
      const open = (await store.subscriptions.get(sub.id))!.circuit;
      assert.deepEqual(open, { state: 'open', consecutiveFailures: 2, retryAt: T0 + 1001, failingSince: T0 + 1 });

      await store.subscriptions.update({ ...sub, description: 'renamed', circuit: { state: 'closed', consecutiveFailures: 0, retryAt: null, failingSince: null } });
      assert.deepEqual((await store.subscriptions.get(sub.id))!.circuit, open, 'the circuit is the store\'s to move, not the caller\'s');
      await store.subscriptions.update({ ...sub, description: 'reset' }, { resetHealth: true });
      assert.deepEqual((await store.subscriptions.get(sub.id))!.circuit, { state: 'closed', consecutiveFailures: 0, retryAt: null, failingSince: null });
    });

    it('delete cancels unfinished deliveries and keeps their history', async () => {
      const { store } = await fresh();
      const sub = subscription();
      const other = subscription();
      await created(store, sub, other);
      const ev = event();
      const inFlight = delivery(ev, sub, { nextAttemptAt: T0 - 1000 });
      await store.queue.enqueue([{ event: ev, deliveries: [inFlight] }]);
      const [claimed] = await store.queue.claimDue(claimAt(T0, 'lease', 10, 60_000));
      assert.equal(claimed?.delivery.id, inFlight.id);

      const ev2 = event();
      const due = delivery(ev2, sub);
      const later = delivery(ev2, sub, { nextAttemptAt: T0 + HOUR });
      const done = delivery(ev2, sub, { status: 'succeeded', nextAttemptAt: null, attempts: 1 });
      const othersQueued = delivery(ev2, other);
      await store.queue.enqueue([{ event: ev2, deliveries: [due, later, done, othersQueued] }]);

      assert.equal(await store.subscriptions.delete(sub.id, T0 + 1), true);
      for (const d of [inFlight, due, later]) {
        const got = await store.deliveryLog.getDelivery(d.id);
        assert.equal(got?.status, 'cancelled', `${d.id} is cancelled`);
        assert.equal(got?.nextAttemptAt, null);
      }
      assert.equal((await store.deliveryLog.getDelivery(done.id))?.status, 'succeeded');
      assert.equal((await store.deliveryLog.getDelivery(othersQueued.id))?.status, 'queued');
      const late = await store.queue.recordAttempts([result(claimed!, 'lease', 'succeeded', T0 + 2)], { failureThreshold: 10, cooldownMs: 1000 });
      assert.deepEqual(late.map((r) => r.written), [false], 'the lease went with the cancel');
      assert.deepEqual(claimedIds(await store.queue.claimDue(claimAt(T0 + 2 * HOUR, 'x'))), [othersQueued.id]);
      assert.ok(await store.deliveryLog.getEvent(ev.id), 'events stay readable');
    });

    it('forEventType honours the active flag, deletion, the system flag, null filters and wildcards', async () => {
      const { store } = await fresh();
      const subs = {
        all: subscription({ eventTypes: null }),
        exact: subscription({ eventTypes: ['order.created'] }),
        star: subscription({ eventTypes: ['*'] }),
        prefix: subscription({ eventTypes: ['order.*'] }),
        several: subscription({ eventTypes: ['user.registered', 'order.item.*'] }),
        user: subscription({ eventTypes: ['user.registered'] }),
        inactive: subscription({ eventTypes: null, active: false }),
        deleted: subscription({ eventTypes: ['order.created'] }),
        system: subscription({ eventTypes: null, system: true }),
      };
      await created(store, ...Object.values(subs));
      await store.subscriptions.delete(subs.deleted.id, T0);
      const matching = async (type: string) => ids(await store.subscriptions.forEventType(DEFAULT_APPLICATION_ID, type));

      assert.deepEqual(await matching('order.created'), [subs.all.id, subs.exact.id, subs.star.id, subs.prefix.id]);
      assert.deepEqual(await matching('order.item.added'), [subs.all.id, subs.star.id, subs.prefix.id, subs.several.id]);
      assert.deepEqual(await matching('order'), [subs.all.id, subs.star.id]);
      assert.deepEqual(await matching('orders.created'), [subs.all.id, subs.star.id]);
      assert.deepEqual(await matching('user.registered'), [subs.all.id, subs.star.id, subs.several.id, subs.user.id]);

      await store.subscriptions.update({ ...subs.exact, active: false });
      await store.subscriptions.update({ ...subs.inactive, active: true });
      assert.deepEqual(await matching('order.created'), [subs.all.id, subs.star.id, subs.prefix.id, subs.inactive.id]);

      assert.deepEqual(ids((await store.subscriptions.list({ limit: 50, eventType: 'order.created' })).items),
        [subs.all.id, subs.exact.id, subs.star.id, subs.prefix.id, subs.inactive.id, subs.system.id], 'listing by event type ignores the active flag');
    });

    it('disable deactivates once, with its reason and notice; queued deliveries wait', async () => {
      const { store } = await fresh();
      const sub = subscription();
      await created(store, sub);
      const ev = event();
      const waiting = delivery(ev, sub);
      await store.queue.enqueue([{ event: ev, deliveries: [waiting] }]);
      const notice: OperationalNotice = {
        event: { id: uuidv7(), type: 'subscription.disabled', subscriptionId: sub.id, deliveryId: null, reason: 'the receiver answered 410 Gone', createdAt: T0 + 5 },
        delivery: null,
      };

      assert.equal(await store.subscriptions.disable(sub.id, 'the receiver answered 410 Gone', T0 + 5, notice), true);
      const disabled = await store.subscriptions.get(sub.id);
      assert.equal(disabled?.active, false);
      assert.equal(disabled?.disabledReason, 'the receiver answered 410 Gone');
      assert.deepEqual(await store.readModels.recentOperationalEvents(10), [notice.event]);
      assert.deepEqual(await store.queue.claimDue(claimAt(T0 + 10, 'l')), [], 'its deliveries wait');
      assert.equal((await store.deliveryLog.getDelivery(waiting.id))?.status, 'queued');

      assert.equal(await store.subscriptions.disable(sub.id, 'again', T0 + 6, { ...notice, event: { ...notice.event, id: uuidv7() } }), false, 'already inactive');
      assert.equal((await store.readModels.recentOperationalEvents(10)).length, 1, 'one notice, not two');
      assert.equal(await store.subscriptions.disable(uuidv7(), 'unknown', T0, null), false);
    });

    it('announces every change, with the subscription id', async () => {
      const { store } = await fresh();
      const heard: string[] = [];
      const stop = store.subscriptions.onChanged((id) => heard.push(id));
      const sub = subscription();
      await store.subscriptions.create(sub);
      await store.subscriptions.update({ ...sub, description: 'changed' });
      await store.subscriptions.update(subscription());
      await store.subscriptions.disable(sub.id, 'failing', T0, null);
      await store.subscriptions.delete(sub.id, T0);
      await store.subscriptions.delete(sub.id, T0);
      stop();
      await store.subscriptions.create(subscription());
      assert.deepEqual(heard, [sub.id, sub.id, sub.id, sub.id], 'create, update, disable, delete: nothing for what did not change');
    });
  });
}
