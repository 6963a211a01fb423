// Signed ingest (POST /ingest/{id}): Standard Webhooks headers (a timestamp within the
// tolerance, a webhook-id that makes a replay create nothing) beside X-Hub-Signature-256; and
// a caller without an API key, who is told the same for an unknown subscription, an unsigned
// and a badly signed request, before the body is even parsed.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { App } from '../src/app.ts';
import type { Config } from '../src/config.ts';
import { call, type Answer } from './support/api.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const KEY = `hk_${'s'.repeat(43)}`;
const WHSEC = 'whsec_loPqGAYB7np015ZTgydM7sKVj7pYB4Lj';
const RAW = 'a-raw-secret-of-some-length';
const bearer = { authorization: `Bearer ${KEY}` };

/** Standard Webhooks headers as the reference library signs them (raw secrets loaded as raw bytes). */
function standardHeaders(secret: string, body: string, options: { id?: string; at?: Date } = {}): Record<string, string> {
  const id = options.id ?? `msg_${randomUUID()}`;
  const at = options.at ?? new Date();
  const webhook = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(secret, { format: 'raw' });
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': webhook.sign(id, at, body) };
}

function hub(secret: string, body: string): Record<string, string> {
  return { 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
}

async function eventsOf(app: App, subscriptionId: string): Promise<number> {
  const listed = await call(app, 'GET', `/subscriptions/${subscriptionId}/deliveries?limit=100`, undefined, bearer);
  return new Set(listed.body.items.map((d: { event_id: string }) => d.event_id)).size;
}

function refusedAlike(answers: Answer[]): void {
  const shapes = answers.map((a) => JSON.stringify([a.status, a.body.error.code, a.body.error.message, a.headers.get('www-authenticate')]));
  assert.equal(new Set(shapes).size, 1, `all alike: ${shapes.join('\n')}`);
  assert.equal(answers[0]!.status, 401);
  assert.equal(answers[0]!.body.error.code, 'unauthorized');
}

for (const name of STORE_NAMES) {
  describe(`signed ingest (${name})`, () => {
    const targets: StoreTarget[] = [];
    const apps: App[] = [];
    let app: App;

    async function start(config: Partial<Config> = {}): Promise<App> {
      const target = newTarget(name);
      targets.push(target);
      const started = await startTestApp(target, { config: { apiKey: KEY, ...config } });
      apps.push(started);
      return started;
    }
    async function subscription(on: App, secret: string, settings: Record<string, unknown> = {}): Promise<string> {
      const created = await call(on, 'POST', '/subscriptions', { target_url: 'https://example.com/', secret, ...settings }, bearer);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body.id;
    }

    before(async () => {
      app = await start();
    });
    after(async () => {
      for (const a of apps) await a.close();
      for (const t of targets) await t.cleanup();
    });

    test('Standard Webhooks headers sign ingest (whsec_ and raw secrets); a replay gets the first answer and makes no second event', async () => {
      for (const secret of [WHSEC, RAW]) {
        for (const auth of [bearer, {}]) {
          const id = await subscription(app, secret, { require_signed_ingest: true });
          const body = JSON.stringify({ event_type: 'order.created', data: { secret: secret.slice(0, 5) } });
          const headers = standardHeaders(secret, body);
          const first = await call(app, 'POST', `/ingest/${id}`, body, { ...auth, ...headers });
          assert.equal(first.status, 202, JSON.stringify(first.body));
          for (let i = 0; i < 2; i++) {
            const replay = await call(app, 'POST', `/ingest/${id}`, body, { ...auth, ...headers });
            assert.equal(replay.status, 202);
            assert.deepEqual(replay.body, first.body);
            assert.equal(replay.headers.get('idempotent-replayed'), 'true');
          }
          assert.equal(await eventsOf(app, id), 1, 'one event for three identical signed requests');
          const changed = JSON.stringify({ event_type: 'order.created', data: { other: true } });
          const reused = await call(app, 'POST', `/ingest/${id}`, changed, { ...auth, ...standardHeaders(secret, changed, { id: headers['webhook-id'] }) });
          assert.deepEqual([reused.status, reused.body.error.code], [422, 'idempotency_key_reused']);
          const next = await call(app, 'POST', `/ingest/${id}`, body, { ...auth, ...standardHeaders(secret, body) });
          assert.equal(next.status, 202, 'a new webhook-id is a new event');
          assert.equal(await eventsOf(app, id), 2);
        }
      }
    });

    test('the webhook-timestamp must be within the tolerance (HOOKD_INGEST_SIGNATURE_TOLERANCE_SECONDS, 300 by default)', async () => {
      const id = await subscription(app, WHSEC);
      const body = '{"event_type":"order.created"}';
      const stale = standardHeaders(WHSEC, body, { at: new Date(Date.now() - 400_000) });
      const refused = await call(app, 'POST', `/ingest/${id}`, body, { ...bearer, ...stale });
      assert.deepEqual([refused.status, refused.body.error.code], [401, 'invalid_signature']);
      assert.match(refused.body.error.message, /300 seconds/);
      const early = await call(app, 'POST', `/ingest/${id}`, body, { ...bearer, ...standardHeaders(WHSEC, body, { at: new Date(Date.now() + 400_000) }) });
      assert.equal(early.status, 401);
      const lenient = await start({ ingestSignatureToleranceSeconds: 600 });
      const there = await subscription(lenient, WHSEC);
      assert.equal((await call(lenient, 'POST', `/ingest/${there}`, body, { ...bearer, ...stale })).status, 202);
      // A wrong Standard Webhooks signature is not rescued by a right X-Hub-Signature-256.
      const forged = { ...standardHeaders('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', body), ...hub(WHSEC, body) };
      assert.equal((await call(app, 'POST', `/ingest/${id}`, body, { ...bearer, ...forged })).body.error.code, 'invalid_signature');
    });

    test('an Idempotency-Key together with a Standard Webhooks signature is refused: 422 idempotency_key_not_allowed', async () => {
      const id = await subscription(app, WHSEC);
      const body = '{"event_type":"order.created"}';
      const both = await call(app, 'POST', `/ingest/${id}`, body, { ...bearer, ...standardHeaders(WHSEC, body), 'idempotency-key': 'k-1' });
      assert.deepEqual([both.status, both.body.error.code], [422, 'idempotency_key_not_allowed']);
      assert.equal(await eventsOf(app, id), 0);
      assert.equal((await call(app, 'POST', `/ingest/${id}`, body, { ...bearer, ...hub(WHSEC, body), 'idempotency-key': 'k-1' })).status, 202, 'with X-Hub-Signature-256 it is the way to dedupe');
    });

    test('X-Hub-Signature-256 alone: a replay is a new event (what it cannot prevent)', async () => {
      const id = await subscription(app, WHSEC, { require_signed_ingest: true });
      const body = '{"event_type":"order.created"}';
      for (let i = 0; i < 2; i++) assert.equal((await call(app, 'POST', `/ingest/${id}`, body, hub(WHSEC, body))).status, 202);
      assert.equal(await eventsOf(app, id), 2);
    });

    test('without a key: unknown, not requiring signatures, unsigned and badly signed are answered alike, before the body is parsed', async () => {
      const signedOnly = await subscription(app, WHSEC, { require_signed_ingest: true });
      const unsignedOk = await subscription(app, WHSEC);
      const body = '{"event_type":"order.created"}';
      const good = standardHeaders(WHSEC, body);
      const unknown = '0190a0e0-0000-7000-8000-000000000000';
      const answers = [
        await call(app, 'POST', `/ingest/${unknown}`, body, good),
        await call(app, 'POST', '/ingest/not-a-uuid', body, good),
        await call(app, 'POST', `/ingest/${unsignedOk}`, body, good),
        await call(app, 'POST', `/ingest/${signedOnly}`, body),
        await call(app, 'POST', `/ingest/${signedOnly}`, body, standardHeaders('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', body)),
        await call(app, 'POST', `/ingest/${signedOnly}`, body, hub('not-the-secret-at-all', body)),
        await call(app, 'POST', `/ingest/${signedOnly}`, body, { ...good, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) }),
        // Bodies the parser would refuse (400, 415, 422) are not looked at before the signature.
        await call(app, 'POST', `/ingest/${signedOnly}`, '{not json', standardHeaders('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '{not json')),
        await call(app, 'POST', `/ingest/${signedOnly}`, '{"no":"type"}', hub('not-the-secret-at-all', '{"no":"type"}')),
        await call(app, 'POST', `/ingest/${unknown}`, '{not json', { 'content-type': 'text/plain', ...hub(WHSEC, '{not json') }),
        await call(app, 'POST', `/ingest/${unknown}`, '{not json'),
      ];
      refusedAlike(answers);
      // Signed right, the request goes on to the usual checks.
      assert.equal((await call(app, 'POST', `/ingest/${signedOnly}`, '{not json', standardHeaders(WHSEC, '{not json'))).status, 400);
      assert.equal((await call(app, 'POST', `/ingest/${signedOnly}`, body, good)).status, 202);
    });
  });
}
