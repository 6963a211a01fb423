// Custom per-subscription headers: sent with every attempt beside hookd's own, validated
// (reserved names, tokens, CR/LF, sizes, count), write-only (masked in responses and in the
// attempt log), kept on PUT unless given, replaced on PATCH, removed with null.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, finished } from './support/api.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const RECEIVER_TOKEN = 'Bearer rcv_9f8e7d6c5b4a';

for (const name of STORE_NAMES) {
  describe(`custom headers (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let receiver: Receiver;

    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, { config: { allowNetworks: LOOPBACK, pollIntervalMs: 50 } });
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver.close();
      await app.close();
      await target.cleanup();
    });

    async function create(headers: unknown) {
      return call(app, 'POST', '/subscriptions', { target_url: receiver.url, headers });
    }

    test('are sent with every attempt, after which hookd\'s own headers are intact; values are masked everywhere they are shown', async () => {
      const created = await create({ Authorization: RECEIVER_TOKEN, 'X-Tenant': 'acme', 'x-empty': '' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.headers, { Authorization: '[redacted]', 'X-Tenant': '[redacted]', 'x-empty': '[redacted]' });
      const id = created.body.id;
      assert.deepEqual((await call(app, 'GET', `/subscriptions/${id}`)).body.headers, created.body.headers);
      const listed = (await call(app, 'GET', '/subscriptions')).body.items.find((s: { id: string }) => s.id === id);
      assert.deepEqual(listed.headers, created.body.headers);

      const ingested = await call(app, 'POST', `/ingest/${id}`, { event_type: 'order.created' });
      const delivery = await finished(app, ingested.body.delivery_id);
      assert.equal(delivery.status, 'succeeded');
      const received = receiver.requests.at(-1)!;
      assert.equal(received.headers.authorization, RECEIVER_TOKEN);
      assert.equal(received.headers['x-tenant'], 'acme');
      assert.equal(received.headers['x-empty'], '');
      assert.match(String(received.headers['webhook-signature']), /^v1,/);
      assert.equal(received.headers['user-agent']?.startsWith('hookd/'), true);
      const logged = delivery.logs[0].request_headers;
      assert.equal(logged.Authorization, '[redacted]');
      assert.equal(logged['X-Tenant'], '[redacted]');
      assert.ok(!JSON.stringify(delivery).includes('rcv_9f8e7d6c5b4a'), 'the value is not in the attempt log');
    });

    test('reserved names, bad tokens, CR/LF, oversize values and too many headers get 422 naming headers', async () => {
      const bad: Record<string, string>[] = [
        { Host: 'evil.example' }, { 'CONTENT-LENGTH': '1' }, { 'Transfer-Encoding': 'chunked' }, { connection: 'close' },
        { 'User-Agent': 'x' }, { 'Webhook-Signature': 'v1,forged' }, { 'webhook-id': '1' }, { 'X-Hub-Signature-256': 'sha256=0' },
        { 'x-hub-signature': 'sha1=0' }, { 'X-Hookd-Attempt': '1' }, { 'Content-Type': 'text/plain' },
        { 'Bad Header': 'v' }, { '': 'v' }, { 'x-ünicode': 'v' }, { 'x-a': 'line\r\nInjected: yes' }, { 'x-a': 'line\nbreak' },
        { 'x-a': 'nul\u0000' }, { 'x-a': 'é' }, { 'x-a': 'v'.repeat(4097) },
        { 'X-Dup': '1', 'x-dup': '2' },
        Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-h${i}`, 'v'])),
      ];
      for (const headers of bad) {
        const answer = await create(headers);
        assert.equal(answer.status, 422, `${JSON.stringify(headers).slice(0, 80)}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'validation_failed');
        assert.match(answer.body.error.message, /^headers/);
      }
      for (const headers of ['x', ['a'], { 'x-a': 1 }, { 'x-a': null }]) {
        assert.equal((await create(headers)).status, 422, JSON.stringify(headers));
      }
      assert.equal((await create({ 'x-a': 'v'.repeat(4096) })).status, 201, 'a value of exactly 4096 bytes is fine');
      assert.equal((await create(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-h${i}`, 'v'])))).status, 201);
    });

    test('PUT keeps them unless given, PATCH replaces them, null removes them', async () => {
      const id = (await create({ Authorization: RECEIVER_TOKEN })).body.id;
      const put = await call(app, 'PUT', `/subscriptions/${id}`, { target_url: receiver.url, description: 'moved' });
      assert.deepEqual(put.body.headers, { Authorization: '[redacted]' });
      const patched = await call(app, 'PATCH', `/subscriptions/${id}`, { headers: { 'X-Other': 'b' } });
      assert.deepEqual(patched.body.headers, { 'X-Other': '[redacted]' });
      await finished(app, (await call(app, 'POST', `/ingest/${id}`, { event_type: 'a.b' })).body.delivery_id);
      const received = receiver.requests.at(-1)!;
      assert.equal(received.headers['x-other'], 'b');
      assert.equal(received.headers.authorization, undefined);
      assert.deepEqual((await call(app, 'PATCH', `/subscriptions/${id}`, { headers: null })).body.headers, {});
    });
  });
}
