// API keys: the safe default (open on loopback only, refusing elsewhere), Bearer checks on
// every /api/v1 route but health, keys stored only as hashes, signed ingest without a key,
// the `hookd keys` command, and the API rate limit.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startApp, type App, type Role } from '../src/app.ts';
import { decideAccess } from '../src/auth/access-policy.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { withRawDb } from './support/raw-db.ts';
import { call } from './support/api.ts';
import { eventually } from './support/receiver.ts';
import { STORE_NAMES, newTarget, openTestStore, testConfig, type StoreTarget } from './support/stores.ts';

const run = promisify(execFile);
const NODE = new URL('../node_modules/.bin/node', import.meta.url).pathname;
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const KEY = `hk_${'k'.repeat(43)}`;
const OTHER_KEY = `hk_${'o'.repeat(43)}`;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Logs of an app, kept as parsed lines. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger('info', { destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }) };
}

/** A database URL for the CLI that reaches the target's own tables (its Postgres schema). */
function cliDatabaseUrl(target: StoreTarget): string {
  if (target.database.kind === 'sqlite') return target.database.path;
  return `${target.database.url}${target.database.url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${target.schema}`)}`;
}

async function hookd(target: StoreTarget, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(NODE, [MAIN, ...args, '--database-url', cliDatabaseUrl(target)], { env: { PATH: process.env.PATH, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function hubSignature(body: string): string {
  return `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
}

test('the safe default: open only on loopback, refused elsewhere unless --insecure-no-auth', () => {
  // Each HOST with the addresses it stands for (resolveBindAddresses).
  assert.deepEqual(decideAccess({ host: '127.0.0.1', port: 8000, insecureNoAuth: false }, true, ['127.0.0.1']), { openWithoutKeys: true, warning: null });
  for (const [host, addresses] of [['127.0.0.1', ['127.0.0.1']], ['localhost', ['127.0.0.1', '::1']], ['::1', ['::1']]] as const) {
    const open = decideAccess({ host, port: 8000, insecureNoAuth: false }, false, addresses);
    assert.equal(open.openWithoutKeys, true);
    assert.match(open.warning!, /NO AUTHENTICATION/);
  }
  const elsewhere = [['0.0.0.0', ['0.0.0.0']], ['::', ['::']], ['10.0.0.5', ['10.0.0.5']], ['hookd.example.com', ['93.184.215.14']],
    // A name is trusted for what it resolves to, not for its spelling.
    ['localhost', ['192.0.2.2']], ['localhost', ['127.0.0.1', '192.0.2.2']], ['localhost', []]] as const;
  for (const [host, addresses] of elsewhere) {
    assert.throws(() => decideAccess({ host, port: 8000, insecureNoAuth: false }, false, addresses), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /refusing to serve the API on .* without authentication/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    }, `${host} as ${addresses.join(', ')}`);
    const insecure = decideAccess({ host, port: 8000, insecureNoAuth: true }, false, addresses);
    assert.equal(insecure.openWithoutKeys, true);
    assert.match(insecure.warning!, /--insecure-no-auth/);
    // Once a key exists it is required everywhere, flag or not.
    assert.equal(decideAccess({ host, port: 8000, insecureNoAuth: true }, true, addresses).warning, null);
  }
});

test('a malformed HOOKD_API_KEY stops hookd with one line that does not repeat it', () => {
  for (const bad of ['hk_tooshort', `key_${'k'.repeat(43)}`, `hk_${'k'.repeat(40)} x`]) {
    assert.throws(() => loadConfig({ env: { HOOKD_API_KEY: bad } }), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^HOOKD_API_KEY must be "hk_" followed by at least 32/);
      assert.ok(!error.message.includes(bad.trim()));
      return true;
    });
  }
  assert.equal(loadConfig({ env: { HOOKD_API_KEY: ` ${KEY} ` } }).apiKey, KEY);
});

