// The ingest path's cache of compiled event-type schemas (ingest/event-schemas.ts): synchronous
// while fresh, dropped on every change the store announces, and re-read after its TTL when a
// change came without a notification (as when PostgreSQL's LISTEN connection was down).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventType } from '../src/domain/index.ts';
import { EventSchemas } from '../src/ingest/event-schemas.ts';
import { T0, freshStores } from './support/store-fixtures.ts';
import { STORE_NAMES } from './support/stores.ts';

const TTL = 5_000;

function validating(name: string, schema: Record<string, unknown>): EventType {
  return { name, description: null, schema, example: null, deprecated: false, validate: true, createdAt: T0, updatedAt: T0 };
}

for (const name of STORE_NAMES) {
  describe(`event schema cache (${name})`, () => {
    const fresh = freshStores(name);

    it('answers synchronously while fresh, follows announced changes at once, and unannounced ones after the TTL', async () => {
      const { store, raw } = await fresh();
      let now = T0;
      const schemas = new EventSchemas(store.eventTypes, TTL, () => now);
      try {
        await store.eventTypes.create(validating('n', { type: 'integer' }));
        assert.ok(schemas.check('n', 1) instanceof Promise, 'the first check reads the catalog');
        assert.equal(await schemas.check('n', 1), null);
        assert.equal(schemas.check('other', 'x'), null, 'fresh: answered without waiting');
        assert.deepEqual(schemas.check('n', 'x'), { path: 'data', message: 'must be integer' });

        await store.eventTypes.update({ ...validating('n', { type: 'string' }), updatedAt: T0 + 1 });
        assert.equal(await schemas.check('n', 'x'), null, 'an announced change is read at once');

        // A change no notification announced: the cached schema holds until the TTL is over.
        await raw.updateTable('event_types').set({ schema: JSON.stringify({ type: 'boolean' }) }).where('name', '=', 'n').execute();
        now += TTL - 1;
        assert.equal(await schemas.check('n', 'x'), null, 'within the TTL');
        now += 1;
        assert.deepEqual(await schemas.check('n', 'x'), { path: 'data', message: 'must be boolean' }, 'after the TTL');
      } finally {
        schemas.close();
      }
    });
  });
}
