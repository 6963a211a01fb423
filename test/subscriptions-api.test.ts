// The subscriptions API, health and status, through a started app on each store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { App } from '../src/app.ts';
import { call, type Answer } from './support/api.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const PACKAGE_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const EXAMPLE_ID = '123e4567-e89b-12d3-a456-426614174000';
const GENERATED_SECRET = /^whsec_[A-Za-z0-9+/]{32}$/;

type Reply = Answer;

/** The API of one app, bound to it. */
function client(app: App) {
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    call(app, method, path, body, headers);
}

/** Every failure carries the one documented body, and none is a 500. */
function assertError(reply: { status: number; body: any }, status: number, code: string): void {
  assert.notEqual(reply.status, 500, `unexpected 500: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.status, status, `expected ${status} ${code}, got ${reply.status} ${JSON.stringify(reply.body)}`);
  assert.deepEqual(Object.keys(reply.body), ['error']);
  const { error } = reply.body;
  assert.equal(error.code, code);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  for (const key of Object.keys(error)) assert.ok(['code', 'message', 'details'].includes(key), `unexpected key error.${key}`);
}

/** A 422 validation failure that names `field` in its message or details. */
function assertInvalid(reply: Reply, field: string): void {
  assertError(reply, 422, 'validation_failed');
  const text = reply.body.error.message + JSON.stringify(reply.body.error.details ?? '');
  assert.ok(text.includes(field), `error should name ${field}: ${JSON.stringify(reply.body)}`);
}

function assertNoSecret(view: Record<string, unknown>): void {
  assert.ok(!('secret' in view), `secret leaked: ${JSON.stringify(view)}`);
}

for (const name of STORE_NAMES) {
  describe(`subscriptions API (${name})`, () => {
    const targets: StoreTarget[] = [];
    const apps: App[] = [];
    let app: App;
    let call: ReturnType<typeof client>;

    async function freshApp(options: Parameters<typeof startTestApp>[1] = {}): Promise<App> {
      const target = newTarget(name);
      targets.push(target);
      const started = await startTestApp(target, options);
      apps.push(started);
      return started;
    }

    before(async () => {
      app = await freshApp();
      call = client(app);
    });
    after(async () => {
      for (const a of apps) await a.close();
      for (const t of targets) await t.cleanup();
    });

    describe('the README\'s curl examples', () => {
      let id: string;

      it('creates a subscription: POST /api/v1/subscriptions/ (trailing slash)', async () => {
        const reply = await call('POST', '/subscriptions/', {
          target_url: 'https://webhook.site/your-webhook-id',
          secret: 'your-long-secret-key',
          event_types: ['order.created', 'user.registered'],
        });
        assert.equal(reply.status, 201, JSON.stringify(reply.body));
        assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
        const body = reply.body;
        assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.equal(body.target_url, 'https://webhook.site/your-webhook-id');
        assert.equal(body.secret, 'your-long-secret-key');
        assert.deepEqual(body.event_types, ['order.created', 'user.registered']);
        assert.equal(body.description, null);
        assert.equal(body.active, true);
        assert.equal(body.require_signed_ingest, false);
        assert.equal(body.retry_policy, null);
        assert.ok(!Number.isNaN(Date.parse(body.created_at)));
        assert.equal(body.created_at, body.updated_at);
        id = body.id;
      });

      it('lists all subscriptions: GET /api/v1/subscriptions/', async () => {
        const reply = await call('GET', '/subscriptions/');
        assert.equal(reply.status, 200);
        const listed = reply.body.items.find((s: { id: string }) => s.id === id);
        assert.ok(listed, 'the created subscription is listed');
        assert.equal(listed.target_url, 'https://webhook.site/your-webhook-id');
        for (const item of reply.body.items) assertNoSecret(item);
        assert.ok('next_cursor' in reply.body);
      });

      it('gets a specific subscription: GET /api/v1/subscriptions/{id}', async () => {
        const reply = await call('GET', `/subscriptions/${id}`);
        assert.equal(reply.status, 200);
        assert.equal(reply.body.id, id);
        assert.deepEqual(reply.body.event_types, ['order.created', 'user.registered']);
        assertNoSecret(reply.body);
        assertError(await call('GET', `/subscriptions/${EXAMPLE_ID}`), 404, 'subscription_not_found');
      });

      it('updates a subscription: PUT /api/v1/subscriptions/{id}', async () => {
        const reply = await call('PUT', `/subscriptions/${id}`, {
          target_url: 'https://new-webhook-endpoint.com/hook',
          event_types: ['order.created', 'order.updated', 'order.canceled'],
        });
        assert.equal(reply.status, 200, JSON.stringify(reply.body));
        assert.equal(reply.body.target_url, 'https://new-webhook-endpoint.com/hook');
        assert.deepEqual(reply.body.event_types, ['order.created', 'order.updated', 'order.canceled']);
        assertNoSecret(reply.body);
        const secret = await call('GET', `/subscriptions/${id}/secret`);
        assert.deepEqual(secret.body, { secret: 'your-long-secret-key' });
      });

      it('deletes a subscription: DELETE /api/v1/subscriptions/{id}', async () => {
        const reply = await call('DELETE', `/subscriptions/${id}`);
        assert.equal(reply.status, 204);
        assert.equal(reply.body, undefined);
        assertError(await call('GET', `/subscriptions/${id}`), 404, 'subscription_not_found');
        assertError(await call('GET', `/subscriptions/${id}/secret`), 404, 'subscription_not_found');
        assertError(await call('DELETE', `/subscriptions/${id}`), 404, 'subscription_not_found');
        const list = await call('GET', '/subscriptions');
        assert.ok(!list.body.items.some((s: { id: string }) => s.id === id));
      });
    });

    describe('create, replace, patch', () => {
      it('generates a whsec_ secret when none is given, shown only at creation and by /secret', async () => {
        const created = await call('POST', '/subscriptions', { target_url: 'https://example.com/a' });
        assert.equal(created.status, 201);
        assert.match(created.body.secret, GENERATED_SECRET);
        assert.equal(created.body.event_types, null);
        const id = created.body.id;
        const other = await call('POST', '/subscriptions', { target_url: 'https://example.com/a' });
        assert.notEqual(other.body.secret, created.body.secret);

        assertNoSecret((await call('GET', `/subscriptions/${id}`)).body);
        for (const item of (await call('GET', '/subscriptions?limit=100')).body.items) assertNoSecret(item);
        assertNoSecret((await call('PATCH', `/subscriptions/${id}`, { description: 'x' })).body);
        assertNoSecret((await call('PUT', `/subscriptions/${id}`, { target_url: 'https://example.com/b' })).body);
        assert.deepEqual((await call('GET', `/subscriptions/${id}/secret`)).body, { secret: created.body.secret });
      });

      it('PUT keeps the secret and resets every omitted optional field', async () => {
        const created = await call('POST', '/subscriptions', {
          target_url: 'https://example.com/full',
          secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          event_types: ['a.b'],
          description: 'everything set',
          active: false,
          require_signed_ingest: true,
          retry_policy: { max_attempts: 3, initial_delay_ms: 1000, backoff_factor: 3, max_delay_ms: 60000, jitter: 0 },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.deepEqual(created.body.retry_policy, { max_attempts: 3, initial_delay_ms: 1000, backoff_factor: 3, max_delay_ms: 60000, jitter: 0 });
        const id = created.body.id;

        const replaced = await call('PUT', `/subscriptions/${id}`, { target_url: 'https://example.com/replaced', event_types: ['c.*'] });
        assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
        const fetched = await call('GET', `/subscriptions/${id}`);
        for (const view of [replaced.body, fetched.body]) {
          assert.equal(view.target_url, 'https://example.com/replaced');
          assert.deepEqual(view.event_types, ['c.*']);
          assert.equal(view.description, null);
          assert.equal(view.active, true);
          assert.equal(view.require_signed_ingest, false);
          assert.equal(view.retry_policy, null);
          assert.equal(view.created_at, created.body.created_at);
        }
        assert.deepEqual((await call('GET', `/subscriptions/${id}/secret`)).body, { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });

        const rotated = await call('PUT', `/subscriptions/${id}`, { target_url: 'https://example.com/replaced', secret: 'a-new-secret-value' });
        assert.equal(rotated.status, 200);
        assertNoSecret(rotated.body);
        assert.equal(rotated.body.event_types, null, 'omitted event_types on PUT means every type');
        assert.deepEqual((await call('GET', `/subscriptions/${id}/secret`)).body, { secret: 'a-new-secret-value' });
      });

      it('PATCH changes only the fields given', async () => {
        const created = await call('POST', '/subscriptions', {
          target_url: 'https://example.com/p', event_types: ['x.y'], description: 'before', retry_policy: { max_attempts: 5 },
        });
        const id = created.body.id;
        const patched = await call('PATCH', `/subscriptions/${id}`, { active: false });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assert.equal(patched.body.active, false);
        assert.equal(patched.body.target_url, 'https://example.com/p');
        assert.deepEqual(patched.body.event_types, ['x.y']);
        assert.equal(patched.body.description, 'before');
        assert.deepEqual(patched.body.retry_policy, { max_attempts: 5 });

        const second = await call('PATCH', `/subscriptions/${id}`, { description: null, target_url: 'https://example.com/q', event_types: null });
        assert.equal(second.status, 200);
        const fetched = (await call('GET', `/subscriptions/${id}`)).body;
        assert.equal(fetched.description, null);
        assert.equal(fetched.target_url, 'https://example.com/q');
        assert.equal(fetched.event_types, null);
        assert.equal(fetched.active, false);
        assert.deepEqual(fetched.retry_policy, { max_attempts: 5 });
        assert.deepEqual((await call('GET', `/subscriptions/${id}/secret`)).body, { secret: created.body.secret });
      });

      it('accepts upper-case ids as the same subscription', async () => {
        const created = await call('POST', '/subscriptions', { target_url: 'https://example.com/case' });
        const reply = await call('GET', `/subscriptions/${created.body.id.toUpperCase()}`);
        assert.equal(reply.status, 200);
        assert.equal(reply.body.id, created.body.id);
      });
    });

    describe('bad input gets the documented error body', () => {
      let id: string;
      before(async () => {
        id = (await call('POST', '/subscriptions', { target_url: 'https://example.com/errors' })).body.id;
      });

      const wrongTypes: [string, Record<string, unknown>, string][] = [
        ['target_url: 5', { target_url: 5 }, 'target_url'],
        ['active: "yes"', { target_url: 'https://example.com/', active: 'yes' }, 'active'],
        ['event_types: "x"', { target_url: 'https://example.com/', event_types: 'x' }, 'event_types'],
        ['retry_policy.max_attempts: 0', { target_url: 'https://example.com/', retry_policy: { max_attempts: 0 } }, 'max_attempts'],
        ['missing target_url', { event_types: ['a'] }, 'target_url'],
        ['an unknown field', { target_url: 'https://example.com/', colour: 'blue' }, 'colour'],
        ['target_url "not a url"', { target_url: 'not a url' }, 'target_url'],
        ['target_url "ftp://x"', { target_url: 'ftp://x' }, 'target_url'],
        ['target_url with credentials', { target_url: 'http://user:pass@host/' }, 'target_url'],
        ['event type pattern "or*der"', { target_url: 'https://example.com/', event_types: ['or*der'] }, 'event_types'],
        ['a whsec_ secret that is not base64', { target_url: 'https://example.com/', secret: 'whsec_!!!!notbase64' }, 'secret'],
        ['a rate limit below the floor (5e-324)', { target_url: 'https://example.com/', rate_limit_per_second: 5e-324 }, 'rate_limit_per_second'],
        ['a rate limit of 0', { target_url: 'https://example.com/', rate_limit_per_second: 0 }, 'rate_limit_per_second'],
      ];
      for (const [label, body, field] of wrongTypes) {
        it(`422 for ${label} on POST, PUT and PATCH`, async () => {
          assertInvalid(await call('POST', '/subscriptions', body), field);
          assertInvalid(await call('PUT', `/subscriptions/${id}`, body), field);
          if ('target_url' in body || field !== 'target_url') {
            assertInvalid(await call('PATCH', `/subscriptions/${id}`, body), field);
          }
        });
      }

      it('a rejected update changes nothing', async () => {
        const beforeView = (await call('GET', `/subscriptions/${id}`)).body;
        assertInvalid(await call('PATCH', `/subscriptions/${id}`, { target_url: 'ftp://x' }), 'target_url');
        assertInvalid(await call('PUT', `/subscriptions/${id}`, { target_url: 'https://example.com/', secret: 'whsec_!!!!notbase64' }), 'secret');
        assert.deepEqual((await call('GET', `/subscriptions/${id}`)).body, beforeView);
      });

      it('422 for PATCH with {} or with no body, and the document says PATCH needs a body', async () => {
        assertError(await call('PATCH', `/subscriptions/${id}`), 422, 'validation_failed');
        const spec = (await call('GET', '/openapi.json')).body;
        assert.equal(spec.paths['/api/v1/subscriptions/{id}'].patch.requestBody.required, true);
        assertError(await call('PATCH', `/subscriptions/${id}`, {}), 422, 'validation_failed');
      });

      it('400 invalid_json for a body that is not JSON', async () => {
        assertError(await call('POST', '/subscriptions', '{"target_url": ', { 'content-type': 'application/json' }), 400, 'invalid_json');
        assertError(await call('PATCH', `/subscriptions/${id}`, '{nope}', { 'content-type': 'application/json' }), 400, 'invalid_json');
      });

      it('415 unsupported_media_type for a text/plain body', async () => {
        const body = JSON.stringify({ target_url: 'https://example.com/' });
        assertError(await call('POST', '/subscriptions', body, { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
        assertError(await call('POST', '/subscriptions', body, { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
      });

      it('413 payload_too_large for a body over 1 MiB', async () => {
        const body = JSON.stringify({ target_url: 'https://example.com/', description: 'x'.repeat(1024 * 1024) });
        const reply = await app.server!.inject({ method: 'POST', url: '/api/v1/subscriptions', headers: { 'content-type': 'application/json' }, payload: body });
        assertError({ status: reply.statusCode, body: reply.json() }, 413, 'payload_too_large');
      });

      for (const badId of [EXAMPLE_ID, '123', 'not-a-uuid']) {
        it(`404 subscription_not_found for id ${badId} on GET, PUT, PATCH, DELETE`, async () => {
          assertError(await call('GET', `/subscriptions/${badId}`), 404, 'subscription_not_found');
          assertError(await call('GET', `/subscriptions/${badId}/secret`), 404, 'subscription_not_found');
          assertError(await call('PUT', `/subscriptions/${badId}`, { target_url: 'https://example.com/' }), 404, 'subscription_not_found');
          assertError(await call('PATCH', `/subscriptions/${badId}`, { active: false }), 404, 'subscription_not_found');
          assertError(await call('DELETE', `/subscriptions/${badId}`), 404, 'subscription_not_found');
        });
      }

      it('404 route_not_found for an unknown route', async () => {
        assertError(await call('GET', '/no-such-thing'), 404, 'route_not_found');
        assertError(await call('POST', '/subscriptions/x/y/z', {}), 404, 'route_not_found');
        assertError(await call('GET', '/../../etc/passwd'), 404, 'route_not_found');
      });
    });

    describe('pagination and filters', () => {
      let list: ReturnType<typeof client>;
      const ids: Record<string, string> = {};

      before(async () => {
        list = client(await freshApp());
        const filters: Record<string, string[] | null> = {
          all: null, exact: ['order.created'], star: ['*'], prefix: ['order.*'], user: ['user.registered'],
          deep: ['order.item.*'], other: ['invoice.paid'],
        };
        for (const [key, event_types] of Object.entries(filters)) {
          const reply = await list('POST', '/subscriptions', { target_url: `https://example.com/${key}`, event_types });
          assert.equal(reply.status, 201, JSON.stringify(reply.body));
          ids[key] = reply.body.id;
        }
      });

      it('pages through 7 subscriptions 3 at a time, oldest first, without duplicates', async () => {
        const seen: string[] = [];
        const sizes: number[] = [];
        let cursor: string | null = null;
        for (let page = 0; page < 10; page++) {
          const query: string = cursor ? `?limit=3&cursor=${encodeURIComponent(cursor)}` : '?limit=3';
          const reply = await list('GET', `/subscriptions${query}`);
          assert.equal(reply.status, 200, JSON.stringify(reply.body));
          sizes.push(reply.body.items.length);
          seen.push(...reply.body.items.map((s: { id: string }) => s.id));
          cursor = reply.body.next_cursor;
          if (cursor === null) break;
          assert.equal(typeof cursor, 'string');
        }
        assert.deepEqual(sizes, [3, 3, 1]);
        assert.equal(cursor, null);
        assert.equal(new Set(seen).size, 7);
        assert.deepEqual(seen, Object.values(ids), 'oldest first, in creation order');
      });

      it('defaults to one page of everything', async () => {
        const reply = await list('GET', '/subscriptions');
        assert.equal(reply.body.items.length, 7);
        assert.equal(reply.body.next_cursor, null);
        const exact = await list('GET', '/subscriptions?limit=7');
        assert.equal(exact.body.items.length, 7);
        assert.equal(exact.body.next_cursor, null, 'no cursor when nothing follows');
      });

      for (const limit of ['0', '101', 'abc', '-1', '1.5']) {
        it(`422 for limit=${limit}`, async () => {
          assertInvalid(await list('GET', `/subscriptions?limit=${limit}`), 'limit');
        });
      }

      it('accepts limit=1 and limit=100', async () => {
        assert.equal((await list('GET', '/subscriptions?limit=1')).body.items.length, 1);
        assert.equal((await list('GET', '/subscriptions?limit=100')).body.items.length, 7);
      });

      // A cursor is the id a page ended with: anything but a UUID is refused, as the OpenAPI document says.
      for (const cursor of ['zzz', 'bm90LWEtdXVpZA', '%00', '', 'x'.repeat(201), 'MDE5N2EzYzItN2Q0Mi03ZTE5LTljNTUtNWE3YzNlOTFiMGYy']) {
        it(`422 invalid_cursor for cursor=${cursor.slice(0, 20)}`, async () => {
          const reply = await list('GET', `/subscriptions?cursor=${cursor}`);
          assertError(reply, 422, 'invalid_cursor');
        });
      }

      it('422 for an unknown query parameter', async () => {
        assertError(await list('GET', '/subscriptions?colour=blue'), 422, 'validation_failed');
      });

      const expectations: [string, string[]][] = [
        ['order.created', ['all', 'exact', 'star', 'prefix']],
        ['order.item.added', ['all', 'star', 'prefix', 'deep']],
        ['order', ['all', 'star']],
        ['user.registered', ['all', 'star', 'user']],
        ['unknown.type', ['all', 'star']],
        ['ordered.created', ['all', 'star']],
      ];
      for (const [eventType, keys] of expectations) {
        it(`event_type=${eventType} lists the subscriptions that would receive it`, async () => {
          const reply = await list('GET', `/subscriptions?event_type=${eventType}`);
          assert.equal(reply.status, 200, JSON.stringify(reply.body));
          assert.deepEqual(reply.body.items.map((s: { id: string }) => s.id), keys.map((k) => ids[k]));
        });
      }

      it('pages through a filtered list', async () => {
        const first = await list('GET', '/subscriptions?event_type=order.created&limit=3');
        assert.deepEqual(first.body.items.map((s: { id: string }) => s.id), [ids.all, ids.exact, ids.star]);
        assert.ok(first.body.next_cursor);
        const second = await list('GET', `/subscriptions?event_type=order.created&limit=3&cursor=${first.body.next_cursor}`);
        assert.deepEqual(second.body.items.map((s: { id: string }) => s.id), [ids.prefix]);
        assert.equal(second.body.next_cursor, null);
      });

      it('422 for an event_type that is not a valid name', async () => {
        assertInvalid(await list('GET', '/subscriptions?event_type=has%20space'), 'event_type');
      });
    });

    describe('optional bodies and the history of deleted subscriptions', () => {
      it('an empty body is {} where every field is optional: rotating with no body at all', async () => {
        const created = await call('POST', '/subscriptions', { target_url: 'https://example.com/rotate' });
        const before = (await call('GET', `/subscriptions/${created.body.id}/secret`)).body.secret;
        for (const headers of [{}, { 'content-type': 'application/json' }]) {
          const response = await fetch(`${app.url}/api/v1/subscriptions/${created.body.id}/secret/rotate`, { method: 'POST', headers });
          const body = await response.json() as { secret: string; previous_secret_expires_at: string };
          assert.equal(response.status, 200, JSON.stringify(body));
          assert.match(body.secret, GENERATED_SECRET);
          assert.notEqual(body.secret, before);
          // The default grace applies, as for {}.
          assert.ok(Date.parse(body.previous_secret_expires_at) > Date.now() + 86_000_000);
        }
        // A route that needs a field still refuses an empty body.
        assertError(await call('POST', '/subscriptions', ''), 400, 'invalid_json');
        assertInvalid(await call('POST', '/subscriptions'), 'body');
        const spec = (await (await fetch(`${app.url}/api/v1/openapi.json`)).json()) as any;
        assert.equal(spec.paths['/api/v1/subscriptions/{id}/secret/rotate'].post.requestBody.required, false);
        assert.equal(spec.paths['/api/v1/subscriptions'].post.requestBody.required, true);
        // An event is never empty, though all its fields are optional.
        const noEvent = await fetch(`${app.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-event-type': 'order.created' } });
        assert.equal(noEvent.status, 400);
        assert.equal(spec.paths['/api/v1/events'].post.requestBody.required, true);
      });

      it('a deleted subscription\'s deliveries stay listed under it; an id never used is 404', async () => {
        // An API-only process: the deliveries stay queued, nothing is sent.
        const api = client(await freshApp({ role: 'api' }));
        const created = await api('POST', '/subscriptions', { target_url: 'https://example.com/deleted' });
        const ingested = await api('POST', `/ingest/${created.body.id}`, { event_type: 'order.created', data: {} });
        assert.equal(ingested.status, 202);
        assert.equal((await api('DELETE', `/subscriptions/${created.body.id}`)).status, 204);
        const history = await api('GET', `/subscriptions/${created.body.id}/deliveries`);
        assert.equal(history.status, 200, JSON.stringify(history.body));
        assert.deepEqual(history.body.items.map((d: { id: string; status: string }) => [d.id, d.status]), [[ingested.body.delivery_id, 'cancelled']]);
        assertError(await api('GET', `/subscriptions/${created.body.id}`), 404, 'subscription_not_found');
        assertError(await api('GET', `/subscriptions/${EXAMPLE_ID}/deliveries`), 404, 'subscription_not_found');
      });
    });

    describe('health and status', () => {
      it('GET /api/v1/health is 200 with every check ok', async () => {
        const reply = await call('GET', '/health');
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.body, { status: 'ok', checks: { database: 'ok' } });
      });

      it('health is 503 naming the failed database check, without the database\'s own error, once the store is closed', async () => {
        // API only: no workers polling the store this test breaks.
        const broken = await freshApp({ role: 'api' });
        apps.pop(); // closed here, not in after(): its store is already gone
        const brokenCall = client(broken);
        assert.equal((await brokenCall('GET', '/health')).status, 200);
        await broken.store.close();
        try {
          const reply = await brokenCall('GET', '/health');
          assert.equal(reply.status, 503);
          // The route needs no key: what went wrong is for the log, not for anyone who asks.
          assert.deepEqual(reply.body, { status: 'unavailable', checks: { database: 'unavailable' } });
          assertError(await brokenCall('GET', '/status'), 503, 'store_unavailable');
          assertError(await brokenCall('POST', '/subscriptions', { target_url: 'https://example.com/' }), 503, 'store_unavailable');
        } finally {
          // Closing the app closes the store a second time, which may complain.
          await broken.close().catch(() => {});
        }
      });

      it('GET /api/v1/status reports version, uptime, store, counts and queue figures', async () => {
        let now = Date.UTC(2030, 0, 1);
        const statusApp = await freshApp({ clock: () => now });
        const statusCall = client(statusApp);
        const first = await statusCall('GET', '/status');
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.equal(first.body.version, PACKAGE_VERSION);
        assert.equal(first.body.store, name);
        assert.equal(first.body.uptime_seconds, 0);
        assert.equal(first.body.subscriptions, 0);
        assert.deepEqual(first.body.deliveries, { queued: 0, delivering: 0, succeeded: 0, failed: 0, filtered: 0, cancelled: 0 });
        assert.deepEqual(first.body.queue, {
          depth: 0, due_now: 0, in_flight: 0, oldest_due_age_seconds: 0, succeeded_last_hour: 0, failed_last_hour: 0,
        });

        const a = await statusCall('POST', '/subscriptions', { target_url: 'https://example.com/1' });
        await statusCall('POST', '/subscriptions', { target_url: 'https://example.com/2' });
        await statusCall('POST', '/subscriptions', { target_url: 'https://example.com/3' });
        now += 90_000;
        const second = await statusCall('GET', '/status');
        assert.equal(second.body.subscriptions, 3);
        assert.equal(second.body.uptime_seconds, 90);

        assert.equal((await statusCall('DELETE', `/subscriptions/${a.body.id}`)).status, 204);
        const third = await statusCall('GET', '/status');
        assert.equal(third.body.subscriptions, 2);
      });
    });
  });
}
