// The subscription cache on the ingest path: a change is seen at once by the process that
// made it, and on PostgreSQL by every other process too (LISTEN/NOTIFY), whatever the TTL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, subscribe } from './support/api.ts';
import { eventually } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LONG_TTL = { subscriptionCacheTtlMs: 600_000 };

for (const name of STORE_NAMES) {
  describe(`subscription cache (${name})`, () => {
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

    test('updates and deletes take effect on the next ingest despite a long TTL', async () => {
      const id = await subscribe(app, 'https://example.com/a', { event_types: ['a'] });
      assert.equal((await call(app, 'POST', `/ingest/${id}`, { event_type: 'b' })).body.status, 'filtered');
      await call(app, 'PATCH', `/subscriptions/${id}`, { event_types: ['b'] });
      assert.equal((await call(app, 'POST', `/ingest/${id}`, { event_type: 'b' })).body.status, 'queued');
      assert.equal((await call(app, 'POST', '/events', { event_type: 'b' })).body.deliveries, 1);
      await call(app, 'DELETE', `/subscriptions/${id}`);
      assert.equal((await call(app, 'POST', `/ingest/${id}`, { event_type: 'b' })).status, 404);
      assert.equal((await call(app, 'POST', '/events', { event_type: 'b' })).body.deliveries, 0);
    });
  });
}

if (STORE_NAMES.includes('postgres')) {
  describe('subscription cache across processes (postgres)', () => {
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

    test('a change made through one process is seen by the other without waiting for the TTL', async () => {
      const id = await subscribe(one, 'https://example.com/a');
      assert.equal((await call(two, 'POST', `/ingest/${id}`, { event_type: 'x' })).status, 202);
      assert.equal((await call(two, 'POST', '/events', { event_type: 'x' })).body.deliveries, 1);
      await call(one, 'PATCH', `/subscriptions/${id}`, { active: false });
      // Both lookups must see it: a 409 alone proves nothing about the fan-out list, since an
      // earlier notification (the creation's, arriving late) can have emptied only the by-id entry.
      await eventually(async () => {
        const direct = await call(two, 'POST', `/ingest/${id}`, { event_type: 'x' });
        const fanOut = await call(two, 'POST', '/events', { event_type: 'x' });
        return direct.status === 409 && fanOut.body.deliveries === 0 ? true : undefined;
      }, LONG_TTL.subscriptionCacheTtlMs / 10, 'the other process to see the change, long before the TTL');
    });
  });
}
