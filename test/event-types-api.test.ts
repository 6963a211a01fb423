// The event-type catalog over HTTP (/api/v1/event-types) and the validation of ingested data
// against its schemas, on both ingest routes; on PostgreSQL, a change made through one
// process is applied by another at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, subscribe } from './support/api.ts';
import { eventually } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LONG_TTL = { subscriptionCacheTtlMs: 600_000 };
const ORDER_SCHEMA = {
  type: 'object',
  required: ['order_id', 'total'],
  properties: { order_id: { type: 'string' }, total: { type: 'number', minimum: 0 }, items: { type: 'array', items: { type: 'object', required: ['sku'] } } },
};

for (const name of STORE_NAMES) {
  describe(`event-type catalog API (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, { role: 'api', config: LONG_TTL });
    });
    after(async () => {
      await app.close();
      await target.cleanup();
    });

    test('create, read, list by name page by page, change, delete', async () => {
      const created = await call(app, 'POST', '/event-types', { name: 'crud.one', description: 'first', schema: ORDER_SCHEMA, example: { order_id: 'o', total: 1 } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual({ ...created.body, created_at: undefined, updated_at: undefined }, {
        name: 'crud.one', description: 'first', schema: ORDER_SCHEMA, example: { order_id: 'o', total: 1 }, deprecated: false, validate: false, created_at: undefined, updated_at: undefined,
      });
      const again = await call(app, 'POST', '/event-types', { name: 'crud.one' });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'event_type_exists');
      for (const n of ['crud.three', 'crud.two']) assert.equal((await call(app, 'POST', '/event-types', { name: n })).status, 201);
      assert.deepEqual((await call(app, 'GET', '/event-types/crud.one')).body, created.body);

      const first = await call(app, 'GET', '/event-types?limit=2');
      assert.deepEqual(first.body.items.map((t: { name: string }) => t.name), ['crud.one', 'crud.three']);
      assert.equal(first.body.next_cursor, 'crud.three');
      const second = await call(app, 'GET', `/event-types?limit=2&cursor=${first.body.next_cursor}`);
      assert.deepEqual(second.body.items.map((t: { name: string }) => t.name), ['crud.two']);
      assert.equal(second.body.next_cursor, null);
      const badCursor = await call(app, 'GET', '/event-types?cursor=order.*');
      assert.equal(badCursor.status, 422);
      assert.equal(badCursor.body.error.code, 'invalid_cursor');

      const patched = await call(app, 'PATCH', '/event-types/crud.one', { deprecated: true, description: null, example: null });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.deprecated, true);
      assert.equal(patched.body.description, null);
      assert.equal(patched.body.example, null);
      assert.deepEqual(patched.body.schema, ORDER_SCHEMA, 'what the patch leaves out stays');
      assert.equal((await call(app, 'PATCH', '/event-types/crud.one', {})).status, 422, 'an empty patch');

      assert.equal((await call(app, 'DELETE', '/event-types/crud.one')).status, 204);
      for (const [method, path] of [['GET', '/event-types/crud.one'], ['DELETE', '/event-types/crud.one'], ['PATCH', '/event-types/crud.one'], ['GET', '/event-types/order.*']] as const) {
        const answer = await call(app, method, path, method === 'PATCH' ? { deprecated: false } : undefined);
        assert.equal(answer.status, 404, `${method} ${path}`);
        assert.equal(answer.body.error.code, 'event_type_not_found');
      }
    });

    test("listed per application: the catalog, each type with how many of that application's subscriptions receive it", async () => {
      for (const n of ['shop.order.created', 'shop.order.paid', 'shop.user.created']) assert.equal((await call(app, 'POST', '/event-types', { name: n })).status, 201);
      const created = await call(app, 'POST', '/applications', { uid: 'catalog-shop', name: 'Shop' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const other = await call(app, 'POST', '/applications', { uid: 'catalog-other', name: 'Other' });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      const filters = [['shop.order.*'], ['shop.order.created'], null, ['shop.user.created']];
      for (const eventTypes of filters) {
        const made = await call(app, 'POST', '/applications/catalog-shop/subscriptions', { target_url: 'https://example.com/hook', event_types: eventTypes });
        assert.equal(made.status, 201, JSON.stringify(made.body));
      }
      const paused = await call(app, 'POST', '/applications/catalog-shop/subscriptions', { target_url: 'https://example.com/paused', event_types: ['shop.user.*'], active: false });
      assert.equal(paused.status, 201, JSON.stringify(paused.body));
      // Another application's subscriptions are not counted.
      assert.equal((await call(app, 'POST', '/applications/catalog-other/subscriptions', { target_url: 'https://example.com/o', event_types: ['shop.order.paid'] })).status, 201);

      const counts = async (application: string) => {
        const listed = await call(app, 'GET', `/applications/${application}/event-types?limit=100`);
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
        const global = await call(app, 'GET', '/event-types?limit=100');
        assert.deepEqual(listed.body.items.map((t: { name: string }) => t.name), global.body.items.map((t: { name: string }) => t.name), 'the whole catalog, in the same order');
        return Object.fromEntries(listed.body.items.filter((t: { name: string }) => t.name.startsWith('shop.')).map((t: { name: string; subscriptions: number }) => [t.name, t.subscriptions]));
      };
      assert.deepEqual(await counts('catalog-shop'), { 'shop.order.created': 3, 'shop.order.paid': 2, 'shop.user.created': 3 });
      assert.deepEqual(await counts(other.body.id), { 'shop.order.created': 0, 'shop.order.paid': 1, 'shop.user.created': 0 }, 'by id as by uid');

      const entry = (await call(app, 'GET', '/applications/catalog-shop/event-types?limit=100')).body.items.find((t: { name: string }) => t.name === 'shop.order.paid');
      assert.deepEqual({ ...entry, subscriptions: undefined }, { ...(await call(app, 'GET', '/event-types/shop.order.paid')).body, subscriptions: undefined }, 'each entry as the catalog holds it');
      const first = await call(app, 'GET', '/applications/catalog-shop/event-types?limit=1');
      assert.equal(first.body.items.length, 1);
      assert.equal(first.body.next_cursor, first.body.items[0].name);
      const next = await call(app, 'GET', `/applications/catalog-shop/event-types?limit=1&cursor=${first.body.next_cursor}`);
      assert.ok(next.body.items[0].name > first.body.items[0].name, 'the next page follows the cursor');

      const unknown = await call(app, 'GET', '/applications/no-such-app/event-types');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'application_not_found');
      assert.equal((await call(app, 'GET', '/applications/catalog-shop/event-types?cursor=order.*')).body.error.code, 'invalid_cursor');
    });

    test('names follow the event-type syntax; schemas must compile and be small; examples must match; validate needs a schema', async () => {
      const pattern = await call(app, 'POST', '/event-types', { name: 'order.*' });
      assert.equal(pattern.status, 422);
      assert.equal(pattern.body.error.details[0].field, 'name');

      const broken = await call(app, 'POST', '/event-types', { name: 'rules.a', schema: { type: 'nope' } });
      assert.equal(broken.status, 422);
      assert.equal(broken.body.error.code, 'invalid_event_schema');
      assert.match(broken.body.error.message, /^schema: cannot be compiled: /);
      const remote = await call(app, 'POST', '/event-types', { name: 'rules.a', schema: { $ref: 'https://example.com/schema.json' } });
      assert.equal(remote.body.error.code, 'invalid_event_schema', 'references outside the schema are not fetched');
      const huge = await call(app, 'POST', '/event-types', { name: 'rules.a', schema: { description: 'x'.repeat(70_000) } });
      assert.equal(huge.body.error.code, 'invalid_event_schema');
      assert.match(huge.body.error.message, /larger than 65536 bytes/);

      const mismatch = await call(app, 'POST', '/event-types', { name: 'rules.a', schema: ORDER_SCHEMA, example: { order_id: 'o', total: -1 } });
      assert.equal(mismatch.status, 422);
      assert.equal(mismatch.body.error.code, 'validation_failed');
      assert.equal(mismatch.body.error.details[0].field, 'example.total');
      const noSchema = await call(app, 'POST', '/event-types', { name: 'rules.a', validate: true });
      assert.equal(noSchema.body.error.details[0].field, 'validate');
      assert.equal((await call(app, 'GET', '/event-types/rules.a')).status, 404, 'nothing refused was stored');

      const draft07 = await call(app, 'POST', '/event-types', { name: 'rules.b', schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', items: [{ type: 'string' }] } });
      assert.equal(draft07.status, 201, JSON.stringify(draft07.body));
      assert.equal((await call(app, 'PATCH', '/event-types/rules.b', { schema: null, validate: true })).status, 422, 'a patch that leaves validate without a schema');
      const example = await call(app, 'PATCH', '/event-types/rules.b', { schema: { type: 'string' }, example: 'text' });
      assert.equal(example.status, 200, JSON.stringify(example.body));
      assert.equal((await call(app, 'PATCH', '/event-types/rules.b', { schema: { type: 'integer' } })).body.error.details[0].field, 'example', 'the kept example must match a new schema');
    });

    test('ingest refuses data that does not match a validating type, naming the path, on both routes', async () => {
      const id = await subscribe(app, 'https://example.com/hook');
      assert.equal((await call(app, 'POST', '/event-types', { name: 'order.created', schema: ORDER_SCHEMA, validate: true })).status, 201);
      assert.equal((await call(app, 'POST', '/event-types', { name: 'order.noted', schema: ORDER_SCHEMA })).status, 201);

      const good = { order_id: 'ORD-1', total: 5, items: [{ sku: 'a' }] };
      assert.equal((await call(app, 'POST', '/events', { event_type: 'order.created', data: good })).status, 202);
      assert.equal((await call(app, 'POST', `/ingest/${id}`, { event_type: 'order.created', data: good })).status, 202);

      const missing = await call(app, 'POST', '/events', { event_type: 'order.created', data: { total: 5 } });
      assert.equal(missing.status, 422);
      assert.equal(missing.body.error.code, 'event_data_invalid');
      assert.deepEqual(missing.body.error.details, [{ field: 'data.order_id', message: 'is required' }]);
      assert.match(missing.body.error.message, /^data\.order_id: is required \(the schema of event type order\.created\)$/);
      const nested = await call(app, 'POST', `/ingest/${id}`, { event_type: 'order.created', data: { ...good, items: [{ sku: 'a' }, {}] } });
      assert.equal(nested.status, 422);
      assert.equal(nested.body.error.details[0].field, 'data.items.1.sku');
      const byHeader = await call(app, 'POST', '/events', { data: { order_id: 'x', total: -2 } }, { 'x-event-type': 'order.created' });
      assert.equal(byHeader.status, 422);
      assert.equal(byHeader.body.error.details[0].field, 'data.total');
      const noData = await call(app, 'POST', '/events', { event_type: 'order.created' });
      assert.equal(noData.body.error.details[0].field, 'data');

      assert.equal((await call(app, 'POST', '/events', { event_type: 'order.noted', data: 'anything' })).status, 202, 'a type that does not validate');
      assert.equal((await call(app, 'POST', '/events', { event_type: 'not.in.catalog', data: 1 })).status, 202, 'a type not in the catalog');

      // Changes apply to the next event, whatever the TTL.
      assert.equal((await call(app, 'PATCH', '/event-types/order.created', { schema: { type: 'object', required: ['id'] } })).status, 200);
      assert.equal((await call(app, 'POST', '/events', { event_type: 'order.created', data: good })).body.error.details[0].field, 'data.id');
      assert.equal((await call(app, 'PATCH', '/event-types/order.created', { validate: false })).status, 200);
      assert.equal((await call(app, 'POST', '/events', { event_type: 'order.created', data: good })).status, 202);
      assert.equal((await call(app, 'PATCH', '/event-types/order.noted', { validate: true })).status, 200);
      assert.equal((await call(app, 'POST', `/ingest/${id}`, { event_type: 'order.noted', data: 'anything' })).status, 422);
      assert.equal((await call(app, 'DELETE', '/event-types/order.noted')).status, 204);
      assert.equal((await call(app, 'POST', `/ingest/${id}`, { event_type: 'order.noted', data: 'anything' })).status, 202);
    });
  });
}

if (STORE_NAMES.includes('postgres')) {
  describe('event-type validation across processes (postgres)', () => {
    let target: StoreTarget;
    let one: App;
    let two: App;
    before(async () => {
      target = newTarget('postgres');
      one = await startTestApp(target, { role: 'api', config: LONG_TTL });
      two = await startTestApp(target, { role: 'api', config: LONG_TTL });
    });
    after(async () => {
      await one.close();
      await two.close();
      await target.cleanup();
    });

    test('a schema turned on through one process is applied by the other without waiting for the TTL', async () => {
      assert.equal((await call(one, 'POST', '/event-types', { name: 'shared.type', schema: { type: 'integer' } })).status, 201);
      assert.equal((await call(two, 'POST', '/events', { event_type: 'shared.type', data: 'text' })).status, 202, 'not validating yet');
      assert.equal((await call(one, 'PATCH', '/event-types/shared.type', { validate: true })).status, 200);
      await eventually(async () => ((await call(two, 'POST', '/events', { event_type: 'shared.type', data: 'text' })).status === 422 ? true : undefined),
        LONG_TTL.subscriptionCacheTtlMs / 10, 'the other process to validate, long before the TTL');
      assert.equal((await call(two, 'POST', '/events', { event_type: 'shared.type', data: 7 })).status, 202);
    });
  });
}
