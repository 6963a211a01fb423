// The Store contract, asked directly of each adapter: the same assertions on SQLite and
// PostgreSQL. Every test opens its own store (its own file or schema), so counts are exact.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { openStore } from '../src/store/open-store.ts';
import { postgresMigrations } from '../src/store/postgres/migrations.ts';
import { sqliteMigrations } from '../src/store/sqlite/migrations.ts';
import {
  CLOSED_CIRCUIT,
  type Attempt, type AttemptResult, type ClaimedDelivery, type Delivery, type DeliveryStatus, type EventRecord,
  type Store, type Subscription,
} from '../src/store/store.ts';
import { STORE_NAMES, newTarget, openTestStore, type StoreTarget } from './support/stores.ts';

const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;

function subscription(overrides: Partial<Subscription> = {}): Subscription {
  return {
    id: uuidv7(), targetUrl: 'https://example.com/hook', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    eventTypes: null, description: null, active: true, requireSignedIngest: false, retryPolicy: null,
    headers: {}, previousSecret: null, previousSecretExpiresAt: null, maxInFlight: 100, rateLimitPerSecond: null,
    ordering: 'parallel', filter: null, disabledReason: null, system: false, circuit: CLOSED_CIRCUIT,
    createdAt: T0, updatedAt: T0,
    ...overrides,
  };
}

function event(overrides: Partial<EventRecord> = {}): EventRecord {
  return { id: uuidv7(), eventType: 'order.created', payload: Buffer.from('{"n":1}'), createdAt: T0, ...overrides };
}

function delivery(ev: EventRecord, sub: Subscription, overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: uuidv7(), eventId: ev.id, subscriptionId: sub.id, eventType: ev.eventType, status: 'queued', attempts: 0,
    nextAttemptAt: ev.createdAt, manualRetry: false, lastAttemptAt: null, createdAt: ev.createdAt, updatedAt: ev.createdAt,
    ...overrides,
  };
}

function attempt(deliveryId: string, at: number, overrides: Partial<Attempt> = {}): Attempt {
  return {
    id: uuidv7(), deliveryId, attemptNumber: 1, outcome: 'success', statusCode: 200, errorDetails: null, durationMs: 12,
    responseBody: 'ok', requestHeaders: { 'webhook-id': deliveryId, 'content-type': 'application/json' }, trigger: 'scheduled',
    createdAt: at,
    ...overrides,
  };
}

function result(claimed: ClaimedDelivery | Delivery, leaseToken: string, status: DeliveryStatus, at: number, nextAttemptAt: number | null = null): AttemptResult {
  const d = 'delivery' in claimed ? claimed.delivery : claimed;
  const outcome = status === 'succeeded' ? 'success' : 'http_error';
  return {
    deliveryId: d.id, subscriptionId: d.subscriptionId, leaseToken, status, nextAttemptAt,
    attempt: attempt(d.id, at, { outcome, statusCode: outcome === 'success' ? 200 : 500, attemptNumber: d.attempts + 1 }),
  };
}

function rawDb(store: Store): Kysely<unknown> {
  return (store as unknown as { db: Kysely<unknown> }).db;
}

async function count(store: Store, table: string): Promise<number> {
  const res = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(rawDb(store));
  return Number(res.rows[0]!.n);
}

const ids = (items: readonly { id: string }[]) => items.map((i) => i.id);
const claimedIds = (items: readonly ClaimedDelivery[]) => items.map((c) => c.delivery.id).sort();

