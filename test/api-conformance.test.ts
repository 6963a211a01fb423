// The API's promises at its edge: a wrong method gets 405 with Allow (before any body is read,
// so an unknown method never asks for a content type), and validation messages are one clear
// sentence per field (alternatives folded, enums listing their values, 413 naming the limit,
// compressed or non-UTF-8 bodies refused with 415).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { OPERATIONS_SUBSCRIPTION_ID } from '../src/delivery/operations.ts';
import { call, subscribe } from './support/api.ts';
import { request } from './support/raw-http.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const KEY = `hk_${'c'.repeat(43)}`;
const LIMIT = 4096;

for (const name of STORE_NAMES) {
  describe(`API conformance (${name})`, () => {
    const targets: StoreTarget[] = [];
    let app: App;
    let subscriptionId: string;

    before(async () => {
      targets.push(newTarget(name));
      app = await startTestApp(targets[0]!, { config: { maxPayloadBytes: LIMIT } });
      // Inactive: the events these tests send are accepted but delivered nowhere.
      subscriptionId = await subscribe(app, 'https://93.184.215.14/hook', { active: false });
    });
    after(async () => {
      await app.close();
      for (const target of targets) await target.cleanup();
    });

    test('a path served with other methods answers 405 with Allow listing them', async () => {
      const cases: [string, string, string][] = [
        ['TRACE', '/api/v1/health', 'GET, HEAD'],
        ['DELETE', '/api/v1/status', 'GET, HEAD'],
        ['POST', `/api/v1/subscriptions/${subscriptionId}/`, 'DELETE, GET, HEAD, PATCH, PUT'],
        ['PUT', '/api/v1/subscriptions', 'GET, HEAD, POST'],
        ['QUERY', '/api/v1/deliveries', 'GET, HEAD'],
        ['OPTIONS', '/api/v1/events', 'POST'],
      ];
      for (const [method, path, allow] of cases) {
        const answer = await request(`${app.url}${path}`, { method });
        assert.equal(answer.status, 405, `${method} ${path}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.headers.allow, allow, `${method} ${path}`);
        assert.equal(answer.body.error.code, 'method_not_allowed');
        assert.ok(answer.body.error.message.includes(method) && answer.body.error.message.includes(allow), answer.body.error.message);
      }
      const unknown = await request(`${app.url}/api/v1/nothing-here`, { method: 'DELETE' });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'route_not_found');
    });

    test('an unknown method with a body never asks for a content type', async () => {
      for (const headers of [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/json' }] as Record<string, string>[]) {
        const answer = await request(`${app.url}/api/v1/subscriptions`, { method: 'QUERY', headers, body: 'x' });
        assert.equal(answer.status, 405, `${JSON.stringify(headers)}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'method_not_allowed');
      }
    });

    test('with keys, a wrong method still needs the key first', async () => {
      targets.push(newTarget(name));
      const keyed = await startTestApp(targets.at(-1)!, { config: { apiKey: KEY } });
      try {
        assert.equal((await request(`${keyed.url}/api/v1/status`, { method: 'DELETE' })).status, 401);
        const answer = await request(`${keyed.url}/api/v1/status`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
        assert.equal(answer.status, 405);
      } finally {
        await keyed.close();
      }
    });

    test('event_types: [] gets one message about the list, not about null or anyOf', async () => {
      const answer = await call(app, 'POST', '/subscriptions', { target_url: 'https://93.184.215.14/', event_types: [] });
      assert.equal(answer.status, 422);
      assert.equal(answer.body.error.message, 'event_types: must have at least 1 item');
      assert.deepEqual(answer.body.error.details, [{ field: 'event_types', message: 'must have at least 1 item' }]);
      const wrongKind = await call(app, 'POST', '/subscriptions', { target_url: 'https://93.184.215.14/', event_types: 'order.created' });
      assert.deepEqual(wrongKind.body.error.details, [{ field: 'event_types', message: 'must be array or null' }]);
      const badOrdering = await call(app, 'PATCH', `/subscriptions/${subscriptionId}`, { ordering: 'random' });
      assert.deepEqual(badOrdering.body.error.details, [{ field: 'ordering', message: 'must be one of parallel, fifo' }]);
      const badRate = await call(app, 'PATCH', `/subscriptions/${subscriptionId}`, { rate_limit_per_second: -1 });
      assert.deepEqual(badRate.body.error.details, [{ field: 'rate_limit_per_second', message: 'must be >= 0.01' }]);
    });

    test('the operations secret is 404 while HOOKD_OPERATIONS_URL is not set, as the README and .env.example say', async () => {
      const answer = await call(app, 'GET', `/subscriptions/${OPERATIONS_SUBSCRIPTION_ID}/secret`);
      assert.equal(answer.status, 404);
      assert.equal(answer.body.error.code, 'subscription_not_found');
      for (const file of ['README.md', '.env.example']) {
        const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
        const line = text.split('\n').find((l) => l.includes(`${OPERATIONS_SUBSCRIPTION_ID}/secret`) && /404 until HOOKD_OPERATIONS_URL/.test(l));
        assert.ok(line, `${file} says the operations secret is 404 until HOOKD_OPERATIONS_URL is set`);
      }
    });

    test('an enum error lists the allowed values', async () => {
      const answer = await call(app, 'GET', '/deliveries?status=bogus');
      assert.equal(answer.status, 422);
      assert.equal(answer.body.error.message, 'status: must be one of queued, delivering, succeeded, failed, filtered, cancelled');
    });

    test('413 states the limit', async () => {
      const answer = await call(app, 'POST', '/events', JSON.stringify({ event_type: 'order.created', data: 'x'.repeat(LIMIT) }));
      assert.equal(answer.status, 413);
      assert.equal(answer.body.error.code, 'payload_too_large');
      assert.match(answer.body.error.message, new RegExp(`larger than ${LIMIT} bytes.*HOOKD_MAX_PAYLOAD_BYTES`));
    });

    test('compressed bodies and charsets other than UTF-8 get 415; UTF-8 is accepted', async () => {
      const body = JSON.stringify({ event_type: 'order.created', data: { total: 1 } });
      const gzipped = await fetch(`${app.url}/api/v1/events`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(body),
      });
      const gzipAnswer = await gzipped.json() as { error: { code: string; message: string } };
      assert.equal(gzipped.status, 415, JSON.stringify(gzipAnswer));
      assert.equal(gzipAnswer.error.code, 'unsupported_media_type');
      assert.match(gzipAnswer.error.message, /Content-Encoding gzip/);

      const latin1 = await call(app, 'POST', '/events', body, { 'content-type': 'application/json; charset=iso-8859-1' });
      assert.equal(latin1.status, 415, JSON.stringify(latin1.body));
      assert.match(latin1.body.error.message, /charset=iso-8859-1/);

      for (const type of ['application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'application/json']) {
        assert.equal((await call(app, 'POST', '/events', body, { 'content-type': type })).status, 202, type);
      }
    });
  });
}
