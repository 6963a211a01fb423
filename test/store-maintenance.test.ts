// The Maintenance contract on each database (migrations, health, secrets at rest,
// retention) and the typed errors every contract raises.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { CIRCUIT_DEFAULTS } from '../src/domain/index.ts';
import { StoreConflictError, StoreUnavailableError } from '../src/store/errors.ts';
import { openStore } from '../src/store/open-store.ts';
import { postgresMigrations } from '../src/store/postgres/migrations.ts';
import { SecretBox, SecretUnavailableError } from '../src/store/secret-box.ts';
import { sqliteMigrations } from '../src/store/sqlite/migrations.ts';
import { countRows, openRawDb } from './support/raw-db.ts';
import { HOUR, T0, claimAt, claimedIds, created, delivery, event, freshStores, result, subscription } from './support/store-fixtures.ts';
import { STORE_NAMES, newTarget } from './support/stores.ts';

for (const name of STORE_NAMES) {
  describe(`Maintenance contract (${name})`, () => {
    const fresh = freshStores(name);
    const migrationCount = Object.keys(name === 'postgres' ? postgresMigrations : sqliteMigrations).length;

    it('reports its kind and answers a ping', async () => {
      const { store } = await fresh();
      assert.equal(store.kind, name);
      await store.maintenance.ping();
    });

    it('migrate twice is idempotent and keeps the data', async () => {
      const { store, count } = await fresh();
      const sub = subscription();
      await created(store, sub);
      await store.maintenance.migrate();
      await store.maintenance.migrate();
      assert.equal(await count('hookd_migrations'), migrationCount);
      assert.deepEqual(await store.subscriptions.get(sub.id), sub);
    });

    if (name === 'postgres') {
      it('concurrent migrate() from 4 stores on one new schema applies each migration once, every time', async (t) => {
        // Several rounds: the race between processes creating one schema is a matter of timing.
        for (let round = 0; round < 4; round++) {
          const target = newTarget(name);
          const four = await Promise.all([1, 2, 3, 4].map(() => openStore(target.database, { schema: target.schema! })));
          t.after(async () => {
            for (const s of four) await s.close();
            await target.cleanup();
          });
          const outcomes = await Promise.allSettled(four.map((s) => s.maintenance.migrate()));
          for (const outcome of outcomes) {
            assert.equal(outcome.status, 'fulfilled', outcome.status === 'rejected' ? String(outcome.reason) : '');
          }
          const raw = openRawDb(target);
          assert.equal(await countRows(raw, 'hookd_migrations'), migrationCount);
          await raw.destroy();
          const sub = subscription();
          await four[1]!.subscriptions.create(sub);
          assert.deepEqual(await four[3]!.subscriptions.get(sub.id), sub);
        }
      });
    }

    it('prepareSecrets seals what was stored in plain text, and refuses a store sealed under another key', async (t) => {
      const target = newTarget(name);
      t.after(() => target.cleanup());
      const plain = await openStore(target.database, target.schema ? { schema: target.schema } : {});
      await plain.maintenance.migrate();
      const sub = subscription({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers: { Authorization: 'Bearer rcv_123' } });
      await plain.subscriptions.create(sub);
      assert.equal(await plain.maintenance.prepareSecrets(), 0, 'nothing to seal without a key');
      await plain.close();

      const key = randomBytes(32);
      const open = (secretKey: Buffer | null) => openStore(target.database, { secrets: new SecretBox(secretKey), ...(target.schema && { schema: target.schema }) });
      const sealing = await open(key);
      assert.equal(await sealing.maintenance.prepareSecrets(), 1);
      assert.equal(await sealing.maintenance.prepareSecrets(), 0, 'once');
      assert.deepEqual(await sealing.subscriptions.get(sub.id), sub, 'read back as it was given');
      await sealing.close();
      const raw = openRawDb(target);
      const row = await raw.selectFrom('subscriptions').select(['secret', 'headers']).where('id', '=', sub.id).executeTakeFirstOrThrow();
      await raw.destroy();
      assert.match(row.secret, /^enc:v1:/);
      assert.doesNotMatch(JSON.stringify(row.headers), /rcv_123/);

      for (const wrong of [null, randomBytes(32)]) {
        const store = await open(wrong);
        await assert.rejects(store.maintenance.prepareSecrets(), SecretUnavailableError);
        await store.close();
      }
    });

    it('deleteExpired removes only old finished deliveries, their attempts and orphaned events', async () => {
      const { store, count } = await fresh();
      const sub = subscription();
      await created(store, sub);
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
      await store.queue.enqueue([
        { event: e1, deliveries: [sentOld, waitingOld] },
        { event: e2, deliveries: [failedOld] },
        { event: e3, deliveries: [sentRecent] },
        { event: e4, deliveries: [cancelledOld, outOld, filteredOld] },
      ]);
      const claimed = await store.queue.claimDue(claimAt(OLD, 'l', 10, 12 * HOUR));
      assert.deepEqual(claimedIds(claimed), [sentOld.id, outOld.id].sort());
      const sent = claimed.find((c) => c.delivery.id === sentOld.id)!;
      await store.queue.recordAttempts([result(sent, 'l', 'succeeded', OLD + 1000)], CIRCUIT_DEFAULTS);
      assert.equal(await count('attempts'), 1);

      const { maintenance, deliveryLog } = store;
      assert.equal(await maintenance.deleteExpired(T0, 2), 2, 'at most one batch');
      assert.equal(await maintenance.deleteExpired(T0, 2), 2);
      assert.equal(await maintenance.deleteExpired(T0, 2), 0);

      for (const gone of [sentOld, failedOld, cancelledOld, filteredOld]) assert.equal(await deliveryLog.getDelivery(gone.id), undefined);
      assert.equal((await deliveryLog.getDelivery(waitingOld.id))?.status, 'queued', 'queued ones stay, however old');
      assert.equal((await deliveryLog.getDelivery(outOld.id))?.status, 'delivering', 'leased ones stay');
      assert.equal((await deliveryLog.getDelivery(sentRecent.id))?.status, 'succeeded', 'recent ones stay');
      assert.equal(await count('attempts'), 0);
      assert.equal(await deliveryLog.getEvent(e2.id), undefined, 'its only delivery gone, the event goes');
      assert.ok(await deliveryLog.getEvent(e1.id), 'still referenced');
      assert.ok(await deliveryLog.getEvent(e4.id));
      assert.deepEqual(await store.subscriptions.get(sub.id), sub, 'live subscriptions are never touched');
    });
  });

  describe(`typed store errors (${name})`, () => {
    const fresh = freshStores(name);

    it('a second row with the same key is a StoreConflictError', async () => {
      const { store } = await fresh();
      const sub = subscription();
      await created(store, sub);
      await assert.rejects(store.subscriptions.create(sub), StoreConflictError);
    });

    it('a closed store answers StoreUnavailableError from every contract', async (t) => {
      const target = newTarget(name);
      t.after(() => target.cleanup());
      const store = await openStore(target.database, target.schema ? { schema: target.schema } : {});
      await store.maintenance.migrate();
      await store.close();
      await assert.rejects(store.maintenance.ping(), StoreUnavailableError);
      await assert.rejects(store.subscriptions.count(), StoreUnavailableError);
      await assert.rejects(store.queue.nextDueAt(T0), StoreUnavailableError);
      await assert.rejects(store.deliveryLog.listDeliveries({ limit: 1 }), StoreUnavailableError);
      await assert.rejects(store.apiKeys.list(), StoreUnavailableError);
    });
  });
}
