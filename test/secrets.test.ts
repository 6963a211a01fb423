// Subscription secrets: encryption at rest with HOOKD_ENCRYPTION_KEY (ciphertext in the raw
// rows, plain rows encrypted when the key is turned on, a wrong or missing key refused at
// start), and rotation with a grace period during which deliveries carry both signatures.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../src/store/schema.ts';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { App } from '../src/app.ts';
import { ConfigError, loadConfig, type Config } from '../src/config.ts';
import { SecretBox, SecretUnavailableError } from '../src/store/secret-box.ts';
import { openRawDb, withRawDb } from './support/raw-db.ts';
import { call, finished } from './support/api.ts';
import { eventually, startReceiver, type Received, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const FAST = { allowNetworks: LOOPBACK, pollIntervalMs: 50 };
const KEY = randomBytes(32);
const OTHER_KEY = randomBytes(32);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NEXT_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const HEADER_VALUE = 'Bearer rcv_0a1b2c3d4e5f';

/** The subscription's row as stored, read beside the app (sealed values as they are on disk). */
async function rawSubscription(target: StoreTarget, id: string) {
  const row = await withRawDb(target, (db) => db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
  const headers = typeof row.headers === 'string' ? JSON.parse(row.headers) : row.headers;
  return { ...row, headers: headers as Record<string, string> };
}

/**
 * The bytes of the files the target's subscriptions live in: the SQLite file and its WAL; on
 * PostgreSQL, after a checkpoint, the table's current file and the one it had before (read
 * with pg_read_binary_file, as the superuser the tests connect as).
 */
async function databaseBytes(target: StoreTarget): Promise<Buffer> {
  if (target.database.kind === 'sqlite') {
    const file = target.database.path;
    return Buffer.concat([file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
  }
  return withRawDb(target, async (db) => {
    await sql`checkpoint`.execute(db);
    const paths = new Set([...seenRelationFiles, (await sql<{ path: string }>`select pg_relation_filepath('subscriptions') as path`.execute(db)).rows[0]!.path]);
    const parts: Buffer[] = [];
    for (const path of paths) {
      seenRelationFiles.add(path);
      // Gone (or emptied) once VACUUM FULL replaced it and a checkpoint passed: nothing to read.
      const exists = await sql<{ size: number | null }>`select (pg_stat_file(${path}::text, true)).size as size`.execute(db);
      if (exists.rows[0]!.size === null) continue;
      const read = await sql<{ bytes: Buffer }>`select pg_read_binary_file(${path}::text) as bytes`.execute(db);
      parts.push(read.rows[0]!.bytes);
    }
    return Buffer.concat(parts);
  });
}
const seenRelationFiles = new Set<string>();

/** A transaction on a connection of its own that keeps a snapshot (of another table, say) until ended. */
async function holdSnapshot(target: StoreTarget, options: { withXid?: boolean } = {}): Promise<{ end(): Promise<void> }> {
  const db = openRawDb(target);
  const connection = await new Promise<{ release: () => void; run: <T>(work: (c: Kysely<Database>) => Promise<T>) => Promise<T> }>((resolve) => {
    let release!: () => void;
    const released = new Promise<void>((done) => { release = done; });
    void db.connection().execute(async (c) => {
      resolve({ release, run: (work) => work(c) });
      await released;
    });
  });
  await connection.run(async (c) => {
    // A snapshot of the whole database, without touching the table (which would also lock it).
    await sql`begin isolation level repeatable read`.execute(c);
    await sql`select 1`.execute(c);
    // A transaction id of its own: snapshots taken while it runs see it running.
    if (options.withXid) await sql`select txid_current()`.execute(c);
  });
  return {
    async end() {
      await connection.run((c) => sql`commit`.execute(c));
      connection.release();
      await db.destroy();
    },
  };
}

async function rawSubscriptions(target: StoreTarget): Promise<{ secret: string }[]> {
  return withRawDb(target, (db) => db.selectFrom('subscriptions').select('secret').execute());
}

function hubSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function verifies(secret: string, received: Received): boolean {
  try {
    new Webhook(secret).verify(received.body, received.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

test('a sealed value opens only with its key and in its place', () => {
  const box = new SecretBox(KEY);
  const sealed = box.seal(SECRET, 'subscriptions.secret:a');
  assert.match(sealed, /^enc:v1:[A-Za-z0-9_-]+$/);
  assert.notEqual(box.seal(SECRET, 'subscriptions.secret:a'), sealed, 'a fresh IV each time');
  assert.equal(box.open(sealed, 'subscriptions.secret:a'), SECRET);
  assert.equal(box.open('plain', 'subscriptions.secret:a'), 'plain');
  assert.throws(() => box.open(sealed, 'subscriptions.secret:b'), SecretUnavailableError);
  assert.throws(() => new SecretBox(OTHER_KEY).open(sealed, 'subscriptions.secret:a'), /another key/);
  assert.throws(() => new SecretBox().open(sealed, 'subscriptions.secret:a'), /HOOKD_ENCRYPTION_KEY is not set/);
  const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
  assert.throws(() => box.open(tampered, 'subscriptions.secret:a'), SecretUnavailableError);
});

test('HOOKD_ENCRYPTION_KEY must be 32 bytes of base64, and a bad one is not repeated', () => {
  assert.deepEqual(loadConfig({ env: { HOOKD_ENCRYPTION_KEY: KEY.toString('base64') } }).encryptionKey, KEY);
  assert.equal(loadConfig({ env: {} }).encryptionKey, null);
  for (const bad of [randomBytes(16).toString('base64'), 'not base64 at all!', randomBytes(33).toString('base64')]) {
    assert.throws(() => loadConfig({ env: { HOOKD_ENCRYPTION_KEY: bad } }), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^HOOKD_ENCRYPTION_KEY must be 32 bytes in base64 \(generate one with: openssl rand -base64 32\)$/);
      assert.ok(!error.message.includes(bad));
      return true;
    });
  }
});

for (const name of STORE_NAMES) {
  describe(`secrets (${name})`, () => {
    const targets: StoreTarget[] = [];
    const apps: App[] = [];
    let receiver: Receiver;

    async function start(target: StoreTarget, config: Partial<Config> = {}, clock?: () => number) {
      const app = await startTestApp(target, { config: { ...FAST, ...config }, ...(clock && { clock }) });
      apps.push(app);
      return app;
    }
    function fresh(): StoreTarget {
      targets.push(newTarget(name));
      return targets.at(-1)!;
    }
    async function deliverOne(app: App, id: string): Promise<Received> {
      const ingested = await call(app, 'POST', `/ingest/${id}`, { event_type: 'order.created', data: { n: receiver.requests.length } });
      assert.equal(ingested.status, 202, JSON.stringify(ingested.body));
      assert.equal((await finished(app, ingested.body.delivery_id)).status, 'succeeded');
      return receiver.requests.at(-1)!;
    }

    before(async () => {
      receiver = await startReceiver();
    });
    after(async () => {
      for (const app of apps) await app.close();
      await receiver.close();
      for (const target of targets) await target.cleanup();
    });

    test('with HOOKD_ENCRYPTION_KEY the rows hold ciphertext, and everything above the store sees plain values', async () => {
      const target = fresh();
      const app = await start(target, { encryptionKey: KEY });
      const created = await call(app, 'POST', '/subscriptions', { target_url: receiver.url, secret: SECRET, headers: { Authorization: HEADER_VALUE } });
      const id = created.body.id;
      const row = await rawSubscription(target, id);
      assert.match(row.secret, /^enc:v1:/);
      assert.match(row.headers.Authorization!, /^enc:v1:/);
      assert.ok(!JSON.stringify(row).includes(SECRET) && !JSON.stringify(row).includes('rcv_0a1b2c3d4e5f'), 'no plain secret in the row');

      assert.equal((await call(app, 'GET', `/subscriptions/${id}/secret`)).body.secret, SECRET);
      const received = await deliverOne(app, id);
      assert.ok(verifies(SECRET, received), 'signed with the decrypted secret');
      assert.equal(received.headers.authorization, HEADER_VALUE);

      await call(app, 'POST', `/subscriptions/${id}/secret/rotate`, { secret: NEXT_SECRET });
      const rotated = await rawSubscription(target, id);
      assert.match(rotated.secret, /^enc:v1:/);
      assert.match(rotated.previous_secret!, /^enc:v1:/);
    });

    test('turning encryption on encrypts the rows stored before; a wrong or missing key is refused at start', async () => {
      const target = fresh();
      const plain = await start(target);
      const id = (await call(plain, 'POST', '/subscriptions', { target_url: receiver.url, secret: SECRET, headers: { 'X-Token': 't0k3n-value' } })).body.id;
      assert.equal((await rawSubscription(target, id)).secret, SECRET, 'plain text without a key');
      await plain.close();

      const encrypting = await start(target, { encryptionKey: KEY });
      const row = await rawSubscription(target, id);
      assert.match(row.secret, /^enc:v1:/);
      assert.match(row.headers['X-Token']!, /^enc:v1:/);
      const received = await deliverOne(encrypting, id);
      assert.ok(verifies(SECRET, received));
      assert.equal(received.headers['x-token'], 't0k3n-value');
      await encrypting.close();

      await assert.rejects(start(target, { encryptionKey: OTHER_KEY }), (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /cannot be decrypted with this HOOKD_ENCRYPTION_KEY/);
        return true;
      });
      await assert.rejects(start(target), /is encrypted, but HOOKD_ENCRYPTION_KEY is not set/);
    });

    test('a secret or header value that looks encrypted is refused without a key (422), and one already stored stops the start with a clear message', async () => {
      const target = fresh();
      const app = await start(target);
      const looksSealed = 'enc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      for (const body of [
        { target_url: receiver.url, secret: looksSealed },
        { target_url: receiver.url, headers: { 'X-Token': looksSealed } },
      ]) {
        const refused = await call(app, 'POST', '/subscriptions', body);
        assert.deepEqual([refused.status, refused.body.error.code], [422, 'value_looks_encrypted'], JSON.stringify(refused.body));
      }
      const id = (await call(app, 'POST', '/subscriptions', { target_url: receiver.url })).body.id;
      for (const [path, body] of [[`/subscriptions/${id}`, { headers: { 'X-Token': looksSealed } }], [`/subscriptions/${id}/secret/rotate`, { secret: looksSealed }]] as const) {
        const refused = await call(app, path.endsWith('rotate') ? 'POST' : 'PATCH', path, body);
        assert.deepEqual([refused.status, refused.body.error.code], [422, 'value_looks_encrypted'], path);
      }
      assert.throws(() => new SecretBox().seal(looksSealed, 'subscriptions.secret:x'), /would read back as an encrypted value/);
      assert.equal(new SecretBox(KEY).open(new SecretBox(KEY).seal(looksSealed, 'c'), 'c'), looksSealed, 'with a key it is sealed like any value');
      // A database written before these checks: a plain header value that looks sealed.
      await withRawDb(target, (db) => db.updateTable('subscriptions').set({ headers: JSON.stringify({ 'X-Token': looksSealed }) }).where('id', '=', id).execute());
      await app.close();
      await assert.rejects(start(target), (error: Error) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(error.message, new RegExp(`subscriptions\\.headers\\.x-token:${id} is encrypted, but HOOKD_ENCRYPTION_KEY is not set`));
        return true;
      });
      // With a key, beside rows it does open: every row is looked at, not just the first.
      const keyed = fresh();
      const sealing = await start(keyed, { encryptionKey: KEY });
      await call(sealing, 'POST', '/subscriptions', { target_url: receiver.url, secret: SECRET });
      const odd = (await call(sealing, 'POST', '/subscriptions', { target_url: receiver.url })).body.id;
      await sealing.close();
      await withRawDb(keyed, (db) => db.updateTable('subscriptions').set({ secret: looksSealed }).where('id', '=', odd).execute());
      await assert.rejects(start(keyed, { encryptionKey: KEY }), new RegExp(`subscriptions\\.secret:${odd} (is not a valid encrypted value|cannot be decrypted)`));
    });

    test('sealing plain secrets at start leaves no plaintext in the database files', async () => {
      const target = fresh();
      const plain = await start(target);
      const secrets = Array.from({ length: 20 }, (_, i) => `plain-secret-${i}-${randomBytes(8).toString('hex')}`);
      const headerValues = secrets.map((_, i) => `plain-header-${i}-${randomBytes(8).toString('hex')}`);
      for (const [i, secret] of secrets.entries()) {
        const created = await call(plain, 'POST', '/subscriptions', { target_url: receiver.url, secret, headers: { 'X-Token': headerValues[i] } });
        assert.equal(created.status, 201);
      }
      await plain.close();
      const leftovers = async () => {
        const files = await databaseBytes(target);
        return [...secrets, ...headerValues].filter((value) => files.includes(Buffer.from(value)));
      };
      assert.ok((await leftovers()).length > 0, 'the plain values are in the files before sealing');

      // On PostgreSQL a transaction that began before the sealing may still see the old row
      // versions, and VACUUM FULL keeps what it may see: hookd waits for it to end first.
      const holder = target.database.kind === 'postgres' ? await holdSnapshot(target) : null;
      const starting = start(target, { encryptionKey: KEY });
      if (holder) {
        await eventually(async () => (await rawSubscriptions(target)).every((row) => row.secret.startsWith('enc:v1:')) || undefined, 30_000, 'the secrets to be sealed');
        await holder.end();
      }
      const encrypting = await starting;
      await encrypting.close();
      assert.deepEqual(await leftovers(), []);
    });

    test('sealing waits for a snapshot begun after it that still reaches back before it', { skip: name !== 'postgres' && 'PostgreSQL only (its VACUUM FULL keeps what a snapshot may see)' }, async () => {
      const target = fresh();
      const plain = await start(target);
      const secrets = Array.from({ length: 5 }, (_, i) => `chained-secret-${i}-${randomBytes(8).toString('hex')}`);
      for (const secret of secrets) assert.equal((await call(plain, 'POST', '/subscriptions', { target_url: receiver.url, secret })).status, 201);
      await plain.close();
      const leftovers = async () => {
        const files = await databaseBytes(target);
        return secrets.filter((value) => files.includes(Buffer.from(value)));
      };
      assert.ok((await leftovers()).length > 0, 'the plain values are in the files before sealing');

      // A: a transaction begun before the sealing, with an id of its own. B: a snapshot taken
      // after the sealing committed, while A still ran, so B may still see the old versions.
      const a = await holdSnapshot(target, { withXid: true });
      const starting = start(target, { encryptionKey: KEY });
      await eventually(async () => (await rawSubscriptions(target)).every((row) => row.secret.startsWith('enc:v1:')) || undefined, 30_000, 'the secrets to be sealed');
      const b = await holdSnapshot(target);
      await a.end();
      // hookd must go on waiting, now for B: its check of the other sessions is seen twice
      // after A ended (a hookd that waited for A alone would have stopped checking).
      const aEnded = await withRawDb(target, async (db) => (await sql<{ at: Date }>`select clock_timestamp() as at`.execute(db)).rows[0]!.at);
      const checks = new Set<string>();
      try {
        await eventually(async () => {
          const rows = await withRawDb(target, (db) => sql<{ started: Date }>`select query_start as started from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and query like '%from pg_stat_activity%' and query_start > ${aEnded}`.execute(db));
          for (const row of rows.rows) checks.add(row.started.toISOString());
          return checks.size >= 2 || undefined;
        }, 30_000, 'hookd to keep waiting after A ended');
      } finally {
        await b.end();
      }
      const sealing = await starting;
      await sealing.close();
      assert.deepEqual(await leftovers(), []);
    });

    test('rotation: both signatures during the grace period (new first), only the new one after it', async () => {
      let offsetMs = 0;
      const app = await start(fresh(), {}, () => Date.now() + offsetMs);
      const id = (await call(app, 'POST', '/subscriptions', { target_url: receiver.url, secret: SECRET })).body.id;
      const before = Date.now();
      const rotation = await call(app, 'POST', `/subscriptions/${id}/secret/rotate`, { grace_seconds: 60 });
      assert.equal(rotation.status, 200, JSON.stringify(rotation.body));
      const next: string = rotation.body.secret;
      assert.match(next, /^whsec_[A-Za-z0-9+/]{32}$/);
      const expiresAt = Date.parse(rotation.body.previous_secret_expires_at);
      assert.ok(expiresAt >= before + 60_000 && expiresAt <= Date.now() + 60_000);
      assert.equal((await call(app, 'GET', `/subscriptions/${id}/secret`)).body.secret, next);

      const during = await deliverOne(app, id);
      const signatures = String(during.headers['webhook-signature']).split(' ');
      assert.equal(signatures.length, 2);
      assert.ok(verifies(next, during), 'receivers with the new secret accept it');
      assert.ok(verifies(SECRET, during), 'receivers still on the old secret accept it');
      assert.equal(signatures[0], new Webhook(next).sign(String(during.headers['webhook-id']), new Date(Number(during.headers['webhook-timestamp']) * 1000), during.body));
      assert.equal(during.headers['x-hub-signature-256'], hubSignature(next, during.body.toString()));

      const body = '{"event_type":"order.created"}';
      for (const secret of [SECRET, next]) {
        assert.equal((await call(app, 'POST', `/ingest/${id}`, body, { 'x-hub-signature-256': hubSignature(secret, body) })).status, 202, 'ingest accepts either secret');
      }

      offsetMs = 120_000;
      const afterGrace = await deliverOne(app, id);
      assert.equal(String(afterGrace.headers['webhook-signature']).split(' ').length, 1);
      assert.ok(verifies(next, afterGrace));
      assert.ok(!verifies(SECRET, afterGrace));
      const old = await call(app, 'POST', `/ingest/${id}`, body, { 'x-hub-signature-256': hubSignature(SECRET, body) });
      assert.equal(old.body.error.code, 'invalid_signature');
    });

    test('grace_seconds 0, an explicit secret, and a PATCHed secret end the old one at once; bad requests get 4xx', async () => {
      const app = await start(fresh());
      const id = (await call(app, 'POST', '/subscriptions', { target_url: receiver.url, secret: SECRET })).body.id;
      const now = await call(app, 'POST', `/subscriptions/${id}/secret/rotate`, { secret: NEXT_SECRET, grace_seconds: 0 });
      assert.deepEqual(now.body, { secret: NEXT_SECRET, previous_secret_expires_at: null, warnings: [] });
      assert.equal(String((await deliverOne(app, id)).headers['webhook-signature']).split(' ').length, 1);

      assert.equal((await call(app, 'POST', `/subscriptions/${id}/secret/rotate`, {})).status, 200, 'the default grace applies');
      await call(app, 'PATCH', `/subscriptions/${id}`, { secret: SECRET });
      const patched = await deliverOne(app, id);
      assert.equal(String(patched.headers['webhook-signature']).split(' ').length, 1);
      assert.ok(verifies(SECRET, patched));

      assert.equal((await call(app, 'POST', `/subscriptions/${id}/secret/rotate`, { secret: SECRET })).body.error.code, 'validation_failed');
      for (const body of [{ grace_seconds: -1 }, { grace_seconds: 'soon' }, { grace_seconds: 10 ** 9 }, { secret: 'whsec_!!!!!!!!' }, { extra: 1 }]) {
        assert.equal((await call(app, 'POST', `/subscriptions/${id}/secret/rotate`, body)).status, 422, JSON.stringify(body));
      }
      assert.equal((await call(app, 'POST', '/subscriptions/0190a0e0-0000-7000-8000-000000000000/secret/rotate', {})).status, 404);
    });
  });
}
