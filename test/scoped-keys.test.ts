// Scoped API keys: managed over the API by admin keys (the first one on an open hookd), bound to
// one application or read-only; and the tenant wall proven route by route: an application's
// key and its portal link, each walked over every route of the live OpenAPI document with
// another application's ids, find nothing (404), and its lists and figures show its own
// application alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app.ts';
import { call, type Answer } from './support/api.ts';
import { eventually, startReceiver, type Receiver } from './support/receiver.ts';
import { openStream } from './support/sse.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** What one application holds, for the walk: a subscription with a delivery that has an attempt, and its event. */
interface Holdings {
  app: { id: string; uid: string };
  subscriptionId: string;
  deliveryId: string;
  eventId: string;
}

for (const name of STORE_NAMES) {
  describe(`scoped API keys (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let receiver: Receiver;
    let admin: Record<string, string>;
    let keyA: string;
    let readOnlyA: string;
    let portalA: string;
    let a: Holdings;
    let b: Holdings;

    const as = (key: string | Record<string, string>) => (method: string, path: string, body?: unknown): Promise<Answer> =>
      call(app, method, path, body, typeof key === 'string' ? bearer(key) : key);

    async function populate(uid: string): Promise<Holdings> {
      const created = await as(admin)('POST', '/applications', { uid, name: uid });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const subscription = await as(admin)('POST', `/applications/${uid}/subscriptions`, { target_url: receiver.url });
      const sent = await as(admin)('POST', `/applications/${uid}/events`, { event_type: 'order.created' });
      assert.equal(sent.body.deliveries, 1);
      await eventually(async () => (await as(admin)('GET', `/deliveries/${sent.body.delivery_ids[0]}`)).body.status === 'succeeded' || undefined);
      return { app: created.body, subscriptionId: subscription.body.id, deliveryId: sent.body.delivery_ids[0], eventId: sent.body.event_id };
    }

    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, { config: { allowNetworks: LOOPBACK, pollIntervalMs: 50 } });
      receiver = await startReceiver();
      // On an open hookd, the first key must be an admin key.
      const scoped = await call(app, 'POST', '/api-keys', { name: 'too early', application: 'default' });
      assert.equal(scoped.status, 409);
      assert.equal(scoped.body.error.code, 'first_key_must_be_admin');
      assert.deepEqual((await call(app, 'GET', '/access')).body, { by: 'open', key_id: null, application_id: null, read_only: false });
      const first = await call(app, 'POST', '/api-keys', { name: 'admin' });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body.application_id, null);
      admin = bearer(first.body.key);
      // From now on every request needs a key, at once.
      assert.equal((await call(app, 'GET', '/subscriptions')).status, 401);
      a = await populate('tenant-a');
      b = await populate('tenant-b');
      const key = await as(admin)('POST', '/api-keys', { name: 'a', application: 'tenant-a' });
      assert.equal(key.status, 201);
      assert.equal(key.body.application_id, a.app.id);
      keyA = key.body.key;
      readOnlyA = (await as(admin)('POST', '/api-keys', { name: 'a-ro', application: a.app.id, read_only: true })).body.key;
      const portal = await as(admin)('POST', '/applications/tenant-a/portal-sessions', {});
      assert.equal(portal.status, 201, JSON.stringify(portal.body));
      portalA = portal.body.token;
    });
    after(async () => {
      await app?.close();
      await receiver?.close();
      await target?.cleanup();
    });

    it('lists keys without the keys themselves, only to admins, and revokes at once', async () => {
      const listed = await as(admin)('GET', '/api-keys');
      assert.equal(listed.status, 200);
      assert.ok(listed.body.items.length >= 3);
      for (const item of listed.body.items) assert.equal(item.key, undefined);
      assert.equal(JSON.stringify(listed.body).includes(keyA), false);
      for (const [method, path, body] of [['GET', '/api-keys'], ['POST', '/api-keys', { name: 'x' }], ['DELETE', `/api-keys/${listed.body.items[0].id}`]] as const) {
        const refused = await as(keyA)(method, path, body);
        assert.equal(refused.status, 403, `${method} ${path}`);
        assert.equal(refused.body.error.code, 'admin_key_required');
      }
      const temporary = await as(admin)('POST', '/api-keys', { name: 'temporary', application: 'tenant-a' });
      assert.equal((await as(temporary.body.key)('GET', '/subscriptions')).status, 200);
      assert.equal((await as(admin)('DELETE', `/api-keys/${temporary.body.id}`)).status, 204);
      assert.equal((await as(temporary.body.key)('GET', '/subscriptions')).status, 401);
      assert.equal((await as(admin)('DELETE', `/api-keys/${temporary.body.id}`)).body.error.code, 'api_key_not_found');
    });

    it('GET /access tells each credential what it may do', async () => {
      const keys = (await as(admin)('GET', '/api-keys')).body.items as { id: string; name: string }[];
      const idOf = (name: string) => keys.find((k) => k.name === name)!.id;
      assert.deepEqual((await as(admin)('GET', '/access')).body, { by: 'key', key_id: idOf('admin'), application_id: null, read_only: false });
      assert.deepEqual((await as(keyA)('GET', '/access')).body, { by: 'key', key_id: idOf('a'), application_id: a.app.id, read_only: false });
      assert.deepEqual((await as(readOnlyA)('GET', '/access')).body, { by: 'key', key_id: idOf('a-ro'), application_id: a.app.id, read_only: true });
      assert.deepEqual((await as(portalA)('GET', '/access')).body, { by: 'portal', key_id: null, application_id: a.app.id, read_only: false });
      const refused = await call(app, 'GET', '/access');
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error.code, 'unauthorized');
    });

    it("an application key works on its own application through the flat paths and sees nothing else", async () => {
      const own = as(keyA);
      const subscriptions = await own('GET', '/subscriptions');
      assert.deepEqual(subscriptions.body.items.map((s: { id: string }) => s.id), [a.subscriptionId]);
      assert.deepEqual((await own('GET', '/applications')).body.items.map((x: { id: string }) => x.id), [a.app.id]);
      const deliveries = await own('GET', '/deliveries');
      assert.deepEqual(deliveries.body.items.map((d: { id: string }) => d.id), [a.deliveryId]);
      // Created through the flat path, a subscription joins the key's application; /events fans out there.
      const created = await own('POST', '/subscriptions', { target_url: 'https://example.com/a-flat', active: false });
      assert.equal(created.body.application_id, a.app.id);
      const sent = await own('POST', '/events', { event_type: 'other.type' });
      assert.equal(sent.status, 202);
      assert.equal((await own('GET', `/events/${sent.body.event_id}`)).body.application_id, a.app.id);
      assert.equal((await own('GET', '/subscriptions?application=tenant-b')).status, 404);
      assert.equal((await own('GET', '/status')).body.error.code, 'admin_key_required');
      assert.equal((await own('POST', '/applications', { uid: 'mine', name: 'x' })).body.error.code, 'admin_key_required');
      assert.equal((await own('DELETE', '/applications/tenant-a')).body.error.code, 'admin_key_required');
      // A's figures: its two deliveries (the event above reached its active subscription) and their attempts.
      const stats = await eventually(async () => {
        const answer = await own('GET', '/stats');
        return answer.body.attempts.succeeded === 2 ? answer : undefined;
      });
      assert.equal(stats.body.deliveries.last_hour, 2);
      assert.equal(stats.body.attempts.total, 2);
      assert.deepEqual(stats.body.subscriptions.inactive.map((s: { id: string }) => s.id), [created.body.id]);
      const statsB = await as(admin)('GET', '/stats?application=tenant-b');
      assert.equal(statsB.body.deliveries.last_hour, 1);
      assert.equal(statsB.body.attempts.succeeded, 1);
      assert.equal((await own('DELETE', `/subscriptions/${created.body.id}`)).status, 204);
    });

    it("an application key's live stream carries its own attempts only, the backlog and new ones", async () => {
      const stream = await openStream(`${app.url}/api/v1/attempts/stream?backlog=100`, bearer(keyA));
      try {
        assert.equal(stream.response.status, 200);
        await eventually(() => stream.events.some((e) => e.data.delivery_id === a.deliveryId) || undefined);
        const sentB = await as(admin)('POST', '/applications/tenant-b/events', { event_type: 'order.created' });
        const sentA = await as(admin)('POST', '/applications/tenant-a/events', { event_type: 'order.created' });
        await eventually(() => stream.events.some((e) => e.data.delivery_id === sentA.body.delivery_ids[0]) || undefined);
        await eventually(async () => (await as(admin)('GET', `/deliveries/${sentB.body.delivery_ids[0]}`)).body.status === 'succeeded' || undefined);
        const seen = stream.events.map((e) => e.data.subscription_id);
        assert.ok(!seen.includes(b.subscriptionId), 'no attempt of B');
        assert.equal((await as(keyA)('GET', '/attempts/stream?application=tenant-b')).status, 404);
      } finally {
        await stream.close();
      }
    });

    it('a read-only key reads and changes nothing (403 read_only_key)', async () => {
      const ro = as(readOnlyA);
      assert.equal((await ro('GET', `/subscriptions/${a.subscriptionId}`)).status, 200);
      for (const [method, path, body] of [
        ['POST', '/subscriptions', { target_url: 'https://example.com/ro' }],
        ['PATCH', `/subscriptions/${a.subscriptionId}`, { active: false }],
        ['DELETE', `/subscriptions/${a.subscriptionId}`],
        ['POST', '/events', { event_type: 'x' }],
        ['POST', `/deliveries/${a.deliveryId}/retry`],
      ] as const) {
        const refused = await ro(method, path, body);
        assert.equal(refused.status, 403, `${method} ${path}`);
        assert.equal(refused.body.error.code, 'read_only_key');
      }
      assert.equal((await ro('GET', `/subscriptions/${a.subscriptionId}`)).body.active, true);
    });

    // The same walk for each kind of holder of application A's access: its API key and a portal link.
    for (const [holder, tenantA] of [['key', () => keyA], ['portal link', () => portalA]] as const) {
      it(`walks every route of the OpenAPI document with one application's ${holder} against another's ids: 404 everywhere`, async () => {
        const doc = await (await fetch(`${app.url}/docs/json`)).json() as { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> };
        const keyIds = (await as(admin)('GET', '/api-keys')).body.items.map((k: { id: string }) => k.id);
        const walked: string[] = [];
        for (const [template, operations] of Object.entries<Record<string, { parameters?: { in: string; name: string }[] }>>(doc.paths)) {
          if (!template.startsWith('/api/v1/')) continue;
          for (const [method, operation] of Object.entries(operations)) {
            const params = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
            if (params.length === 0) continue;
            // Each path id is B's record of the kind the path names.
            const path = template.replace(/\{(\w+)\}/g, (_, param: string) => {
              if (param === 'app') return b.app.uid;
              if (param === 'subscription_id') return b.subscriptionId;
              if (template.startsWith('/api/v1/api-keys/')) return keyIds[0];
              if (/\/(deliveries|ingest\/delivery)\/\{id\}/.test(template)) return b.deliveryId;
              if (template.startsWith('/api/v1/events/')) return b.eventId;
              return b.subscriptionId;
            }).slice('/api/v1'.length);
            const upper = method.toUpperCase();
            const answer = await as(tenantA())(upper, path, ['POST', 'PUT', 'PATCH'].includes(upper) ? {} : undefined);
            walked.push(`${upper} ${template}`);
            // The event-type catalog is shared by every application: reading an unknown name is
            // 404 as anywhere, changing the catalog is for admins.
            if (template.startsWith('/api/v1/event-types') && upper !== 'GET') {
              assert.equal(answer.status, 403, `${upper} ${template}: ${JSON.stringify(answer.body)}`);
              continue;
            }
            if (template.startsWith('/api/v1/api-keys')) {
              assert.equal(answer.status, 403, `${upper} ${template}: ${JSON.stringify(answer.body)}`);
              continue;
            }
            assert.equal(answer.status, 404, `${upper} ${template}: ${JSON.stringify(answer.body)}`);
            assert.match(answer.body.error.code, /_not_found$/);
          }
        }
        assert.ok(walked.length >= 20, walked.join('\n'));
        // Nothing of B's moved.
        const stillB = await as(admin)('GET', `/subscriptions/${b.subscriptionId}`);
        assert.equal(stillB.status, 200);
        assert.equal(stillB.body.active, true);
        assert.equal((await as(admin)('GET', `/applications/${b.app.id}`)).status, 200);
        // And every list or figure answered to A's holder names nothing of B's.
        for (const [template, operations] of Object.entries<Record<string, { parameters?: { in: string }[] }>>(doc.paths)) {
          if (!template.startsWith('/api/v1/') || template.includes('{') || !operations.get || template.endsWith('/stream')) continue;
          const answer = await as(tenantA())('GET', template.slice('/api/v1'.length));
          const text = JSON.stringify(answer.body ?? '');
          for (const id of [b.app.id, b.subscriptionId, b.deliveryId, b.eventId]) assert.ok(!text.includes(id), `GET ${template} shows ${id}`);
        }
      });
    }
  });
}