for (const name of STORE_NAMES) {
  describe(`API keys (${name})`, () => {
    const targets: StoreTarget[] = [];
    const apps: App[] = [];

    // Most of these apps share a database with another one: API processes, which send nothing.
    async function start(target: StoreTarget, config: Parameters<typeof testConfig>[1] = {}, logger = captureLogs().logger, role: Role = 'api') {
      const app = await startApp({ config: testConfig(target, config), logger, role, ...(target.schema && { schema: target.schema }) });
      apps.push(app);
      return app;
    }

    /** A new database, migrated so that the CLI finds its Postgres schema. */
    async function fresh(): Promise<StoreTarget> {
      const target = newTarget(name);
      targets.push(target);
      await (await openTestStore(target)).close();
      return target;
    }

    after(async () => {
      for (const app of apps) await app.close();
      for (const target of targets) await target.cleanup();
    });

    test('without any key, a loopback hookd serves openly and warns loudly at start', async () => {
      const logs = captureLogs();
      const app = await start(await fresh(), {}, logs.logger);
      assert.equal((await call(app, 'GET', '/subscriptions')).status, 200);
      const warning = logs.lines.find((line) => line.level === 40 && /NO AUTHENTICATION/.test(String(line.msg)));
      assert.ok(warning, 'a warning about serving without authentication');
    });

    describe('with a key from HOOKD_API_KEY', () => {
      let target: StoreTarget;
      let app: App;
      before(async () => {
        target = await fresh();
        app = await start(target, { apiKey: KEY });
      });

      test('every /api/v1 route needs the key: 401 unauthorized with WWW-Authenticate otherwise', async () => {
        const paths: [string, string, unknown?][] = [
          ['GET', '/subscriptions'], ['POST', '/subscriptions', { target_url: 'https://example.com/' }], ['GET', '/status'],
          ['GET', '/deliveries'], ['POST', '/events', { event_type: 'a.b' }], ['GET', '/no-such-route'],
          ['POST', '/ingest/0190a0e0-0000-7000-8000-000000000000', { event_type: 'a.b' }],
        ];
        for (const [method, path, body] of paths) {
          for (const headers of [{}, bearer(OTHER_KEY), { authorization: `Basic ${Buffer.from(`x:${KEY}`).toString('base64')}` }, { authorization: KEY }]) {
            const answer = await call(app, method, path, body, headers);
            assert.equal(answer.status, 401, `${method} ${path} with ${JSON.stringify(headers)}: ${JSON.stringify(answer.body)}`);
            assert.equal(answer.body.error.code, 'unauthorized');
            assert.match(answer.body.error.message, /API key/);
            assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer/);
          }
        }
        assert.equal((await call(app, 'GET', '/subscriptions', undefined, bearer(KEY))).status, 200);
        assert.equal((await call(app, 'GET', '/subscriptions', undefined, { authorization: `bearer  ${KEY}` })).status, 200);
      });

      test('health and the OpenAPI document stay open; /metrics needs the key', async () => {
        assert.equal((await call(app, 'GET', '/health')).status, 200);
        assert.equal((await fetch(`${app.url}/api/v1/openapi.json`)).status, 200);
        assert.equal((await fetch(`${app.url}/metrics`)).status, 401);
        assert.equal((await fetch(`${app.url}/metrics`, { headers: bearer(KEY) })).status, 200);
      });

      test('the key is stored only as its SHA-256 hash, once however often hookd starts', async () => {
        const again = await start(target, { apiKey: KEY });
        const rows = await withRawDb(target, (db) => db.selectFrom('api_keys').selectAll().execute());
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.key_hash, createHash('sha256').update(KEY).digest('hex'));
        assert.equal(rows[0]!.prefix, KEY.slice(0, 11));
        assert.ok(!JSON.stringify(rows).includes(KEY.slice(11)), 'no more of the key than its prefix is stored');
      });

      test('signed ingest needs no key when the subscription requires signatures', async () => {
        const created = await call(app, 'POST', '/subscriptions', { target_url: 'https://example.com/', secret: SECRET, require_signed_ingest: true }, bearer(KEY));
        const open = await call(app, 'POST', '/subscriptions', { target_url: 'https://example.com/', secret: SECRET }, bearer(KEY));
        const body = '{"event_type":"order.created"}';
        const signed = { 'x-hub-signature-256': hubSignature(body) };
        assert.equal((await call(app, 'POST', `/ingest/${created.body.id}`, body, signed)).status, 202);
        const forged = await call(app, 'POST', `/ingest/${created.body.id}`, body, { 'x-hub-signature-256': hubSignature('{}') });
        assert.equal(forged.body.error.code, 'unauthorized', 'a keyless caller learns no more from a bad signature than from none');
        // Without require_signed_ingest a signature is not enough, and unknown ids are not revealed.
        assert.equal((await call(app, 'POST', `/ingest/${open.body.id}`, body, signed)).body.error.code, 'unauthorized');
        assert.equal((await call(app, 'POST', '/ingest/0190a0e0-0000-7000-8000-000000000000', body, signed)).body.error.code, 'unauthorized');
        assert.equal((await call(app, 'POST', `/ingest/${created.body.id}`, body)).body.error.code, 'unauthorized');
      });

      test('HOOKD_METRICS_PUBLIC=true opens /metrics only', async () => {
        const open = await start(target, { apiKey: KEY, metricsPublic: true });
        assert.equal((await fetch(`${open.url}/metrics`)).status, 200);
        assert.equal((await call(open, 'GET', '/status')).status, 401);
      });
    });

    test('hookd keys create prints the key once; list never shows it; revoke takes effect in a running hookd', async () => {
      const target = await fresh();
      const created = await hookd(target, ['keys', 'create', '--name', 'ci deploy']);
      assert.equal(created.code, 0, created.stderr);
      const key = created.stdout.trim();
      assert.match(key, /^hk_[A-Za-z0-9_-]{43}$/);
      assert.match(created.stderr, /shown only this once/);
      const app = await start(target);
      assert.equal((await call(app, 'GET', '/subscriptions')).status, 401, 'a key exists, so the loopback API is no longer open');
      assert.equal((await call(app, 'GET', '/subscriptions', undefined, bearer(key))).status, 200);

      // The use is recorded in the background.
      await eventually(async () => ((await app.store.apiKeys.list())[0]?.lastUsedAt ? true : undefined), 10_000, 'the use of the key to be recorded');
      const listed = await hookd(target, ['keys', 'list']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /(\S+Z\s+){2}-$/m, 'created and last used, not revoked');
      assert.ok(!listed.stdout.includes(key) && !listed.stderr.includes(key), 'the key is never listed');
      const [header, row] = listed.stdout.trim().split('\n');
      assert.match(header!, /^ID\s+NAME\s+PREFIX\s+CREATED\s+LAST USED\s+REVOKED$/);
      assert.ok(row!.includes('ci deploy') && row!.includes(key.slice(0, 11)), row);
      const id = row!.split(/\s+/)[0]!;

      const revoked = await hookd(target, ['keys', 'revoke', id]);
      assert.equal(revoked.code, 0, revoked.stderr);
      // Revoking the last key locks the API; it does not reopen it.
      await eventually(async () => ((await call(app, 'GET', '/subscriptions', undefined, bearer(key))).status === 401 ? true : undefined), 10_000, 'the revoked key to be refused');
      assert.equal((await call(app, 'GET', '/subscriptions')).status, 401);
      assert.match((await hookd(target, ['keys', 'list'])).stdout, /\d{4}-\d\d-\d\dT\S+Z\s*$/m, 'list shows when it was revoked');
      assert.equal((await hookd(target, ['keys', 'revoke', id])).code, 1, 'revoking twice fails');
      assert.equal((await hookd(target, ['keys', 'frobnicate'])).code, 2);
    });

    test('hookd keys create --application X --read-only: a key bound to one application, that may only read', async () => {
      const target = await fresh();
      assert.equal((await hookd(target, ['keys', 'create', '--read-only'])).code, 1, 'the first key must be an admin key');
      const admin = await hookd(target, ['keys', 'create', '--name', 'admin']);
      const app = await start(target);
      const application = await call(app, 'POST', '/applications', { uid: 'cli-app', name: 'CLI' }, bearer(admin.stdout.trim()));
      assert.equal(application.status, 201);
      const created = await hookd(target, ['keys', 'create', '--name', 'viewer', '--application', 'cli-app', '--read-only']);
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stderr, new RegExp(`key of application ${application.body.id}, read-only`));
      const key = bearer(created.stdout.trim());
      await eventually(async () => ((await call(app, 'GET', '/applications', undefined, key)).status === 200 ? true : undefined), 10_000, 'the new key to be accepted');
      assert.deepEqual((await call(app, 'GET', '/applications', undefined, key)).body.items.map((a: { uid: string }) => a.uid), ['cli-app']);
      assert.equal((await call(app, 'POST', '/subscriptions', { target_url: 'https://example.com/x' }, key)).body.error.code, 'read_only_key');
      const listed = await hookd(target, ['keys', 'list']);
      assert.match(listed.stdout.split('\n')[0]!, /^ID\s+NAME\s+PREFIX\s+SCOPE\s+CREATED/);
      assert.match(listed.stdout, new RegExp(`viewer .*${application.body.id}, read-only`));
      assert.equal((await hookd(target, ['keys', 'create', '--application', 'no-such-app'])).code, 1);
      assert.equal((await hookd(target, ['keys', 'list', '--read-only'])).code, 2);
    });

    test('hookd refuses to serve a non-loopback address without a key: exit 2, one line', async () => {
      const refused = await hookd(await fresh(), ['serve', '--host', '0.0.0.0', '--port', '0']);
      assert.equal(refused.code, 2);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
      assert.match(refused.stderr, /refusing to serve the API on 0\.0\.0\.0 without authentication.*--insecure-no-auth/);
    });

    test('the API rate limit answers 429 with Retry-After, per key, never for health', async () => {
      const target = await fresh();
      // The new key below is polled for until hookd knows it: those tries are not guesses to limit.
      const app = await start(target, { apiKey: KEY, rateLimitPerMinute: 5, authFailuresPerMinute: 0 });
      for (let i = 0; i < 5; i++) assert.equal((await call(app, 'GET', '/subscriptions', undefined, bearer(KEY))).status, 200);
      const limited = await call(app, 'GET', '/subscriptions', undefined, bearer(KEY));
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.code, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After in seconds');
      for (let i = 0; i < 10; i++) assert.equal((await call(app, 'GET', '/health')).status, 200);
      const second = await hookd(target, ['keys', 'create']);
      const otherKey = second.stdout.trim();
      const ownBudget = await eventually(async () => {
        const answer = await call(app, 'GET', '/subscriptions', undefined, bearer(otherKey));
        return answer.status === 401 ? undefined : answer;
      }, 10_000, 'the new key to be known');
      assert.equal(ownBudget.status, 200, 'another key has its own budget');
    });

    test('wrong keys are limited per client address: past HOOKD_AUTH_FAILURES_PER_MINUTE, 429 even with the right key', async () => {
      const target = await fresh();
      const app = await start(target, { apiKey: KEY, authFailuresPerMinute: 3 });
      // Missing keys are not guesses: they are not counted.
      for (let i = 0; i < 5; i++) assert.equal((await call(app, 'GET', '/subscriptions')).status, 401);
      for (let i = 0; i < 3; i++) assert.equal((await call(app, 'GET', '/subscriptions', undefined, bearer(OTHER_KEY))).status, 401);
      for (const key of [OTHER_KEY, KEY]) {
        const limited = await call(app, 'GET', '/subscriptions', undefined, bearer(key));
        assert.equal(limited.status, 429, JSON.stringify(limited.body));
        assert.equal(limited.body.error.code, 'too_many_auth_failures');
        assert.match(limited.body.error.message, /at most 3 per minute/);
        assert.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After in seconds');
      }
      assert.equal((await call(app, 'GET', '/health')).status, 200, 'open routes are not affected');
    });
  });
}
