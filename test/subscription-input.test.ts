// What a subscription's settings may hold and what the answer warns about: secret strength
// (new and rotated secrets), NUL characters anywhere in a body (PostgreSQL cannot store them),
// secrets that receivers must load as raw bytes, and target hosts the SSRF guard will refuse.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call } from './support/api.ts';
import { withRawDb } from './support/raw-db.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const STRONG = 'whsec_LEn2DIbz+8l5ICQwbmXpL8AW2ArSdDJN';

for (const name of STORE_NAMES) {
  describe(`subscription input (${name})`, () => {
    let target: StoreTarget;
    let app: App;

    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target);
    });
    after(async () => {
      await app.close();
      await target.cleanup();
    });

    test('new and rotated secrets need 16 bytes (whsec_) or 16 characters (raw): 422 weak_secret; stored weak ones keep working', async () => {
      // Characters are counted as JSON Schema counts them: 15 code points, though 16 UTF-16 units.
      for (const secret of ['whsec_AA', 'whsec_AAAAAAAAAAAAAAAAAAAAA', 'fifteen-chars!!', 'fourteen-chars🔑']) {
        const refused = await call(app, 'POST', '/subscriptions', { target_url: 'https://example.com/', secret });
        assert.deepEqual([refused.status, refused.body.error.code], [422, 'weak_secret'], secret);
        assert.match(refused.body.error.message, /^secret: .*16/);
      }
      for (const secret of ['whsec_AAAAAAAAAAAAAAAAAAAAAA', 'sixteen-chars!!!']) {
        assert.equal((await call(app, 'POST', '/subscriptions', { target_url: 'https://example.com/', secret })).status, 201, secret);
      }
      const id = (await call(app, 'POST', '/subscriptions', { target_url: 'https://example.com/', secret: STRONG })).body.id;
      const rotated = await call(app, 'POST', `/subscriptions/${id}/secret/rotate`, { secret: 'whsec_AA' });
      assert.deepEqual([rotated.status, rotated.body.error.code], [422, 'weak_secret']);
      const patched = await call(app, 'PATCH', `/subscriptions/${id}`, { secret: 'short-secret' });
      assert.deepEqual([patched.status, patched.body.error.code], [422, 'weak_secret']);
      // A weak secret stored before the check: changing other settings keeps it, and it signs.
      await withRawDb(target, (db) => db.updateTable('subscriptions').set({ secret: 'whsec_AA' }).where('id', '=', id).execute());
      await app.close();
      app = await startTestApp(target);
      assert.equal((await call(app, 'PATCH', `/subscriptions/${id}`, { description: 'still weak' })).status, 200);
      assert.equal((await call(app, 'GET', `/subscriptions/${id}/secret`)).body.secret, 'whsec_AA');
    });

    test('a NUL character in any string of a subscription is refused with 422 naming the field', async () => {
      const base = { target_url: 'https://example.com/' };
      const cases: [string, Record<string, unknown>][] = [
        ['target_url', { target_url: 'https://example.com/a\u0000b' }],
        ['description', { ...base, description: 'a\u0000b' }],
        ['secret', { ...base, secret: 'a-long-enough-secret\u0000' }],
        ['headers', { ...base, headers: { 'X-Token': 'a\u0000b' } }],
        ['event_types', { ...base, event_types: ['order.\u0000'] }],
        ['filter', { ...base, filter: { 'data.kind': 'a\u0000b' } }],
        ['filter', { ...base, filter: { 'data.\u0000': 1 } }],
        ['filter', { ...base, filter: { 'data.kind': { $in: ['x', 'a\u0000'] } } }],
      ];
      const id = (await call(app, 'POST', '/subscriptions', base)).body.id;
      for (const [field, body] of cases) {
        for (const [method, path] of [['POST', '/subscriptions'], ['PUT', `/subscriptions/${id}`]] as const) {
          const refused = await call(app, method, path, body);
          assert.equal(refused.status, 422, `${method} ${field}: ${JSON.stringify(refused.body)}`);
          assert.ok(refused.body.error.message.startsWith(field), refused.body.error.message);
        }
      }
      const rotated = await call(app, 'POST', `/subscriptions/${id}/secret/rotate`, { secret: 'a-long-enough-secret\u0000' });
      assert.equal(rotated.status, 422);
      const spec = (await call(app, 'GET', '/openapi.json')).body;
      const description = spec.components?.schemas ? JSON.stringify(spec) : JSON.stringify(spec.paths['/api/v1/subscriptions'].post);
      assert.ok(description.includes('^[^\\\\u0000]*$'), 'the document states it');
    });

    test('port 0 in target_url is refused: nothing can be connected to there', async () => {
      for (const url of ['http://example.com:0/hook', 'https://example.com:00', 'http://example.com:0?x=1']) {
        const refused = await call(app, 'POST', '/subscriptions', { target_url: url });
        assert.deepEqual([refused.status, refused.body.error.code], [422, 'validation_failed'], url);
        assert.match(refused.body.error.message, /^target_url: port 0/);
      }
      assert.equal((await call(app, 'POST', '/subscriptions', { target_url: 'https://example.com:8443/a:0' })).status, 201);
    });

    test('a secret not in the whsec_ form is accepted with a warning on how receivers load it (create and rotate)', async () => {
      const created = await call(app, 'POST', '/subscriptions', { target_url: 'https://example.com/', secret: 'your-long-secret-key' });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body.warnings.map((w: { code: string }) => w.code), ['raw_secret']);
      assert.match(created.body.warnings[0].message, /format: "raw"/);
      const rotated = await call(app, 'POST', `/subscriptions/${created.body.id}/secret/rotate`, { secret: 'another-long-raw-secret' });
      assert.deepEqual(rotated.body.warnings.map((w: { code: string }) => w.code), ['raw_secret']);
      const back = await call(app, 'POST', `/subscriptions/${created.body.id}/secret/rotate`, {});
      assert.deepEqual(back.body.warnings, [], 'a generated whsec_ secret needs no warning');
      const plain = await call(app, 'POST', '/subscriptions', { target_url: 'https://example.com/' });
      assert.deepEqual(plain.body.warnings, []);
    });

    test('a target host that resolves only to blocked networks is accepted with a warning naming HOOKD_ALLOW_NETWORKS', async () => {
      const created = await call(app, 'POST', '/subscriptions', { target_url: 'http://localhost:9/hook', secret: STRONG });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body.warnings.map((w: { code: string }) => w.code), ['target_host_blocked']);
      assert.match(created.body.warnings[0].message, /localhost.*loopback.*\(HOOKD_ALLOW_NETWORKS can allow it\)$/);
      const open = newTarget(name);
      const allowed = await startTestApp(open, { config: { allowNetworks: ['127.0.0.0/8', '::1/128'] } });
      try {
        const fine = await call(allowed, 'POST', '/subscriptions', { target_url: 'http://localhost:9/hook', secret: STRONG });
        assert.deepEqual(fine.body.warnings, []);
      } finally {
        await allowed.close();
        await open.cleanup();
      }
    });
  });
}
