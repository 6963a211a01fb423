// Content filters applied at ingestion: non-matching events are recorded as filtered and never
// sent (the filter grammar itself is in content-filter.test.ts). Real receivers on loopback, both stores.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, finished, subscribe } from './support/api.ts';
import { ClaimWitness, useDeliveryApp } from './support/delivery-app.ts';
import { STORE_NAMES } from './support/stores.ts';

for (const name of STORE_NAMES) {
  describe(`content filter at ingestion (${name})`, () => {
    const hookd = useDeliveryApp(name);
    const receiver = hookd.receiver;
    let app: App;
    before(() => {
      app = hookd.app;
    });

    test('content filter: evaluated at ingestion, non-matches recorded as filtered; bad filters are 422', async () => {
      const witness = await ClaimWitness.create(app, await receiver());
      const r = await receiver();
      const sub = await subscribe(app, r.url, { event_types: ['order.*'], filter: { 'data.total': { $gte: 100 }, $not: { 'data.test': true } } });
      const small = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'order.created', data: { total: 50 } });
      const big = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'order.created', data: { total: 150 } });
      const test = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'order.created', data: { total: 150, test: true } });
      assert.deepEqual([small.body.status, big.body.status, test.body.status], ['filtered', 'queued', 'filtered']);
      const fan = await call(app, 'POST', '/events', { event_type: 'order.paid', data: { total: 10 } });
      assert.ok(!(await Promise.all(fan.body.delivery_ids.map((id: string) => call(app, 'GET', `/deliveries/${id}`)))).some((d) => d.body.subscription_id === sub));
      assert.equal((await finished(app, big.body.delivery_id)).status, 'succeeded');
      // Claims run on (the witness's delivery is sent) and still pass the filtered ones over.
      await witness.passed();
      for (const filtered of [small, test]) {
        const { body: delivery } = await call(app, 'GET', `/deliveries/${filtered.body.delivery_id}`);
        assert.deepEqual([delivery.status, delivery.attempts], ['filtered', 0]);
      }
      assert.equal(r.requests.length, 1);
      assert.equal(JSON.parse(r.requests[0]!.body.toString()).data.total, 150);
      const bad = await call(app, 'POST', '/subscriptions', { target_url: r.url, filter: { 'data.total': { $regex: '.*' } } });
      assert.deepEqual([bad.status, bad.body.error.code], [422, 'invalid_filter']);
      assert.match(bad.body.error.message, /\$regex/);
      const shown = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
      assert.deepEqual(shown.filter, { 'data.total': { $gte: 100 }, $not: { 'data.test': true } });
    });
  });
}
