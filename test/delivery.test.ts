// The delivery pipeline end to end: ingest over HTTP, dispatch, a real receiver on loopback.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { sql } from 'kysely';
import { CIRCUIT_DEFAULTS } from '../src/domain/index.ts';
import type { App } from '../src/app.ts';
import { withRawDb } from './support/raw-db.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';
import { eventually, sequence, startReceiver, status, type Receiver } from './support/receiver.ts';
import { call, finished, subscribe as subscribeTo } from './support/api.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const FAST_RETRY = { initial_delay_ms: 20, backoff_factor: 1, max_delay_ms: 20, jitter: 0 };
/** Long enough that a loopback receiver on a busy machine always answers in time, except the one that never does. */
const REQUEST_TIMEOUT_MS = 5000;

async function subscribe(app: App, receiver: Receiver, settings: Record<string, unknown> = {}): Promise<string> {
  return subscribeTo(app, receiver.url, { secret: SECRET, ...settings });
}

for (const name of STORE_NAMES) {
  describe(`delivery pipeline (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let receiver: Receiver;

    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, { config: { allowNetworks: LOOPBACK, pollIntervalMs: 50, requestTimeoutMs: REQUEST_TIMEOUT_MS, connectTimeoutMs: REQUEST_TIMEOUT_MS } });
    });
    after(async () => {
      await app.close();
      await target.cleanup();
    });
    test.beforeEach(async () => {
      receiver = await startReceiver();
    });
    test.afterEach(async () => {
      await receiver.close();
    });

    test('an ingested event reaches the receiver, signed, byte for byte', async (t) => {
      const id = await subscribe(app, receiver, { event_types: ['order.created', 'user.registered'] });
      const raw = '{"event_type": "order.created",\n  "data": {"z": 1, "a": 12345678901234567890, "name": "Zoë"}}';
      const ingested = await call(app, 'POST', `/ingest/${id}`, raw);
      assert.equal(ingested.status, 202);
      assert.equal(ingested.body.status, 'queued');
      const [request] = await receiver.waitFor(1);
      // How soon is machine-dependent (delivery-wakeup.test.ts shows it is not the next poll).
      t.diagnostic(`delivered ${request!.at - ingested.at} ms after the 202`);
      assert.equal(request!.body.toString('utf8'), raw);
      assert.equal(request!.headers['content-type'], 'application/json');
      assert.match(String(request!.headers['user-agent']), /^hookd\/\d+\.\d+\.\d+/);
      assert.equal(request!.headers['webhook-id'], ingested.body.event_id);
      assert.equal(request!.headers['x-hookd-event-type'], 'order.created');
      assert.equal(request!.headers['x-hookd-delivery-id'], ingested.body.delivery_id);
      assert.equal(request!.headers['x-hookd-attempt'], '1');
      // Standard Webhooks, checked by the reference implementation.
      const verified = new Webhook(SECRET).verify(request!.body.toString('utf8'), request!.headers as Record<string, string>);
      assert.deepEqual(verified, JSON.parse(raw));
      // X-Hub-Signature-256 as GitHub keys it: with the secret string as shown.
      assert.equal(request!.headers['x-hub-signature-256'], `sha256=${createHmac('sha256', SECRET).update(request!.body).digest('hex')}`);

      const delivery = await finished(app, ingested.body.delivery_id);
      assert.equal(delivery.status, 'succeeded');
      assert.equal(delivery.attempts, 1);
      assert.equal(delivery.logs.length, 1);
      assert.deepEqual(
        { outcome: delivery.logs[0].outcome, status_code: delivery.logs[0].status_code, response_body: delivery.logs[0].response_body },
        { outcome: 'success', status_code: 200, response_body: 'ok' },
      );
    });

    test('500, 500, 200: succeeded after three attempts, one webhook-id, a fresh valid signature each time', async () => {
      receiver.respond(sequence(status(500, 'down'), status(500, 'still down'), status(200)));
      const id = await subscribe(app, receiver, { retry_policy: FAST_RETRY });
      const ingested = await call(app, 'POST', `/ingest/${id}`, { event_type: 'order.created', data: {} });
      const requests = await receiver.waitFor(3);
      const delivery = await finished(app, ingested.body.delivery_id);
      assert.equal(delivery.status, 'succeeded');
      assert.equal(delivery.attempts, 3);
      assert.deepEqual(delivery.logs.map((l: { outcome: string; status_code: number }) => [l.outcome, l.status_code]), [['http_error', 500], ['http_error', 500], ['success', 200]]);
      assert.equal(delivery.logs[0].response_body, 'down');
      assert.deepEqual(requests.map((r) => r.headers['webhook-id']), Array(3).fill(ingested.body.event_id));
      assert.deepEqual(requests.map((r) => r.headers['x-hookd-attempt']), ['1', '2', '3']);
      const webhook = new Webhook(SECRET);
      for (const r of requests) webhook.verify(r.body.toString('utf8'), r.headers as Record<string, string>);
    });

    test('exhaustion: failed after max_attempts, no further requests', async () => {
      receiver.respond(status(503));
      const id = await subscribe(app, receiver, { retry_policy: { ...FAST_RETRY, max_attempts: 3 } });
      const ingested = await call(app, 'POST', `/ingest/${id}`, { event_type: 'x', data: {} });
      const delivery = await finished(app, ingested.body.delivery_id);
      assert.equal(delivery.status, 'failed');
      assert.equal(delivery.attempts, 3);
      assert.equal(delivery.next_attempt_at, null);
      // Failed is final and each attempt is recorded after its answer: all three have arrived.
      assert.equal(receiver.requests.length, 3);
    });

    test('an event type the subscription does not take is recorded as filtered and never sent', async () => {
      const id = await subscribe(app, receiver, { event_types: ['order.*'] });
      const ingested = await call(app, 'POST', `/ingest/${id}`, { event_type: 'user.registered', data: {} });
      assert.equal(ingested.status, 202);
      assert.equal(ingested.body.status, 'filtered');
      const delivery = await call(app, 'GET', `/ingest/delivery/${ingested.body.delivery_id}`);
      assert.equal(delivery.body.status, 'filtered');
      const matching = await call(app, 'POST', `/ingest/${id}`, { event_type: 'order.item.added', data: {} });
      assert.equal(matching.body.status, 'queued');
      const [request] = await receiver.waitFor(1);
      assert.equal(request!.headers['x-hookd-event-type'], 'order.item.added');
      assert.equal(receiver.requests.length, 1);
    });

    test('the event type may come from the X-Event-Type header', async () => {
      const id = await subscribe(app, receiver, { event_types: ['ping'] });
      const ingested = await call(app, 'POST', `/ingest/${id}`, { data: 1 }, { 'x-event-type': 'ping' });
      assert.equal(ingested.body.status, 'queued');
      const missing = await call(app, 'POST', `/ingest/${id}`, { data: 1 });
      assert.equal(missing.status, 422);
      assert.match(missing.body.error.message, /event_type/);
      const bad = await call(app, 'POST', `/ingest/${id}`, { event_type: 'a*b' });
      assert.equal(bad.status, 422);
    });

    test('fan-out: one delivery per active matching subscription, wildcard rules', async () => {
      const other = await startReceiver();
      try {
        const exact = await subscribe(app, receiver, { event_types: ['invoice.paid'] });
        const prefix = await subscribe(app, other, { event_types: ['invoice.*'] });
        await subscribe(app, receiver, { event_types: ['invoice'] });
        await subscribe(app, receiver, { event_types: ['invoice.paid'], active: false });
        const everything = await subscribe(app, other, { event_types: ['*'] });
        const result = await call(app, 'POST', '/events', { event_type: 'invoice.paid', data: { n: 1 } });
        assert.equal(result.status, 202);
        // Subscriptions created by earlier tests without a filter take every event type too.
        const deliveries = await Promise.all(result.body.delivery_ids.map((d: string) => call(app, 'GET', `/deliveries/${d}`)));
        const subscribed = new Set(deliveries.map((d) => d.body.subscription_id));
        assert.equal(result.body.deliveries, result.body.delivery_ids.length);
        for (const expected of [exact, prefix, everything]) assert.ok(subscribed.has(expected), `${expected} should get invoice.paid`);
        const deep = await call(app, 'POST', '/events', { event_type: 'invoice.line.added' });
        const deepSubs = new Set((await Promise.all(deep.body.delivery_ids.map((d: string) => call(app, 'GET', `/deliveries/${d}`)))).map((d) => d.body.subscription_id));
        assert.ok(deepSubs.has(prefix) && deepSubs.has(everything) && !deepSubs.has(exact));
        const bare = await call(app, 'POST', '/events', { event_type: 'invoice' });
        const bareSubs = new Set((await Promise.all(bare.body.delivery_ids.map((d: string) => call(app, 'GET', `/deliveries/${d}`)))).map((d) => d.body.subscription_id));
        assert.ok(!bareSubs.has(prefix) && bareSubs.has(everything));
        await other.waitFor(3);
      } finally {
        await other.close();
      }
    });

    test('ingest signatures: a wrong one is 401, a right one passes, require_signed_ingest rejects unsigned', async () => {
      const id = await subscribe(app, receiver, { require_signed_ingest: true });
      const body = '{"event_type":"signed","data":{"v":1}}';
      const good = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      const unsigned = await call(app, 'POST', `/ingest/${id}`, body);
      assert.deepEqual([unsigned.status, unsigned.body.error.code], [401, 'signature_required']);
      const wrong = await call(app, 'POST', `/ingest/${id}`, body, { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` });
      assert.deepEqual([wrong.status, wrong.body.error.code], [401, 'invalid_signature']);
      const garbage = await call(app, 'POST', `/ingest/${id}`, body, { 'x-hub-signature-256': 'nonsense' });
      assert.equal(garbage.status, 401);
      const tampered = await call(app, 'POST', `/ingest/${id}`, body.replace('1', '2'), { 'x-hub-signature-256': good });
      assert.equal(tampered.status, 401);
      const signed = await call(app, 'POST', `/ingest/${id}`, body, { 'x-hub-signature-256': good });
      assert.equal(signed.status, 202);
      // A subscription that does not require signatures still checks one that is sent.
      const open = await subscribe(app, receiver);
      const wrongOpen = await call(app, 'POST', `/ingest/${open}`, body, { 'x-hub-signature-256': `sha256=${'1'.repeat(64)}` });
      assert.equal(wrongOpen.status, 401);
    });

    test('unknown subscription is 404, inactive is 409', async () => {
      const missing = await call(app, 'POST', '/ingest/123e4567-e89b-12d3-a456-426614174000', { event_type: 'x' });
      assert.deepEqual([missing.status, missing.body.error.code], [404, 'subscription_not_found']);
      const id = await subscribe(app, receiver, { active: false });
      const inactive = await call(app, 'POST', `/ingest/${id}`, { event_type: 'x' });
      assert.deepEqual([inactive.status, inactive.body.error.code], [409, 'subscription_inactive']);
    });

    test('a redirect is not followed: 3xx is a failed attempt', async () => {
      const decoy = await startReceiver();
      try {
        receiver.respond(status(302, '', { location: decoy.url }));
        const id = await subscribe(app, receiver, { retry_policy: { ...FAST_RETRY, max_attempts: 1 } });
        const ingested = await call(app, 'POST', `/ingest/${id}`, { event_type: 'x' });
        const delivery = await finished(app, ingested.body.delivery_id);
        assert.equal(delivery.status, 'failed');
        assert.equal(delivery.logs[0].status_code, 302);
        assert.match(delivery.logs[0].error_details, /redirect/);
        assert.equal(decoy.requests.length, 0);
      } finally {
        await decoy.close();
      }
    });

    test('a receiver that does not answer in time is recorded as a timeout', async () => {
      receiver.respond(() => new Promise(() => {}));
      const id = await subscribe(app, receiver, { retry_policy: { ...FAST_RETRY, max_attempts: 1 } });
      const ingested = await call(app, 'POST', `/ingest/${id}`, { event_type: 'x' });
      const delivery = await finished(app, ingested.body.delivery_id);
      assert.equal(delivery.status, 'failed');
      assert.equal(delivery.logs[0].outcome, 'timeout');
      assert.equal(delivery.logs[0].status_code, null);
      assert.ok(delivery.logs[0].duration_ms >= REQUEST_TIMEOUT_MS - 50 && delivery.logs[0].duration_ms < 2 * REQUEST_TIMEOUT_MS, `took ${delivery.logs[0].duration_ms} ms`);
    });

    test('a refused connection is a network_error', async () => {
      const closed = await startReceiver();
      const url = closed.url;
      await closed.close();
      const created = await call(app, 'POST', '/subscriptions', { target_url: url, retry_policy: { ...FAST_RETRY, max_attempts: 1 } });
      const ingested = await call(app, 'POST', `/ingest/${created.body.id}`, { event_type: 'x' });
      const delivery = await finished(app, ingested.body.delivery_id);
      assert.equal(delivery.logs[0].outcome, 'network_error');
      assert.match(delivery.logs[0].error_details, /ECONNREFUSED/);
    });

    test('a crashed worker\'s delivery is redelivered after its lease expires; its late result is refused', async () => {
      const id = await subscribe(app, receiver);
      // Stop this app's workers so the "crashed" worker below is the only one holding the lease.
      await app.dispatcher!.stop();
      const ingested = await call(app, 'POST', `/ingest/${id}`, { event_type: 'lease.test' });
      const now = Date.now();
      const [stale] = await app.store.queue.claimDue({ now, limit: 10, leaseToken: 'crashed-worker', leaseExpiresAt: now + 200, circuitCooldownMs: CIRCUIT_DEFAULTS.cooldownMs });
      assert.equal(stale?.delivery.id, ingested.body.delivery_id);
      app.dispatcher!.start();
      const [request] = await receiver.waitFor(1);
      assert.equal(request!.headers['webhook-id'], ingested.body.event_id);
      const delivery = await finished(app, ingested.body.delivery_id);
      assert.equal(delivery.status, 'succeeded');
      const late = await app.store.queue.recordAttempts([{
        deliveryId: stale!.delivery.id, subscriptionId: stale!.delivery.subscriptionId, leaseToken: 'crashed-worker', status: 'failed', nextAttemptAt: null,
        attempt: {
          id: '01a00000-0000-7000-8000-000000000001', deliveryId: stale!.delivery.id, attemptNumber: 1, outcome: 'http_error',
          statusCode: 500, errorDetails: 'late', durationMs: 1, responseBody: null, requestHeaders: {}, trigger: 'scheduled', createdAt: Date.now(),
        },
      }], CIRCUIT_DEFAULTS);
      assert.deepEqual(late.map((r) => r.written), [false]);
      const after = await call(app, 'GET', `/ingest/delivery/${ingested.body.delivery_id}`);
      assert.equal(after.body.status, 'succeeded');
      assert.equal(after.body.logs.length, 1);
    });

    test('a failed commit answers 503 and leaves nothing half-written', async () => {
      const id = await subscribe(app, receiver);
      await failDeliveryInserts(target, 'boom.event');
      try {
        const refused = await call(app, 'POST', `/ingest/${id}`, { event_type: 'boom.event' });
        assert.deepEqual([refused.status, refused.body.error.code], [503, 'store_unavailable']);
        const fanOut = await call(app, 'POST', '/events', { event_type: 'boom.event' });
        assert.equal(fanOut.status, 503);
        const rows = await app.store.deliveryLog.listDeliveries({ limit: 100, eventType: 'boom.event' });
        assert.equal(rows.items.length, 0);
        const events = await countEvents(target, 'boom.event');
        assert.equal(events, 0);
      } finally {
        await allowDeliveryInserts(target);
      }
      const fine = await call(app, 'POST', `/ingest/${id}`, { event_type: 'fine' });
      assert.equal(fine.status, 202);
    });

    test('delivery lists: per subscription and overall, newest first, filtered and paginated', async () => {
      receiver.respond(status(200));
      const id = await subscribe(app, receiver, { retry_policy: { ...FAST_RETRY, max_attempts: 1 } });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await call(app, 'POST', `/ingest/${id}`, { event_type: i % 2 ? 'odd' : 'even' })).body.delivery_id);
      await receiver.waitFor(5);
      const page1 = await call(app, 'GET', `/subscriptions/${id}/deliveries?limit=2`);
      assert.deepEqual(page1.body.items.map((d: { id: string }) => d.id), [ids[4], ids[3]]);
      const page2 = await call(app, 'GET', `/subscriptions/${id}/deliveries?limit=2&cursor=${page1.body.next_cursor}`);
      assert.deepEqual(page2.body.items.map((d: { id: string }) => d.id), [ids[2], ids[1]]);
      const odd = await call(app, 'GET', `/deliveries?subscription_id=${id}&event_type=odd`);
      assert.deepEqual(odd.body.items.map((d: { id: string }) => d.id), [ids[3], ids[1]]);
      await eventually(async () => {
        const done = await call(app, 'GET', `/subscriptions/${id}/deliveries?status=succeeded`);
        return done.body.items.length === 5 ? true : undefined;
      });
      const future = await call(app, 'GET', `/subscriptions/${id}/deliveries?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
      assert.equal(future.body.items.length, 0);
      const unknown = await call(app, 'GET', '/subscriptions/123e4567-e89b-12d3-a456-426614174000/deliveries');
      assert.equal(unknown.status, 404);
      const badStatus = await call(app, 'GET', '/deliveries?status=lost');
      assert.equal(badStatus.status, 422);
      const unknownDelivery = await call(app, 'GET', '/ingest/delivery/not-an-id');
      assert.deepEqual([unknownDelivery.status, unknownDelivery.body.error.code], [404, 'delivery_not_found']);
    });

    test('status shows real queue figures', async () => {
      await app.dispatcher!.stop();
      try {
        const id = await subscribe(app, receiver);
        await call(app, 'POST', `/ingest/${id}`, { event_type: 'queued.one' });
        await call(app, 'POST', `/ingest/${id}`, { event_type: 'queued.two' });
        const { body } = await call(app, 'GET', '/status');
        assert.ok(body.queue.depth >= 2);
        assert.ok(body.queue.due_now >= 2);
        assert.ok(body.deliveries.queued >= 2);
        assert.ok(body.queue.succeeded_last_hour >= 1);
        assert.ok(body.queue.failed_last_hour >= 1);
      } finally {
        app.dispatcher!.start();
      }
      await receiver.waitFor(2);
    });
  });
}

// A trigger that makes queueing a delivery of one event type fail, to prove the outbox
// transaction leaves nothing behind.
async function failDeliveryInserts(target: StoreTarget, eventType: string): Promise<void> {
  await withRawDb(target, async (db) => {
    if (target.name === 'sqlite') {
      await sql.raw(`create trigger fail_deliveries before insert on queue when new.event_type = '${eventType}' begin select raise(abort, 'refused by test'); end`).execute(db);
    } else {
      await sql.raw(`create function fail_deliveries() returns trigger language plpgsql as $$ begin if new.event_type = '${eventType}' then raise exception 'refused by test'; end if; return new; end $$`).execute(db);
      await sql.raw('create trigger fail_deliveries before insert on queue for each row execute function fail_deliveries()').execute(db);
    }
  });
}

async function allowDeliveryInserts(target: StoreTarget): Promise<void> {
  await withRawDb(target, async (db) => {
    if (target.name === 'sqlite') await sql.raw('drop trigger fail_deliveries').execute(db);
    else await sql.raw('drop trigger fail_deliveries on queue; drop function fail_deliveries()').execute(db);
  });
}

async function countEvents(target: StoreTarget, eventType: string): Promise<number> {
  return withRawDb(target, async (db) => {
    const result = await sql<{ n: number | string }>`select count(*) as n from events where event_type = ${eventType}`.execute(db);
    return Number(result.rows[0]!.n);
  });
}
