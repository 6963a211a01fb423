// Idempotency-Key on ingestion: a repeat gets the first answer and makes no new event.
// Real receivers on loopback, both stores.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { uuidv7 } from 'uuidv7';
import type { App } from '../src/app.ts';
import { call, finished, subscribe } from './support/api.ts';
import { useDeliveryApp } from './support/delivery-app.ts';
import { STORE_NAMES } from './support/stores.ts';

for (const name of STORE_NAMES) {
  describe(`Idempotency-Key (${name})`, () => {
    const hookd = useDeliveryApp(name);
    const receiver = hookd.receiver;
    let app: App;
    before(() => {
      app = hookd.app;
    });

    test('Idempotency-Key: repeats get the first answer and no new event; another body is refused', async () => {
      const r = await receiver();
      const sub = await subscribe(app, r.url);
      const key = { 'idempotency-key': `order-${uuidv7()}` };
      const first = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'idem', data: { n: 1 } }, key);
      const again = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'idem', data: { n: 1 } }, key);
      assert.equal(again.status, 202);
      assert.deepEqual(again.body, first.body);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const other = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'idem', data: { n: 2 } }, key);
      assert.deepEqual([other.status, other.body.error.code], [422, 'idempotency_key_reused']);
      // Twenty at once with one key: one event.
      const raceKey = { 'idempotency-key': `race-${uuidv7()}` };
      const raced = await Promise.all(Array.from({ length: 20 }, () => call(app, 'POST', `/ingest/${sub}`, { event_type: 'idem.race' }, raceKey)));
      assert.ok(raced.every((a) => a.status === 202), JSON.stringify(raced.map((a) => a.status)));
      assert.equal(new Set(raced.map((a) => a.body.event_id)).size, 1);
      // Fan-out has its own scope.
      const fanKey = { 'idempotency-key': `fan-${uuidv7()}` };
      const fan1 = await call(app, 'POST', '/events', { event_type: 'idem.fan' }, fanKey);
      const fan2 = await call(app, 'POST', '/events', { event_type: 'idem.fan' }, fanKey);
      assert.deepEqual(fan2.body, fan1.body);
      // One delivery each for the first, the raced and the fanned-out event; each sent once.
      const { items } = (await call(app, 'GET', `/subscriptions/${sub}/deliveries`)).body;
      assert.deepEqual(items.map((d: { event_type: string }) => d.event_type).toSorted(), ['idem', 'idem.fan', 'idem.race']);
      for (const delivery of items) assert.equal((await finished(app, delivery.id)).status, 'succeeded');
      assert.deepEqual(r.requests.map((q) => q.headers['webhook-id']).toSorted(), items.map((d: { event_id: string }) => d.event_id).toSorted());
      assert.ok(items.some((d: { event_id: string }) => d.event_id === raced[0]!.body.event_id));
      const bad = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'idem' }, { 'idempotency-key': 'has space' });
      assert.equal(bad.status, 422);
    });
  });
}
