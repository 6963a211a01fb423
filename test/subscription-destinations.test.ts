// A subscription's broker destination through the API, on both stores: each kind is
// accepted and shown with its password masked, the URL is sealed at rest, a masked URL sent
// back keeps the stored one, target_url and destination switch a subscription between HTTP
// and a broker, and what the schema or the network policy refuses is a clear 422.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call } from './support/api.ts';
import { withRawDb } from './support/raw-db.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const DESTINATIONS = {
  rabbitmq: { type: 'rabbitmq', url: 'amqp://hookd:s3cret-pw@rabbitmq.internal:5672/%2F', exchange: 'orders', routing_key: 'order.events' },
  nats: { type: 'nats', url: 'nats://hookd:s3cret-pw@nats.internal:4222', subject: 'orders.created' },
  redis: { type: 'redis', url: 'redis://default:s3cret-pw@redis.internal:6379/2', stream: 'orders', max_len: 1000 },
} as const;

for (const name of STORE_NAMES) {
  describe(`subscription destinations (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, { role: 'api', config: { encryptionKey: randomBytes(32) } });
    });
    after(async () => {
      await app.close();
      await target.cleanup();
    });

    for (const [kind, destination] of Object.entries(DESTINATIONS)) {
      test(`${kind}: created and shown with the password masked, sealed at rest, kept when sent back masked`, async () => {
        const created = await call(app, 'POST', '/subscriptions', { destination, description: kind });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.equal(created.body.target_url, null);
        const masked = destination.url.replace('s3cret-pw', '****');
        assert.deepEqual(created.body.destination, { ...destination, url: masked, ...(kind === 'redis' && { max_len: 1000 }) });
        const id = created.body.id;
        for (const answer of [created, await call(app, 'GET', `/subscriptions/${id}`), await call(app, 'GET', '/subscriptions')]) {
          assert.ok(!JSON.stringify(answer.body).includes('s3cret-pw'), 'the password is never shown');
        }
        const raw = await withRawDb(target, (db) => db.selectFrom('subscriptions').select(['target_url', 'destination']).where('id', '=', id).executeTakeFirstOrThrow());
        const stored = typeof raw.destination === 'string' ? JSON.parse(raw.destination) : raw.destination;
        assert.match(stored.url, /^enc:v1:/, 'the URL is sealed at rest');
        assert.equal(raw.target_url, '');
        // A form sends the destination back as shown: the stored URL stays.
        const patched = await call(app, 'PATCH', `/subscriptions/${id}`, { destination: created.body.destination, description: 'renamed' });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        const row = await app.store.subscriptions.get(id);
        assert.equal(row?.destination?.url, destination.url);
        assert.equal(row?.targetUrl, null);
      });
    }

    test('target_url and destination switch a subscription between HTTP and a broker', async () => {
      const created = await call(app, 'POST', '/subscriptions', { target_url: 'https://example.com/hook' });
      assert.equal(created.body.destination, null);
      const id = created.body.id;
      const toBroker = await call(app, 'PATCH', `/subscriptions/${id}`, { destination: DESTINATIONS.nats });
      assert.equal(toBroker.status, 200, JSON.stringify(toBroker.body));
      assert.deepEqual([toBroker.body.target_url, toBroker.body.destination.type], [null, 'nats']);
      const toHttp = await call(app, 'PUT', `/subscriptions/${id}`, { target_url: 'https://example.com/other' });
      assert.deepEqual([toHttp.body.target_url, toHttp.body.destination], ['https://example.com/other', null]);
      const row = await app.store.subscriptions.get(id);
      assert.equal(row?.destination, null);
    });

    test('422s name the field: neither or both, an unknown type, a missing field, a wrong scheme, a blocked address', async () => {
      const expect = async (body: unknown, code: string, field: string, message: RegExp) => {
        const answer = await call(app, 'POST', '/subscriptions', body);
        assert.equal(answer.status, 422, JSON.stringify(answer.body));
        assert.equal(answer.body.error.code, code, JSON.stringify(answer.body));
        assert.equal(answer.body.error.details[0].field, field, JSON.stringify(answer.body));
        assert.match(answer.body.error.message, message);
      };
      await expect({}, 'validation_failed', 'target_url', /is required/);
      await expect({ target_url: 'https://example.com/hook', destination: DESTINATIONS.redis }, 'validation_failed', 'body', /target_url .* or destination .*not both/);
      await expect({ destination: { ...DESTINATIONS.redis, type: 'kafka' } }, 'validation_failed', 'destination.type', /one of rabbitmq, nats, redis/);
      await expect({ destination: { type: 'nats', url: 'nats://nats.internal:4222' } }, 'validation_failed', 'destination.subject', /is required/);
      await expect({ destination: { ...DESTINATIONS.rabbitmq, url: 'redis://rabbitmq.internal' } }, 'validation_failed', 'destination.url', /amqp:\/\/ or amqps:\/\//);
      await expect({ destination: { ...DESTINATIONS.nats, subject: 'orders.*' } }, 'validation_failed', 'destination.subject', /no wildcards/);
      await expect({ destination: { ...DESTINATIONS.redis, url: 'redis://127.0.0.1:6379' } }, 'destination_blocked', 'destination.url', /loopback|blocked/);
      await expect({ destination: { ...DESTINATIONS.redis, extra: 1 } }, 'validation_failed', 'destination.extra', /not a known field/);
      await expect({ destination: null }, 'validation_failed', 'destination', /object/);
    });
  });
}
