// Request limits: body size (413), JSON nesting depth (422 payload_too_deep, found by a scan
// of the raw bytes), header count (431), field lengths (422 naming the field), and the API
// rate limit per client address while hookd runs without keys (429 with Retry-After).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { MAX_JSON_DEPTH, MAX_REQUEST_HEADERS, jsonNestedDeeperThan } from '../src/api/limits.ts';
import { call, subscribe } from './support/api.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
const event = (data: string) => `{"event_type":"order.created","data":${data}}`;

test('the depth scan counts brackets outside strings only, without parsing', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');
  assert.equal(jsonNestedDeeperThan(bytes(nested(64)), 64), false);
  assert.equal(jsonNestedDeeperThan(bytes(nested(65)), 64), true);
  // {"a": + 10 arrays + {"b": + {} = 13 levels.
  assert.equal(jsonNestedDeeperThan(bytes(`{"a":${nested(10, '{"b":{}}')}}`), 13), false);
  assert.equal(jsonNestedDeeperThan(bytes(`{"a":${nested(10, '{"b":{}}')}}`), 12), true);
  // Escaped quotes and backslashes do not end a string early.
  assert.equal(jsonNestedDeeperThan(bytes(JSON.stringify([{ s: '[[[[{{{{"\\' }])), 2), false);
  assert.equal(jsonNestedDeeperThan(bytes(JSON.stringify(['\\"[[[', '[[[', { k: ']]]' }])), 2), false);
  const huge = bytes(nested(1_000_000));
  const started = performance.now();
  assert.equal(jsonNestedDeeperThan(huge, 64), true);
  assert.ok(performance.now() - started < 100, 'stops at the limit');
});

for (const name of STORE_NAMES) {
  describe(`request limits (${name})`, () => {
    const targets: StoreTarget[] = [];
    let app: App;
    let subscriptionId: string;

    before(async () => {
      targets.push(newTarget(name));
      app = await startTestApp(targets[0]!, { config: { maxPayloadBytes: 64 * 1024 } });
      subscriptionId = await subscribe(app, 'https://93.184.215.14/hook');
    });
    after(async () => {
      await app.close();
      for (const target of targets) await target.cleanup();
    });

    test(`JSON nested up to ${MAX_JSON_DEPTH} levels is accepted; deeper gets 422 payload_too_deep on every route`, async () => {
      // The event object itself is one level.
      assert.equal((await call(app, 'POST', `/ingest/${subscriptionId}`, event(nested(MAX_JSON_DEPTH - 1)))).status, 202);
      for (const [method, path] of [['POST', `/ingest/${subscriptionId}`], ['POST', '/events'], ['POST', '/subscriptions'], ['PATCH', `/subscriptions/${subscriptionId}`]] as const) {
        for (const body of [event(nested(MAX_JSON_DEPTH)), event(nested(20_000)), nested(30_000)]) {
          const answer = await call(app, method, path, body);
          assert.equal(answer.status, 422, `${method} ${path}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.error.code, 'payload_too_deep');
          assert.match(answer.body.error.message, /more than 64 levels/);
        }
      }
      // Brackets inside strings are data, not nesting.
      assert.equal((await call(app, 'POST', `/ingest/${subscriptionId}`, event(JSON.stringify('['.repeat(5000))))).status, 202);
    });

    test('a body over HOOKD_MAX_PAYLOAD_BYTES gets 413 payload_too_large', async () => {
      const answer = await call(app, 'POST', '/events', event(JSON.stringify('x'.repeat(64 * 1024))));
      assert.equal(answer.status, 413);
      assert.equal(answer.body.error.code, 'payload_too_large');
    });

    test(`more than ${MAX_REQUEST_HEADERS} request headers get 431 too_many_headers`, async () => {
      const headers = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-filler-${i}`, 'v']));
      assert.equal((await call(app, 'GET', '/subscriptions', undefined, headers(MAX_REQUEST_HEADERS - 10))).status, 200);
      const answer = await call(app, 'GET', '/subscriptions', undefined, headers(MAX_REQUEST_HEADERS + 1));
      assert.equal(answer.status, 431);
      assert.equal(answer.body.error.code, 'too_many_headers');
    });

    test('over-long fields get 422 naming the field', async () => {
      const cases: [string, string, Record<string, unknown>, string][] = [
        ['POST', '/subscriptions', { target_url: `https://example.com/${'a'.repeat(2048)}` }, 'target_url'],
        ['POST', '/subscriptions', { target_url: 'https://example.com/', secret: 's'.repeat(257) }, 'secret'],
        ['POST', '/subscriptions', { target_url: 'https://example.com/', description: 'd'.repeat(1025) }, 'description'],
        ['POST', '/subscriptions', { target_url: 'https://example.com/', event_types: ['e'.repeat(101)] }, 'event_types'],
        ['POST', '/events', { event_type: 'e'.repeat(101) }, 'event_type'],
      ];
      for (const [method, path, body, field] of cases) {
        const answer = await call(app, method, path, body);
        assert.equal(answer.status, 422, `${field}: ${JSON.stringify(answer.body)}`);
        assert.ok(JSON.stringify(answer.body.error).includes(field), JSON.stringify(answer.body));
      }
      const longType = await call(app, 'POST', '/events', '{"data":1}', { 'x-event-type': 'e'.repeat(101) });
      assert.equal(longType.status, 422);
      assert.equal((await call(app, 'GET', `/deliveries?cursor=${'c'.repeat(201)}`)).status, 422);
    });

    test('without keys the rate limit counts per client address, and never health', async () => {
      targets.push(newTarget(name));
      const limited = await startTestApp(targets.at(-1)!, { config: { rateLimitPerMinute: 3 } });
      try {
        for (let i = 0; i < 3; i++) assert.equal((await call(limited, 'GET', '/status')).status, 200);
        const answer = await call(limited, 'POST', '/events', event('1'));
        assert.equal(answer.status, 429);
        assert.equal(answer.body.error.code, 'rate_limited');
        assert.ok(Number(answer.headers.get('retry-after')) > 0);
        assert.equal((await call(limited, 'GET', '/health')).status, 200);
      } finally {
        await limited.close();
      }
    });
  });
}
