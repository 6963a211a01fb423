// The EventTypes contract (the event-type catalog) on each database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventType } from '../src/domain/index.ts';
import { T0, freshStores } from './support/store-fixtures.ts';
import { STORE_NAMES } from './support/stores.ts';

function eventType(name: string, overrides: Partial<EventType> = {}): EventType {
  return { name, description: null, schema: null, example: null, deprecated: false, validate: false, createdAt: T0, updatedAt: T0, ...overrides };
}

for (const name of STORE_NAMES) {
  describe(`EventTypes contract (${name})`, () => {
    const fresh = freshStores(name);

    it('create once per name, get, and read the schema and example back as written', async () => {
      const { store } = await fresh();
      const schema = { type: 'object', required: ['z', 'a'], properties: { z: { type: 'string' }, a: { type: 'integer' } } };
      const order = eventType('order.created', { description: 'An order was placed', schema, example: { z: 'x', a: 1 }, validate: true, deprecated: true });
      assert.equal(await store.eventTypes.create(order), true);
      assert.equal(await store.eventTypes.create(eventType('order.created', { description: 'again' })), false, 'the same name twice');
      const read = await store.eventTypes.get('order.created');
      assert.deepEqual(read, order);
      assert.deepEqual(Object.keys(read!.schema!.properties as object), ['z', 'a'], 'key order kept');
      assert.equal(await store.eventTypes.get('Order.created'), undefined, 'names are case-sensitive');
      const scalar = eventType('ping', { example: 'just text' });
      await store.eventTypes.create(scalar);
      assert.deepEqual(await store.eventTypes.get('ping'), scalar);
    });

    it('lists by name, bytewise, page by page', async () => {
      const { store } = await fresh();
      for (const n of ['b', 'a.x', 'B', 'a', 'a-y', '_z']) await store.eventTypes.create(eventType(n));
      const first = await store.eventTypes.list({ limit: 4 });
      assert.deepEqual(first.items.map((t) => t.name), ['B', '_z', 'a', 'a-y']);
      assert.equal(first.nextAfter, 'a-y');
      const second = await store.eventTypes.list({ limit: 4, after: first.nextAfter! });
      assert.deepEqual(second.items.map((t) => t.name), ['a.x', 'b']);
      assert.equal(second.nextAfter, null);
    });

    it('update, delete, and the validating ones', async () => {
      const { store } = await fresh();
      const a = eventType('a');
      await store.eventTypes.create(a);
      await store.eventTypes.create(eventType('b', { schema: { type: 'object' }, validate: true }));
      assert.deepEqual((await store.eventTypes.validating()).map((t) => t.name), ['b']);
      const changed = { ...a, description: 'now described', schema: { type: 'string' }, validate: true, updatedAt: T0 + 5, createdAt: T0 + 99 };
      assert.equal(await store.eventTypes.update(changed), true);
      assert.deepEqual(await store.eventTypes.get('a'), { ...changed, createdAt: T0 }, 'the creation time stays');
      assert.equal(await store.eventTypes.update(eventType('missing')), false);
      assert.deepEqual((await store.eventTypes.validating()).map((t) => t.name), ['a', 'b']);
      assert.equal(await store.eventTypes.delete('b'), true);
      assert.equal(await store.eventTypes.delete('b'), false);
      assert.deepEqual((await store.eventTypes.validating()).map((t) => t.name), ['a']);
    });

    it('announces every change, with the name', async () => {
      const { store } = await fresh();
      const heard: string[] = [];
      const stop = store.eventTypes.onChanged((n) => heard.push(n));
      await store.eventTypes.create(eventType('a'));
      await store.eventTypes.create(eventType('a'));
      await store.eventTypes.update(eventType('a', { deprecated: true }));
      await store.eventTypes.update(eventType('none'));
      await store.eventTypes.delete('a');
      await store.eventTypes.delete('a');
      stop();
      await store.eventTypes.create(eventType('b'));
      assert.deepEqual(heard, ['a', 'a', 'a'], 'create, update, delete: nothing for what did not change');
    });
  });
}
