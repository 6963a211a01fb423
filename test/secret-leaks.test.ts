// A full run with every kind of secret (signing secrets, rotated ones, custom header values,
// the API key, the encryption key, rejected secrets in bad requests), capturing all log
// output at trace level and every API answer: no secret may appear anywhere except in the
// answers whose purpose is to reveal it (create, GET .../secret, rotate), and there only its own.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startApp, type App } from '../src/app.ts';
import { createLogger } from '../src/logger.ts';
import { eventually, startReceiver, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, testConfig, type StoreTarget } from './support/stores.ts';

const API_KEY = `hk_${randomBytes(32).toString('base64url')}`;
const ENCRYPTION_KEY = randomBytes(32);
const SECRET_A = `whsec_${randomBytes(24).toString('base64')}`;
const HEADER_A = `Bearer rcv_${randomBytes(12).toString('hex')}`;
const HEADER_B = `apikey-${randomBytes(12).toString('hex')}`;
const HEADER_C = `Bearer next_${randomBytes(12).toString('hex')}`;
const REJECTED_HEADER = `rejected_${randomBytes(12).toString('hex')}`;
const REJECTED_SECRET = `whsec_!!${randomBytes(12).toString('hex')}`;
const WRONG_KEY = `hk_${randomBytes(32).toString('base64url')}`;
// A broker URL's password (RabbitMQ refuses it, so its attempts carry the broker's error).
const BROKER_PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

interface Recorded {
  what: string;
  text: string;
  /** The one secret this answer exists to reveal, if any. */
  reveals?: string;
}

test('signature headers of ingest requests are redacted wherever a log line could carry them', () => {
  const lines: string[] = [];
  const logger = createLogger('info', { destination: { write: (line: string) => void lines.push(line) } });
  const signatures = { 'webhook-signature': 'v1,c2lnbmF0dXJlLW9uZQ==', 'x-hub-signature-256': `sha256=${'ab'.repeat(32)}` };
  logger.info({ req: { headers: signatures } }, 'request');
  logger.info({ headers: signatures }, 'headers');
  logger.info({ attempt: { headers: { 'webhook-signature': signatures['webhook-signature'] } } }, 'nested');
  const text = lines.join('');
  assert.equal(lines.length, 3);
  assert.ok(!text.includes('c2lnbmF0dXJlLW9uZQ') && !text.includes('ab'.repeat(32)), text);
});

