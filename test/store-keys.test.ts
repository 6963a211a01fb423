// The ApiKeys and IdempotencyKeys contracts on each database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import type { ApiKey } from '../src/domain/index.ts';
import { T0, created, delivery, event, freshStores, subscription } from './support/store-fixtures.ts';
import { STORE_NAMES } from './support/stores.ts';

function apiKey(overrides: Partial<ApiKey> = {}): ApiKey {
  return { id: uuidv7(), name: 'ci', prefix: 'hk_abcdefgh', hash: uuidv7().replace(/-/g, ''), applicationId: null, readOnly: false, createdAt: T0, lastUsedAt: null, revokedAt: null, ...overrides };
}

for (const name of STORE_NAMES) {
  describe(`ApiKeys contract (${name})`, () => {
    const fresh = freshStores(name);

    it('create once per hash, list oldest first, touch, revoke once', async () => {
      const { store } = await fresh();
      const keys = store.apiKeys;
      const first = apiKey({ name: null });
      const second = apiKey({ createdAt: T0 + 1 });
      assert.equal(await keys.create(second), true);
      assert.equal(await keys.create(first), true);
      assert.equal(await keys.create({ ...first, id: uuidv7() }), false, 'the same hash twice');
      assert.deepEqual(await keys.list(), [first, second]);

      await keys.touch(first.id, T0 + 50);
      assert.equal(await keys.revoke(second.id, T0 + 60), true);
      assert.equal(await keys.revoke(second.id, T0 + 70), false, 'already revoked');
      assert.equal(await keys.revoke(uuidv7(), T0), false);
      assert.deepEqual(await keys.list(), [{ ...first, lastUsedAt: T0 + 50 }, { ...second, revokedAt: T0 + 60 }]);
    });
  });

  describe(`IdempotencyKeys contract (${name})`, () => {
    const fresh = freshStores(name);

    it('find within the window and scope; deleteExpired in batches', async () => {
      const { store } = await fresh();
      const sub = subscription();
      await created(store, sub);
      const stored = [0, 1, 2].map((i) => ({ scope: 'events', key: `k-${i}`, requestHash: `h${i}`, response: `{"n":${i}}`, createdAt: T0 + i }));
      for (const key of stored) {
        const ev = event();
        await store.queue.enqueue([{ event: ev, deliveries: [delivery(ev, sub)], idempotency: key }]);
      }
      const keys = store.idempotencyKeys;
      assert.deepEqual(await keys.find('events', 'k-1', T0), stored[1]);
      assert.equal(await keys.find('events', 'k-1', T0 + 2), undefined, 'older than the window');
      assert.equal(await keys.find(`ingest:${sub.id}`, 'k-1', T0), undefined, 'another scope');
      assert.equal(await keys.deleteExpired(T0 + 2, 1), 1);
      assert.equal(await keys.deleteExpired(T0 + 2, 5), 1);
      assert.equal(await keys.deleteExpired(T0 + 2, 5), 0);
      assert.deepEqual(await keys.find('events', 'k-2', T0), stored[2]);
    });
  });
}
