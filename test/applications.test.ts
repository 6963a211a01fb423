// Applications (tenants): their CRUD, subscriptions under /applications/{app}, fan-out to one
// application's subscriptions with idempotency keys per application, defaults for new
// subscriptions, the flat API on the default application, and deleting an application
// (its unfinished deliveries cancelled, its history still readable).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app.ts';
import { DEFAULT_APPLICATION_ID } from '../src/domain/index.ts';
import { call, finished, subscribe } from './support/api.ts';
import { eventually, startReceiver, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

async function createApplication(app: App, uid: string, extra: Record<string, unknown> = {}): Promise<{ id: string; uid: string }> {
  const created = await call(app, 'POST', '/applications', { uid, name: `Customer ${uid}`, ...extra });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body;
}

for (const name of STORE_NAMES) {
  describe(`applications (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let receiver: Receiver;

    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, { config: { allowNetworks: LOOPBACK, pollIntervalMs: 50 } });
      receiver = await startReceiver();
    });
    after(async () => {
      await app?.close();
      await receiver?.close();
      await target?.cleanup();
    });

    it('has a default application, which the flat API works on', async () => {
      const byUid = await call(app, 'GET', '/applications/default');
      assert.equal(byUid.status, 200);
      assert.equal(byUid.body.id, DEFAULT_APPLICATION_ID);
      const id = await subscribe(app, 'https://example.com/flat');
      const flat = await call(app, 'GET', `/subscriptions/${id}`);
      assert.equal(flat.body.application_id, DEFAULT_APPLICATION_ID);
      const nested = await call(app, 'GET', `/applications/default/subscriptions/${id}`);
      assert.equal(nested.status, 200);
      assert.equal((await call(app, 'DELETE', '/applications/default')).body.error.code, 'default_application');
    });

    it('creates, reads by id and uid, lists, changes and refuses a taken uid', async () => {
      const created = await createApplication(app, 'crud-1', { metadata: { plan: 'pro' }, subscription_defaults: { max_in_flight: 3 } });
      assert.match(created.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual((await call(app, 'GET', `/applications/${created.id}`)).body, (await call(app, 'GET', '/applications/crud-1')).body);
      const taken = await call(app, 'POST', '/applications', { uid: 'crud-1', name: 'again' });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.error.code, 'application_uid_taken');
      const patched = await call(app, 'PATCH', '/applications/crud-1', { name: 'Renamed', uid: 'crud-1b', metadata: { plan: 'team' } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.name, 'Renamed');
      assert.deepEqual(patched.body.metadata, { plan: 'team' });
      assert.deepEqual(patched.body.subscription_defaults, { max_in_flight: 3 });
      assert.equal((await call(app, 'GET', '/applications/crud-1')).status, 404);
      assert.equal((await call(app, 'GET', '/applications/crud-1b')).body.id, created.id);
      const listed = await call(app, 'GET', '/applications?limit=100');
      assert.ok(listed.body.items.some((a: { id: string }) => a.id === created.id));
      // A uid that looks like an id would make paths ambiguous; metadata is bounded.
      assert.equal((await call(app, 'POST', '/applications', { uid: DEFAULT_APPLICATION_ID, name: 'x' })).status, 422);
      const tooMuch = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
      assert.equal((await call(app, 'POST', '/applications', { uid: 'meta', name: 'x', metadata: tooMuch })).status, 422);
    });

    it("serves subscriptions under /applications/{app}, with the application's defaults, apart from other applications", async () => {
      const a = await createApplication(app, 'subs-a', { subscription_defaults: { max_in_flight: 4, rate_limit_per_second: 5, retry_policy: { max_attempts: 2 } } });
      const b = await createApplication(app, 'subs-b');
      const created = await call(app, 'POST', '/applications/subs-a/subscriptions', { target_url: 'https://example.com/a' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.application_id, a.id);
      assert.equal(created.body.max_in_flight, 4);
      assert.equal(created.body.rate_limit_per_second, 5);
      assert.deepEqual(created.body.retry_policy, { max_attempts: 2 });
      const own = await call(app, 'POST', `/applications/${a.id}/subscriptions`, { target_url: 'https://example.com/a2', max_in_flight: 9 });
      assert.equal(own.body.max_in_flight, 9);
      const inB = await call(app, 'POST', `/applications/${b.id}/subscriptions`, { target_url: 'https://example.com/b' });
      // Each application's list holds its own; another application's subscription is not found under it.
      const listA = await call(app, 'GET', '/applications/subs-a/subscriptions');
      assert.deepEqual(listA.body.items.map((s: { id: string }) => s.id).sort(), [created.body.id, own.body.id].sort());
      assert.equal((await call(app, 'GET', `/applications/subs-a/subscriptions/${inB.body.id}`)).status, 404);
      assert.equal((await call(app, 'PATCH', `/applications/subs-a/subscriptions/${inB.body.id}`, { active: false })).status, 404);
      assert.equal((await call(app, 'DELETE', `/applications/subs-a/subscriptions/${inB.body.id}`)).status, 404);
      // The flat list shows every application's, or one with ?application=.
      const flatA = await call(app, 'GET', '/subscriptions?application=subs-a');
      assert.deepEqual(flatA.body.items.map((s: { id: string }) => s.id).sort(), listA.body.items.map((s: { id: string }) => s.id).sort());
      assert.equal((await call(app, 'GET', '/subscriptions?application=no-such-app')).status, 404);
      assert.equal((await call(app, 'GET', '/applications/no-such-app/subscriptions')).status, 404);
      const patched = await call(app, 'PATCH', `/applications/subs-a/subscriptions/${created.body.id}`, { description: 'changed' });
      assert.equal(patched.body.description, 'changed');
    });

    it("fans an event out to its application's subscriptions only, with idempotency keys per application", async () => {
      const a = await createApplication(app, 'fan-a');
      await createApplication(app, 'fan-b');
      const toA = await call(app, 'POST', '/applications/fan-a/subscriptions', { target_url: receiver.url, event_types: ['order.*'] });
      await call(app, 'POST', '/applications/fan-b/subscriptions', { target_url: receiver.url, event_types: ['order.*'] });
      const headers = { 'idempotency-key': 'same-key' };
      const sent = await call(app, 'POST', '/applications/fan-a/events', { event_type: 'order.created', data: { n: 1 } }, headers);
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      assert.equal(sent.body.deliveries, 1);
      const delivery = await finished(app, sent.body.delivery_ids[0]);
      assert.equal(delivery.status, 'succeeded');
      assert.equal(delivery.subscription_id, toA.body.id);
      const event = await call(app, 'GET', `/events/${sent.body.event_id}`);
      assert.equal(event.body.application_id, a.id);
      // The same key in another application is another request.
      const inB = await call(app, 'POST', '/applications/fan-b/events', { event_type: 'order.created', data: { n: 1 } }, headers);
      assert.equal(inB.headers.get('idempotent-replayed'), null);
      assert.notEqual(inB.body.event_id, sent.body.event_id);
      const again = await call(app, 'POST', '/applications/fan-a/events', { event_type: 'order.created', data: { n: 1 } }, headers);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.event_id, sent.body.event_id);
      // The flat /events goes to the default application, which has no order.* subscription to the receiver here.
      const flat = await call(app, 'POST', '/events', { event_type: 'order.shipped' });
      assert.ok(!flat.body.delivery_ids.includes(toA.body.id));
      const listed = await call(app, 'GET', `/deliveries?application=fan-a`);
      assert.deepEqual(listed.body.items.map((d: { id: string }) => d.id), [sent.body.delivery_ids[0]]);
    });

    it('deleting an application cancels its unfinished deliveries, revokes its subscriptions and keeps its history readable', async () => {
      const gone = await createApplication(app, 'gone');
      // The receiver holds the first delivery in flight while the application is deleted; the
      // second waits behind the rate limit.
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const slow = await startReceiver();
      slow.respond(async (_request, res) => {
        await held;
        res.end('late');
      });
      const sub = await call(app, 'POST', '/applications/gone/subscriptions', { target_url: slow.url, rate_limit_per_second: 0.01 });
      const first = await call(app, 'POST', `/ingest/${sub.body.id}`, { event_type: 'a.b' });
      const second = await call(app, 'POST', `/ingest/${sub.body.id}`, { event_type: 'a.b' });
      assert.equal(second.status, 202);
      await slow.waitFor(1);
      assert.equal((await call(app, 'DELETE', '/applications/gone')).status, 204);
      release();
      await slow.close();
      assert.equal((await call(app, 'GET', '/applications/gone')).status, 404);
      assert.equal((await call(app, 'GET', `/subscriptions/${sub.body.id}`)).status, 404);
      // The second delivery waited behind the rate limit: it was cancelled, not sent.
      const cancelled = await eventually(async () => {
        const d = (await call(app, 'GET', `/deliveries/${second.body.delivery_id}`)).body;
        return d.status === 'queued' || d.status === 'delivering' ? undefined : d;
      });
      assert.equal(cancelled.status, 'cancelled');
      assert.equal((await call(app, 'GET', `/deliveries/${first.body.delivery_id}`)).status, 200);
      assert.equal((await call(app, 'GET', `/subscriptions/${sub.body.id}/deliveries`)).body.items.length, 2);
      assert.equal((await call(app, 'GET', `/deliveries?application=${gone.id}`)).status, 404);
      // The uid is free again.
      await createApplication(app, 'gone');
    });
  });
}
