// The consumer portal's sessions over the API: a short-lived, revocable token for one
// application, which reaches that application's subscriptions and deliveries and nothing
// else (another application, admin routes, the application itself, other portal sessions).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app.ts';
import { call, type Answer } from './support/api.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

for (const name of STORE_NAMES) {
  describe(`consumer portal sessions (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let shiftMs = 0;
    let a: { id: string; subscriptionId: string };
    let b: { id: string; subscriptionId: string };

    const as = (token: string) => (method: string, path: string, body?: unknown): Promise<Answer> => call(app, method, path, body, bearer(token));

    async function application(uid: string) {
      const created = await call(app, 'POST', '/applications', { uid, name: uid.toUpperCase() });
      const subscription = await call(app, 'POST', `/applications/${uid}/subscriptions`, { target_url: `https://${uid}.example.com/hooks` });
      return { id: created.body.id as string, subscriptionId: subscription.body.id as string };
    }

    async function session(app_: string, body: Record<string, unknown> = {}): Promise<Answer> {
      return call(app, 'POST', `/applications/${app_}/portal-sessions`, body);
    }

    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, { role: 'api', clock: () => Date.now() + shiftMs });
      a = await application('portal-a');
      b = await application('portal-b');
    });
    after(async () => {
      await app?.close();
      await target?.cleanup();
    });

    it('hands out a URL on hookd\'s own origin with a token that lasts an hour by default, a week at most', async () => {
      const created = await session('portal-a', { theme: { name: 'Example Inc', accent: '#0a7d52', logo_url: 'https://example.com/logo.png' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.url, `${app.url}/portal#token=${created.body.token}`);
      assert.match(created.body.token, /^hps_[A-Za-z0-9_-]{43}$/);
      const lasts = Date.parse(created.body.expires_at) - Date.now();
      assert.ok(lasts > 3_590_000 && lasts <= 3_600_000 + 1000, String(lasts));
      const info = await as(created.body.token)('GET', '/portal/session');
      assert.deepEqual(info.body, {
        application: { id: a.id, uid: 'portal-a', name: 'PORTAL-A' }, read_only: false, expires_at: created.body.expires_at,
        theme: { name: 'Example Inc', accent: '#0a7d52', logo_url: 'https://example.com/logo.png' },
      });
      assert.equal((await session('portal-a', { expires_in: 7 * 86_400 + 1 })).status, 422);
      assert.equal((await session('portal-a', { theme: { logo_url: 'http://example.com/logo.png' } })).status, 422);
      assert.equal((await call(app, 'GET', '/portal/session')).body.error.code, 'portal_session_not_found');
    });

    it("reaches its application's subscriptions and deliveries, and nothing of another application's or an admin's", async () => {
      const portal = as((await session('portal-a')).body.token);
      assert.deepEqual((await portal('GET', '/subscriptions')).body.items.map((s: { id: string }) => s.id), [a.subscriptionId]);
      const created = await portal('POST', '/subscriptions', { target_url: 'https://portal-a.example.com/second' });
      assert.equal(created.body.application_id, a.id);
      assert.equal((await portal('POST', `/subscriptions/${created.body.id}/secret/rotate`)).status, 200);
      const sent = await portal('POST', `/ingest/${a.subscriptionId}`, { event_type: 'test.event' });
      assert.equal(sent.status, 202);
      assert.equal((await portal('GET', `/deliveries/${sent.body.delivery_id}`)).status, 200);
      assert.equal((await portal('POST', `/subscriptions/${a.subscriptionId}/replay`, {})).status, 202);
      // Another application's records are not found; its application neither.
      for (const path of [`/subscriptions/${b.subscriptionId}`, `/applications/portal-b`, `/applications/portal-b/subscriptions`, `/subscriptions/${b.subscriptionId}/deliveries`]) {
        assert.equal((await portal('GET', path)).status, 404, path);
      }
      assert.equal((await portal('POST', `/ingest/${b.subscriptionId}`, { event_type: 'x' })).status, 404);
      // Admin routes, the application itself and portal sessions are out of reach.
      assert.equal((await portal('GET', '/api-keys')).body.error.code, 'admin_key_required');
      assert.equal((await portal('GET', '/status')).body.error.code, 'admin_key_required');
      assert.equal((await portal('PATCH', '/applications/portal-a', { name: 'mine now' })).body.error.code, 'portal_not_allowed');
      assert.equal((await portal('POST', '/applications/portal-a/portal-sessions', {})).body.error.code, 'portal_not_allowed');
      assert.equal((await portal('GET', '/attempts/stream')).body.error.code, 'portal_not_allowed');
      const metrics = await fetch(`${app.url}/metrics`, { headers: bearer((await session('portal-a')).body.token) });
      assert.equal(metrics.status, 403);
    });

    it('a read-only session changes nothing; revoking ends a session at once; expired sessions are refused', async () => {
      const readOnly = await session('portal-a', { read_only: true });
      assert.equal((await as(readOnly.body.token)('POST', '/subscriptions', { target_url: 'https://example.com/x' })).body.error.code, 'read_only_key');
      assert.equal((await as(readOnly.body.token)('GET', '/subscriptions')).status, 200);

      const revoked = await session('portal-a');
      assert.equal((await as(revoked.body.token)('GET', '/subscriptions')).status, 200);
      // Only through its own application.
      assert.equal((await call(app, 'DELETE', `/applications/portal-b/portal-sessions/${revoked.body.id}`)).body.error.code, 'portal_session_not_found');
      assert.equal((await call(app, 'DELETE', `/applications/portal-a/portal-sessions/${revoked.body.id}`)).status, 204);
      assert.equal((await as(revoked.body.token)('GET', '/subscriptions')).status, 401);

      const short = await session('portal-a', { expires_in: 60 });
      assert.equal((await as(short.body.token)('GET', '/subscriptions')).status, 200);
      shiftMs = 61_000;
      try {
        assert.equal((await as(short.body.token)('GET', '/subscriptions')).status, 401);
      } finally {
        shiftMs = 0;
      }
    });

    it("an application's key opens portal sessions for its own application only", async () => {
      const admin = await call(app, 'POST', '/api-keys', { name: 'admin' });
      const keyB = await call(app, 'POST', '/api-keys', { name: 'b', application: 'portal-b' }, bearer(admin.body.key));
      assert.equal((await call(app, 'POST', '/applications/portal-a/portal-sessions', {}, bearer(keyB.body.key))).status, 404);
      assert.equal((await call(app, 'POST', '/applications/portal-b/portal-sessions', {}, bearer(keyB.body.key))).status, 201);
      // Deleting the application revokes its sessions.
      const before = await call(app, 'POST', '/applications/portal-b/portal-sessions', {}, bearer(admin.body.key));
      assert.equal((await call(app, 'DELETE', '/applications/portal-b', undefined, bearer(admin.body.key))).status, 204);
      assert.equal((await as(before.body.token)('GET', '/subscriptions')).status, 401);
    });
  });
}