for (const name of STORE_NAMES) {
  describe(`store contract (${name})`, () => {
    const targets: StoreTarget[] = [];
    const stores: Store[] = [];
    const migrationCount = Object.keys(name === 'postgres' ? postgresMigrations : sqliteMigrations).length;

    async function fresh(): Promise<Store> {
      const target = newTarget(name);
      targets.push(target);
      const store = await openTestStore(target);
      stores.push(store);
      return store;
    }

    after(async () => {
      for (const store of stores) await store.close();
      for (const target of targets) await target.cleanup();
    });

    it('reports its kind', async () => {
      const store = await fresh();
      assert.equal(store.kind, name);
      await store.ping();
    });

    it('migrate twice is idempotent and keeps the data', async () => {
      const store = await fresh();
      const sub = subscription();
      await store.createSubscription(sub);
      await store.migrate();
      await store.migrate();
      assert.equal(await count(store, 'hookd_migrations'), migrationCount);
      assert.deepEqual(await store.getSubscription(sub.id), sub);
    });

    if (name === 'postgres') {
      it('concurrent migrate() from 4 stores on one new schema applies each migration once, every time', async () => {
        // Several rounds: the race between processes creating one schema is a matter of timing.
        for (let round = 0; round < 4; round++) {
          const target = newTarget(name);
          targets.push(target);
          const four = await Promise.all([1, 2, 3, 4].map(() => openStore(target.database, { schema: target.schema! })));
          stores.push(...four);
          const outcomes = await Promise.allSettled(four.map((s) => s.migrate()));
          for (const outcome of outcomes) {
            assert.equal(outcome.status, 'fulfilled', outcome.status === 'rejected' ? String(outcome.reason) : '');
          }
          assert.equal(await count(four[0]!, 'hookd_migrations'), migrationCount);
          const sub = subscription();
          await four[1]!.createSubscription(sub);
          assert.deepEqual(await four[3]!.getSubscription(sub.id), sub);
        }
      });
    }

    describe('subscriptions', () => {
      it('create, get, list, update and delete', async () => {
        const store = await fresh();
        const full = subscription({
          eventTypes: ['order.created', 'user.*'], description: 'everything set', active: false, requireSignedIngest: true,
          retryPolicy: { maxAttempts: 3, initialDelayMs: 1000, backoffFactor: 1.5, maxDelayMs: 60_000, jitter: 0.1 },
          headers: { 'x-api-key': 'abc' }, maxInFlight: 4, rateLimitPerSecond: 2.5, ordering: 'fifo',
        });
        const plain = subscription({ targetUrl: 'https://example.com/plain', secret: 'plain text secret' });
        const third = subscription({ targetUrl: 'https://example.com/third' });
        for (const s of [full, plain, third]) await store.createSubscription(s);

        assert.deepEqual(await store.getSubscription(full.id), full);
        assert.deepEqual(await store.getSubscription(plain.id), plain);
        assert.equal(await store.getSubscription(uuidv7()), undefined);
        assert.equal(await store.countSubscriptions(), 3);

        const first = await store.listSubscriptions({ limit: 2 });
        assert.deepEqual(ids(first.items), [full.id, plain.id]);
        assert.equal(first.nextAfter, plain.id);
        const second = await store.listSubscriptions({ limit: 2, after: first.nextAfter! });
        assert.deepEqual(ids(second.items), [third.id]);
        assert.equal(second.nextAfter, null);
        assert.equal((await store.listSubscriptions({ limit: 3 })).nextAfter, null);

        const changed: Subscription = {
          ...full, targetUrl: 'https://example.com/changed', eventTypes: null, description: null, active: true,
          retryPolicy: null, headers: {}, updatedAt: T0 + 5000, createdAt: T0 + 99_999,
        };
        assert.equal(await store.updateSubscription(changed), true);
        assert.deepEqual(await store.getSubscription(full.id), { ...changed, createdAt: T0 }, 'created_at never changes');
        assert.equal(await store.updateSubscription(subscription()), false, 'unknown id');

        assert.equal(await store.deleteSubscription(plain.id, T0 + 10_000), true);
        assert.equal(await store.getSubscription(plain.id), undefined);
        assert.deepEqual(ids((await store.listSubscriptions({ limit: 10 })).items), [full.id, third.id]);
        assert.equal(await store.countSubscriptions(), 2);
        assert.equal(await store.deleteSubscription(plain.id, T0 + 20_000), false, 'already deleted');
        assert.equal(await store.updateSubscription({ ...plain, description: 'back?' }), false, 'a deleted one cannot be updated');
        assert.equal(await store.deleteSubscription(uuidv7(), T0), false);
      });

      it('deleteSubscription cancels unfinished deliveries and keeps their history', async () => {
        const store = await fresh();
        const sub = subscription();
        const other = subscription();
        await store.createSubscription(sub);
        await store.createSubscription(other);
        const ev = event();
        const inFlight = delivery(ev, sub, { nextAttemptAt: T0 - 1000 });
        await store.insertEvents([{ event: ev, deliveries: [inFlight] }]);
        const [claimed] = await store.claimDue({ now: T0, limit: 10, leaseToken: 'lease', leaseExpiresAt: T0 + 60_000 });
        assert.equal(claimed?.delivery.id, inFlight.id);

        const ev2 = event();
        const due = delivery(ev2, sub);
        const later = delivery(ev2, sub, { nextAttemptAt: T0 + HOUR });
        const done = delivery(ev2, sub, { status: 'succeeded', nextAttemptAt: null, attempts: 1 });
        const othersQueued = delivery(ev2, other);
        await store.insertEvents([{ event: ev2, deliveries: [due, later, done, othersQueued] }]);

        assert.equal(await store.deleteSubscription(sub.id, T0 + 1), true);
        for (const d of [inFlight, due, later]) {
          const got = await store.getDelivery(d.id);
          assert.equal(got?.status, 'cancelled', `${d.id} is cancelled`);
          assert.equal(got?.nextAttemptAt, null);
        }
        assert.equal((await store.getDelivery(done.id))?.status, 'succeeded');
        assert.equal((await store.getDelivery(othersQueued.id))?.status, 'queued');
        assert.deepEqual(await store.recordAttempts([result(claimed!, 'lease', 'succeeded', T0 + 2)]), [false], 'the lease went with the cancel');
        assert.deepEqual(claimedIds(await store.claimDue({ now: T0 + HOUR * 2, limit: 10, leaseToken: 'x', leaseExpiresAt: T0 + HOUR * 3 })), [othersQueued.id]);
        assert.ok(await store.getEvent(ev.id), 'events stay readable');
      });

      it('subscriptionsForEventType honours the active flag, deletion, null filters and wildcards', async () => {
        const store = await fresh();
        const subs = {
          all: subscription({ eventTypes: null }),
          exact: subscription({ eventTypes: ['order.created'] }),
          star: subscription({ eventTypes: ['*'] }),
          prefix: subscription({ eventTypes: ['order.*'] }),
          several: subscription({ eventTypes: ['user.registered', 'order.item.*'] }),
          user: subscription({ eventTypes: ['user.registered'] }),
          inactive: subscription({ eventTypes: null, active: false }),
          deleted: subscription({ eventTypes: ['order.created'] }),
        };
        for (const s of Object.values(subs)) await store.createSubscription(s);
        await store.deleteSubscription(subs.deleted.id, T0);
        const matching = async (type: string) => ids(await store.subscriptionsForEventType(type));

        assert.deepEqual(await matching('order.created'), [subs.all.id, subs.exact.id, subs.star.id, subs.prefix.id]);
        assert.deepEqual(await matching('order.item.added'), [subs.all.id, subs.star.id, subs.prefix.id, subs.several.id]);
        assert.deepEqual(await matching('order'), [subs.all.id, subs.star.id]);
        assert.deepEqual(await matching('orders.created'), [subs.all.id, subs.star.id]);
        assert.deepEqual(await matching('user.registered'), [subs.all.id, subs.star.id, subs.several.id, subs.user.id]);

        await store.updateSubscription({ ...subs.exact, active: false });
        await store.updateSubscription({ ...subs.inactive, active: true });
        assert.deepEqual(await matching('order.created'), [subs.all.id, subs.star.id, subs.prefix.id, subs.inactive.id]);

        assert.deepEqual(ids((await store.listSubscriptions({ limit: 50, eventType: 'order.created' })).items),
          [subs.all.id, subs.exact.id, subs.star.id, subs.prefix.id, subs.inactive.id], 'listing by event type ignores the active flag');
      });
    });

    describe('events and the outbox', () => {
      it('insertEvents is atomic: one bad delivery leaves nothing behind', async () => {
        const store = await fresh();
        const sub = subscription();
        await store.createSubscription(sub);
        const missing = subscription();

        const e1 = event();
        const e2 = event();
        const good = delivery(e1, sub);
        const bad = delivery(e2, missing);
        await assert.rejects(store.insertEvents([{ event: e1, deliveries: [good] }, { event: e2, deliveries: [bad] }]));
        assert.equal(await store.getEvent(e1.id), undefined);
        assert.equal(await store.getEvent(e2.id), undefined);
        assert.equal(await store.getDelivery(good.id), undefined);

        const e3 = event();
        const first = delivery(e3, sub);
        await assert.rejects(store.insertEvents([{ event: e3, deliveries: [first, delivery(e3, missing)] }]));
        assert.equal(await store.getEvent(e3.id), undefined);
        assert.equal(await store.getDelivery(first.id), undefined);
        assert.equal(await count(store, 'events'), 0);
        assert.equal(await count(store, 'deliveries'), 0);

        // The store is still usable after the rollback.
        await store.insertEvents([{ event: e3, deliveries: [first] }]);
        assert.equal((await store.getDelivery(first.id))?.status, 'queued');
      });

      it('keeps the payload bytes exactly as given', async () => {
        const store = await fresh();
        const sub = subscription();
        await store.createSubscription(sub);
        const text = Buffer.from('{"b":1,  "a":12345678901234567890, "s":"caf\u00e9 \u2713 \u{1F600}"}\n', 'utf8');
        const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const e1 = event({ payload: new Uint8Array(text) });
        const e2 = event({ payload: new Uint8Array(everyByte) });
        await store.insertEvents([
          { event: e1, deliveries: [delivery(e1, sub)] },
          { event: e2, deliveries: [delivery(e2, sub)] },
        ]);
        const got1 = await store.getEvent(e1.id);
        assert.ok(got1?.payload instanceof Uint8Array);
        assert.ok(Buffer.from(got1.payload).equals(text), Buffer.from(got1.payload).toString('hex'));
        assert.ok(Buffer.from((await store.getEvent(e2.id))!.payload).equals(everyByte));
        assert.equal(got1.eventType, 'order.created');
        assert.equal(got1.createdAt, T0);

        const claimed = await store.claimDue({ now: T0, limit: 10, leaseToken: 't', leaseExpiresAt: T0 + 1000 });
        assert.equal(claimed.length, 2);
        for (const c of claimed) {
          const expected = c.delivery.eventId === e1.id ? text : everyByte;
          assert.ok(Buffer.from(c.payload).equals(expected), 'the claim hands out the same bytes');
        }
      });
    });

    describe('the queue', () => {
      it('claimDue leases due deliveries only, and skips inactive subscriptions', async () => {
        const store = await fresh();
        const active = subscription();
        const inactive = subscription({ active: false });
        await store.createSubscription(active);
        await store.createSubscription(inactive);
        const ev = event();
        const overdue = delivery(ev, active, { nextAttemptAt: T0 - 1000 });
        const dueNow = delivery(ev, active, { nextAttemptAt: T0 });
        const future = delivery(ev, active, { nextAttemptAt: T0 + 1 });
        const paused = delivery(ev, inactive, { nextAttemptAt: T0 - 1000 });
        const finished = delivery(ev, active, { status: 'succeeded', nextAttemptAt: null });
        await store.insertEvents([{ event: ev, deliveries: [overdue, dueNow, future, paused, finished] }]);
        assert.equal(await store.nextDueAt(), T0 - 1000);

        const claimed = await store.claimDue({ now: T0, limit: 10, leaseToken: 'lease-1', leaseExpiresAt: T0 + 30_000 });
        assert.deepEqual(claimedIds(claimed), [overdue.id, dueNow.id].sort());
        for (const c of claimed) {
          assert.equal(c.leaseToken, 'lease-1');
          assert.equal(c.delivery.status, 'delivering');
          assert.equal((await store.getDelivery(c.delivery.id))?.status, 'delivering');
        }
        assert.equal((await store.getDelivery(future.id))?.status, 'queued');
        assert.equal((await store.getDelivery(future.id))?.nextAttemptAt, T0 + 1);
        assert.equal((await store.getDelivery(paused.id))?.status, 'queued');
        assert.deepEqual(await store.claimDue({ now: T0, limit: 10, leaseToken: 'lease-2', leaseExpiresAt: T0 + 30_000 }), []);

        const later = await store.claimDue({ now: T0 + 1, limit: 10, leaseToken: 'lease-3', leaseExpiresAt: T0 + 30_000 });
        assert.deepEqual(claimedIds(later), [future.id]);

        await store.updateSubscription({ ...inactive, active: true });
        const resumed = await store.claimDue({ now: T0 + 2, limit: 10, leaseToken: 'lease-4', leaseExpiresAt: T0 + 30_000 });
        assert.deepEqual(claimedIds(resumed), [paused.id], 'reactivated: its waiting delivery goes');
      });

      it('claimDue takes at most `limit` deliveries', async () => {
        const store = await fresh();
        const sub = subscription();
        await store.createSubscription(sub);
        const ev = event();
        const ds = [0, 1, 2].map((i) => delivery(ev, sub, { nextAttemptAt: T0 - 3 + i }));
        await store.insertEvents([{ event: ev, deliveries: ds }]);
        const first = await store.claimDue({ now: T0, limit: 2, leaseToken: 'a', leaseExpiresAt: T0 + 1000 });
        assert.equal(first.length, 2);
        const second = await store.claimDue({ now: T0, limit: 2, leaseToken: 'b', leaseExpiresAt: T0 + 1000 });
        assert.equal(second.length, 1);
        assert.deepEqual([...claimedIds(first), ...claimedIds(second)].sort(), ids(ds).sort());
      });

      it('recordAttempts is fenced by the lease token', async () => {
        const store = await fresh();
        const sub = subscription();
        await store.createSubscription(sub);
        const ev = event();
        const d = delivery(ev, sub);
        await store.insertEvents([{ event: ev, deliveries: [d] }]);
        const [claimed] = await store.claimDue({ now: T0, limit: 1, leaseToken: 'lease-1', leaseExpiresAt: T0 + 30_000 });
        assert.ok(claimed);

        assert.deepEqual(await store.recordAttempts([result(claimed, 'stale', 'succeeded', T0 + 10)]), [false]);
        const untouched = await store.getDelivery(d.id);
        assert.equal(untouched?.status, 'delivering');
        assert.equal(untouched?.attempts, 0);
        assert.equal(untouched?.lastAttemptAt, null);
        assert.deepEqual(await store.listAttempts(d.id), []);

        const good = result(claimed, 'lease-1', 'queued', T0 + 20, T0 + 60_000);
        assert.deepEqual(await store.recordAttempts([result(claimed, 'stale', 'failed', T0 + 20), good]), [false, true]);
        const retried = await store.getDelivery(d.id);
        assert.equal(retried?.status, 'queued');
        assert.equal(retried?.attempts, 1);
        assert.equal(retried?.nextAttemptAt, T0 + 60_000);
        assert.equal(retried?.lastAttemptAt, T0 + 20);
        assert.deepEqual(await store.listAttempts(d.id), [good.attempt]);

        assert.deepEqual(await store.recordAttempts([result(claimed, 'lease-1', 'succeeded', T0 + 30)]), [false], 'a lease is used once');
        assert.equal((await store.getDelivery(d.id))?.attempts, 1);
        assert.equal((await store.listAttempts(d.id)).length, 1);
      });

      it('an expired lease is claimable again, and then the old token is refused', async () => {
        const store = await fresh();
        const sub = subscription();
        await store.createSubscription(sub);
        const ev = event();
        const d = delivery(ev, sub);
        await store.insertEvents([{ event: ev, deliveries: [d] }]);
        const [first] = await store.claimDue({ now: T0, limit: 1, leaseToken: 'old', leaseExpiresAt: T0 + 1000 });
        assert.ok(first);
        assert.deepEqual(await store.claimDue({ now: T0 + 999, limit: 1, leaseToken: 'new', leaseExpiresAt: T0 + 5000 }), [], 'lease still held');
        const [second] = await store.claimDue({ now: T0 + 1000, limit: 1, leaseToken: 'new', leaseExpiresAt: T0 + 5000 });
        assert.equal(second?.delivery.id, d.id);
        assert.equal(second?.leaseToken, 'new');

        assert.deepEqual(await store.recordAttempts([result(first, 'old', 'succeeded', T0 + 1100)]), [false]);
        assert.equal((await store.getDelivery(d.id))?.status, 'delivering');
        assert.deepEqual(await store.recordAttempts([result(second!, 'new', 'succeeded', T0 + 1200)]), [true]);
        const done = await store.getDelivery(d.id);
        assert.equal(done?.status, 'succeeded');
        assert.equal(done?.attempts, 1);
        assert.equal(await store.nextDueAt(), null);
      });

      it('deliveryCounts and queueFigures reflect every state', async () => {
        const store = await fresh();
        const sub = subscription();
        const doomed = subscription();
        await store.createSubscription(sub);
        await store.createSubscription(doomed);
        const empty = await store.queueFigures(T0);
        assert.deepEqual(empty, { depth: 0, dueNow: 0, inFlight: 0, oldestDueAgeMs: 0, succeededLastHour: 0, failedLastHour: 0 });
        assert.deepEqual(await store.deliveryCounts(), { queued: 0, delivering: 0, succeeded: 0, failed: 0, filtered: 0, cancelled: 0 });

        // Four sent long ago: one succeeds, two fail (one more than an hour ago), one is still out.
        const old = event({ createdAt: T0 - 5 * HOUR });
        const sent = [0, 1, 2, 3].map(() => delivery(old, sub));
        await store.insertEvents([{ event: old, deliveries: sent }]);
        const claimed = await store.claimDue({ now: T0 - 4 * HOUR, limit: 10, leaseToken: 'l', leaseExpiresAt: T0 + HOUR });
        assert.equal(claimed.length, 4);
        const byId = new Map(claimed.map((c) => [c.delivery.id, c]));
        assert.deepEqual(await store.recordAttempts([
          result(byId.get(sent[0]!.id)!, 'l', 'succeeded', T0 - 1000),
          result(byId.get(sent[1]!.id)!, 'l', 'failed', T0 - 2 * HOUR),
          result(byId.get(sent[2]!.id)!, 'l', 'failed', T0 - 500),
        ]), [true, true, true]);

        const recent = event({ createdAt: T0 - 10_000 });
        await store.insertEvents([{
          event: recent,
          deliveries: [
            delivery(recent, sub, { nextAttemptAt: T0 - 5000 }),
            delivery(recent, sub, { nextAttemptAt: T0 - 1000 }),
            delivery(recent, sub, { nextAttemptAt: T0 + 60_000 }),
            delivery(recent, sub, { status: 'filtered', nextAttemptAt: null }),
            delivery(recent, doomed, { nextAttemptAt: T0 + 60_000 }),
          ],
        }]);
        await store.deleteSubscription(doomed.id, T0 - 100);

        assert.deepEqual(await store.deliveryCounts(), { queued: 3, delivering: 1, succeeded: 1, failed: 2, filtered: 1, cancelled: 1 });
        assert.deepEqual(await store.queueFigures(T0), {
          depth: 4, dueNow: 2, inFlight: 1, oldestDueAgeMs: 5000, succeededLastHour: 1, failedLastHour: 1,
        });
        assert.deepEqual(await store.pendingFigures(T0), { depth: 4, dueNow: 2, inFlight: 1, oldestDueAgeMs: 5000 });
        const muchLater = await store.queueFigures(T0 + 3 * HOUR);
        assert.equal(muchLater.succeededLastHour, 0);
        assert.equal(muchLater.failedLastHour, 0);
        assert.equal(muchLater.dueNow, 3);
        assert.equal(muchLater.oldestDueAgeMs, 3 * HOUR + 5000);
      });
    });

    describe('retention', () => {
      it('deleteExpired removes only old finished deliveries, their attempts and orphaned events', async () => {
        const store = await fresh();
        const sub = subscription();
        await store.createSubscription(sub);
        const OLD = T0 - 10 * HOUR;

        const e1 = event({ createdAt: OLD });
        const sentOld = delivery(e1, sub);
        const waitingOld = delivery(e1, sub, { nextAttemptAt: T0 + HOUR });
        const e2 = event({ createdAt: OLD });
        const failedOld = delivery(e2, sub, { status: 'failed', nextAttemptAt: null, attempts: 8 });
        const e3 = event({ createdAt: T0 + 1000 });
        const sentRecent = delivery(e3, sub, { status: 'succeeded', nextAttemptAt: null, attempts: 1 });
        const e4 = event({ createdAt: OLD });
        const cancelledOld = delivery(e4, sub, { status: 'cancelled', nextAttemptAt: null });
        const outOld = delivery(e4, sub);
        const filteredOld = delivery(e4, sub, { status: 'filtered', nextAttemptAt: null });
        await store.insertEvents([
          { event: e1, deliveries: [sentOld, waitingOld] },
          { event: e2, deliveries: [failedOld] },
          { event: e3, deliveries: [sentRecent] },
          { event: e4, deliveries: [cancelledOld, outOld, filteredOld] },
        ]);
        const claimed = await store.claimDue({ now: OLD, limit: 10, leaseToken: 'l', leaseExpiresAt: T0 + 2 * HOUR });
        assert.deepEqual(claimedIds(claimed), [sentOld.id, outOld.id].sort());
        const sent = claimed.find((c) => c.delivery.id === sentOld.id)!;
        assert.deepEqual(await store.recordAttempts([result(sent, 'l', 'succeeded', OLD + 1000)]), [true]);
        assert.equal(await count(store, 'attempts'), 1);

        assert.equal(await store.deleteExpired(T0, 2), 2, 'at most one batch');
        assert.equal(await store.deleteExpired(T0, 2), 2);
        assert.equal(await store.deleteExpired(T0, 2), 0);

        for (const gone of [sentOld, failedOld, cancelledOld, filteredOld]) assert.equal(await store.getDelivery(gone.id), undefined);
        assert.equal((await store.getDelivery(waitingOld.id))?.status, 'queued', 'queued ones stay, however old');
        assert.equal((await store.getDelivery(outOld.id))?.status, 'delivering', 'leased ones stay');
        assert.equal((await store.getDelivery(sentRecent.id))?.status, 'succeeded', 'recent ones stay');
        assert.deepEqual(await store.listAttempts(sentOld.id), []);
        assert.equal(await count(store, 'attempts'), 0);
        assert.equal(await store.getEvent(e2.id), undefined, 'its only delivery gone, the event goes');
        assert.ok(await store.getEvent(e1.id), 'still referenced');
        assert.ok(await store.getEvent(e3.id));
        assert.ok(await store.getEvent(e4.id));
        assert.deepEqual(await store.getSubscription(sub.id), sub, 'live subscriptions are never touched');
      });
    });
  });
}
