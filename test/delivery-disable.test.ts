// Stopping deliveries to a subscription: 410 Gone disables it, PATCH active pauses and resumes
// it. (Disabling after failing for too long is in delivery-auto-disable.test.ts.) Real receivers
// on loopback, both stores.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, finished, subscribe } from './support/api.ts';
import { ClaimWitness, useDeliveryApp } from './support/delivery-app.ts';
import { eventually, status } from './support/receiver.ts';
import { STORE_NAMES } from './support/stores.ts';

for (const name of STORE_NAMES) {
  describe(`disabling and pausing subscriptions (${name})`, () => {
    const hookd = useDeliveryApp(name);
    const receiver = hookd.receiver;
    let app: App;
    before(() => {
      app = hookd.app;
    });

    test('410 Gone disables the subscription with the reason, and says so in status', async () => {
      const r = await receiver();
      r.respond(status(410));
      const sub = await subscribe(app, r.url);
      const ingested = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'gone' });
      assert.equal((await finished(app, ingested.body.delivery_id)).status, 'failed');
      const disabled = await eventually(async () => {
        const s = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
        return s.active ? undefined : s;
      });
      assert.match(disabled.disabled_reason, /410 Gone/);
      const refused = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'gone' });
      assert.equal(refused.status, 409);
      const { body } = await call(app, 'GET', '/status');
      const notice = body.operational_events.find((e: { subscription_id: string; type: string }) => e.subscription_id === sub && e.type === 'subscription.disabled');
      assert.ok(notice, 'status lists the subscription.disabled event');
      assert.match(notice.reason, /410/);
    });

    test('PATCH active false holds queued deliveries; true resumes them', async () => {
      const witnessing = await receiver();
      const witness = await ClaimWitness.create(app, witnessing);
      const other = await subscribe(app, witnessing.url, { event_types: ['paused'] });
      const r = await receiver();
      const sub = await subscribe(app, r.url);
      await app.dispatcher!.stop();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await call(app, 'POST', `/ingest/${sub}`, { event_type: 'paused' })).body.delivery_id);
      assert.equal((await call(app, 'PATCH', `/subscriptions/${sub}`, { active: false })).status, 200);
      app.dispatcher!.start();
      const fanOut = await call(app, 'POST', '/events', { event_type: 'paused' });
      const fanned = await Promise.all(fanOut.body.delivery_ids.map(async (id: string) => (await call(app, 'GET', `/deliveries/${id}`)).body.subscription_id));
      assert.deepEqual(fanned, [other], 'an inactive subscription gets no fan-out');
      // The dispatcher claims and sends other deliveries meanwhile, but not these.
      await witness.passed();
      assert.equal(r.requests.length, 0);
      for (const id of ids) assert.equal((await call(app, 'GET', `/deliveries/${id}`)).body.status, 'queued');
      assert.equal((await call(app, 'PATCH', `/subscriptions/${sub}`, { active: true })).status, 200);
      await r.waitFor(3);
      for (const id of ids) assert.equal((await finished(app, id)).status, 'succeeded');
    });
  });
}
