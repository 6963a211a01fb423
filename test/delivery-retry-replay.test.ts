// Operators sending deliveries again: a manual retry of one, a bulk replay of many.
// Real receivers on loopback, both stores.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, finished, subscribe } from './support/api.ts';
import { FAST_RETRY, useDeliveryApp } from './support/delivery-app.ts';
import { eventually, ok, status } from './support/receiver.ts';
import { STORE_NAMES } from './support/stores.ts';

for (const name of STORE_NAMES) {
  describe(`manual retry and bulk replay (${name})`, () => {
    const hookd = useDeliveryApp(name);
    const receiver = hookd.receiver;
    let app: App;
    before(() => {
      app = hookd.app;
    });

    test('manual retry: a failed delivery is attempted again at once, logged as manual', async () => {
      const r = await receiver();
      r.respond(status(500));
      const sub = await subscribe(app, r.url, { retry_policy: { ...FAST_RETRY, max_attempts: 1 } });
      const ingested = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'retry.me' });
      assert.equal((await finished(app, ingested.body.delivery_id)).status, 'failed');
      r.respond(ok);
      const retried = await call(app, 'POST', `/deliveries/${ingested.body.delivery_id}/retry`);
      assert.deepEqual([retried.status, retried.body.status], [202, 'queued']);
      const done = await finished(app, ingested.body.delivery_id);
      assert.equal(done.status, 'succeeded');
      assert.deepEqual(done.logs.map((l: { trigger: string; outcome: string }) => [l.trigger, l.outcome]), [['scheduled', 'http_error'], ['manual', 'success']]);
      const filtered = await call(app, 'POST', `/ingest/${await subscribe(app, r.url, { event_types: ['x'] })}`, { event_type: 'y' });
      const refused = await call(app, 'POST', `/deliveries/${filtered.body.delivery_id}/retry`);
      assert.deepEqual([refused.status, refused.body.error.code], [409, 'delivery_not_retryable']);
      assert.equal((await call(app, 'POST', '/deliveries/00000000-0000-7000-8000-00000000dead/retry')).status, 404);
    });

    test('bulk replay: failed deliveries go again once, even when asked twice', async () => {
      const r = await receiver();
      r.respond(status(500));
      const sub = await subscribe(app, r.url, { retry_policy: { ...FAST_RETRY, max_attempts: 1 } });
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await call(app, 'POST', `/ingest/${sub}`, { event_type: 'replay', data: { i } })).body.delivery_id);
      for (const id of ids) assert.equal((await finished(app, id)).status, 'failed');
      r.respond(ok);
      const [one, two] = await Promise.all([
        call(app, 'POST', `/subscriptions/${sub}/replay`, { status: 'failed' }),
        call(app, 'POST', `/subscriptions/${sub}/replay`, { status: 'failed' }),
      ]);
      assert.equal(one.status, 202);
      assert.equal(one.body.count, 6);
      assert.ok(two.body.already_running || two.body.count <= 6);
      // The replay runs in the background: wait for every delivery to have gone again. A
      // succeeded delivery is never sent again, so then every request has arrived.
      for (const id of ids) {
        const replayed = await eventually(async () => {
          const { body } = await call(app, 'GET', `/deliveries/${id}`);
          return body.status === 'succeeded' ? body : undefined;
        });
        assert.deepEqual(replayed.logs.map((l: { outcome: string }) => l.outcome), ['http_error', 'success'], 'one failure, then sent exactly once more');
      }
      assert.equal(r.requests.length, 12);
      const none = await call(app, 'POST', `/subscriptions/${sub}/replay`, {});
      assert.equal(none.body.count, 0);
      const future = await call(app, 'POST', `/subscriptions/${sub}/replay`, { status: 'succeeded', since: new Date(Date.now() + 60_000).toISOString() });
      assert.equal(future.body.count, 0);
      assert.equal((await call(app, 'POST', `/subscriptions/${sub}/replay`, { status: 'queued' })).status, 422);
    });
  });
}