for (const name of STORE_NAMES) {
  describe(`no secret in logs or answers (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let receiver: Receiver;
    const logs: string[] = [];
    const answers: Recorded[] = [];

    async function api(method: string, path: string, body?: unknown, options: { key?: string | null; headers?: Record<string, string>; reveals?: (body: any) => string } = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.key !== null) headers.authorization = `Bearer ${options.key ?? API_KEY}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${app.url}${path}`, { method, headers, ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
      const text = await response.text();
      const json = response.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : undefined;
      answers.push({
        what: `${method} ${path} → ${response.status}`,
        text: `${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${text}`,
        ...(options.reveals && { reveals: options.reveals(json) }),
      });
      return { status: response.status, body: json };
    }

    before(async () => {
      target = newTarget(name);
      receiver = await startReceiver();
      const config = testConfig(target, {
        logLevel: 'trace', apiKey: API_KEY, encryptionKey: ENCRYPTION_KEY, allowNetworks: ['127.0.0.0/8', '::1/128'], pollIntervalMs: 50,
      });
      const logger = createLogger('trace', { destination: { write: (line: string) => void logs.push(line) } });
      app = await startApp({ config, logger, ...(target.schema && { schema: target.schema }) });
    });
    after(async () => {
      await app.close();
      await receiver.close();
      await target.cleanup();
    });

    test('a full scenario leaves no secret in any log line or answer', async () => {
      const secrets = new Map<string, string>([
        ['API key', API_KEY], ['encryption key', ENCRYPTION_KEY.toString('base64')], ['secret A', SECRET_A],
        ['header A', HEADER_A], ['header B', HEADER_B], ['header C', HEADER_C], ['rejected header', REJECTED_HEADER],
        ['rejected secret', REJECTED_SECRET], ['wrong key', WRONG_KEY], ['broker password', BROKER_PASSWORD],
      ]);
      const a = await api('POST', '/api/v1/subscriptions', { target_url: receiver.url, secret: SECRET_A, headers: { Authorization: HEADER_A, 'X-Api-Key': HEADER_B } }, { reveals: (b) => b.secret });
      const b = await api('POST', '/api/v1/subscriptions', { target_url: `${receiver.url}?b`, event_types: ['order.*'] }, { reveals: (b) => b.secret });
      assert.equal(a.status, 201);
      secrets.set('generated secret B', b.body.secret);

      await api('GET', '/api/v1/subscriptions');
      await api('GET', `/api/v1/subscriptions/${a.body.id}`);
      await api('PUT', `/api/v1/subscriptions/${a.body.id}`, { target_url: receiver.url, description: 'kept secret and headers' });
      await api('PATCH', `/api/v1/subscriptions/${b.body.id}`, { headers: { Authorization: HEADER_C } });
      await api('PATCH', `/api/v1/subscriptions/${a.body.id}`, { require_signed_ingest: true });

      const event = '{"event_type":"order.created","data":{"n":1}}';
      const signature = `sha256=${createHmac('sha256', SECRET_A).update(event).digest('hex')}`;
      const ingested = await api('POST', `/api/v1/ingest/${a.body.id}`, event, { key: null, headers: { 'x-hub-signature-256': signature } });
      assert.equal(ingested.status, 202);
      const fanned = await api('POST', '/api/v1/events', event);
      const rotated = await api('POST', `/api/v1/subscriptions/${a.body.id}/secret/rotate`, { grace_seconds: 3600 }, { reveals: (b) => b.secret });
      secrets.set('rotated secret A', rotated.body.secret);
      await api('GET', `/api/v1/subscriptions/${a.body.id}/secret`, undefined, { reveals: (b) => b.secret });
      const again = await api('POST', `/api/v1/ingest/${a.body.id}`, event, { key: null, headers: { 'x-hub-signature-256': signature } });

      const broker = await api('POST', '/api/v1/subscriptions', {
        destination: { type: 'rabbitmq', url: `amqp://guest:${BROKER_PASSWORD}@127.0.0.1:5672`, exchange: '', routing_key: 'hookd-leak-test' }, event_types: ['broker.*'],
      }, { reveals: (b) => b.secret });
      assert.equal(broker.status, 201);
      await api('PATCH', `/api/v1/subscriptions/${broker.body.id}`, { destination: broker.body.destination, description: 'sent back masked' });
      const published = await api('POST', `/api/v1/ingest/${broker.body.id}`, '{"event_type":"broker.test"}');
      const refused = await eventually(async () => {
        const delivery = await api('GET', `/api/v1/deliveries/${published.body.delivery_id}`);
        return delivery.body.logs.length > 0 ? delivery.body.logs[0] : undefined;
      }, 30_000, 'the broker attempt');
      assert.equal(refused.outcome, 'rejected', JSON.stringify(refused));
      await api('GET', `/api/v1/subscriptions/${broker.body.id}`);
      await api('GET', '/api/v1/stats');

      const deliveryIds = [ingested.body.delivery_id, again.body.delivery_id, ...fanned.body.delivery_ids];
      for (const id of deliveryIds) {
        await eventually(async () => {
          const delivery = await api('GET', `/api/v1/deliveries/${id}`);
          return delivery.body.status === 'succeeded' ? delivery : undefined;
        }, 5000, `delivery ${id}`);
      }
      assert.equal(String(receiver.requests.find((r) => r.url === '/hook')?.headers.authorization), HEADER_A, 'the receiver did get the header');

      // Refused requests that carry secrets.
      assert.equal((await api('POST', '/api/v1/subscriptions', { target_url: receiver.url, secret: REJECTED_SECRET })).status, 422);
      assert.equal((await api('POST', '/api/v1/subscriptions', { target_url: receiver.url, headers: { 'x-a': `${REJECTED_HEADER}\r\nx: y` } })).status, 422);
      assert.equal((await api('POST', '/api/v1/subscriptions', { target_url: receiver.url, headers: { Host: REJECTED_HEADER } })).status, 422);
      assert.equal((await api('POST', '/api/v1/subscriptions', `{"secret": "${REJECTED_SECRET}", `)).status, 400);
      assert.equal((await api('GET', '/api/v1/subscriptions', undefined, { key: WRONG_KEY })).status, 401);
      assert.equal((await api('POST', `/api/v1/ingest/${a.body.id}`, event, { key: null, headers: { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } })).status, 401);
      for (const path of ['/api/v1/deliveries', `/api/v1/subscriptions/${a.body.id}/deliveries`, '/api/v1/status', '/api/v1/health', '/metrics']) await api('GET', path);

      const logText = logs.join('');
      assert.ok(logText.length > 0 && logs.some((line) => line.includes('"level":10') || line.includes('"level":20')), 'logs were captured at a verbose level');
      const hits: string[] = [];
      for (const [label, secret] of secrets) {
        if (logText.includes(secret)) hits.push(`${label} in the logs`);
        for (const answer of answers) {
          if (answer.text.includes(secret) && answer.reveals !== secret) hits.push(`${label} in ${answer.what}`);
        }
      }
      assert.deepEqual(hits, []);
      const revealing = answers.filter((answer) => answer.reveals !== undefined);
      assert.ok(revealing.length === 5 && revealing.every((answer) => answer.text.includes(answer.reveals!)), 'the scan does see what answers hold');
      assert.ok(answers.length >= 25, `${answers.length} answers scanned`);
    });
  });
}
