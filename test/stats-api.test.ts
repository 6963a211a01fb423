// The web UI's read API on each store: dashboard statistics (/stats), the live attempt
// stream (/attempts/stream, Server-Sent Events) and stored events (/events/{id}).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { uuidv7 } from 'uuidv7';
import { CIRCUIT_DEFAULTS } from '../src/domain/index.ts';
import type { App } from '../src/app.ts';
import type { AttemptOutcome } from '../src/domain/index.ts';
import { call } from './support/api.ts';
import { eventually, startReceiver, status, type Receiver } from './support/receiver.ts';
import { openStream } from './support/sse.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LOOPBACK = { allowNetworks: ['127.0.0.0/8', '::1/128'] };
const MINUTE = 60_000;

for (const name of STORE_NAMES) {
  describe(`stats and live API (${name})`, () => {
    const targets: StoreTarget[] = [];
    const apps: App[] = [];
    let receiver: Receiver;

    async function app(options: Parameters<typeof startTestApp>[1] = {}, target = newTarget(name)): Promise<App> {
      if (!targets.includes(target)) targets.push(target);
      const started = await startTestApp(target, { ...options, config: { ...LOOPBACK, ...options.config } });
      apps.push(started);
      return started;
    }

    before(async () => {
      receiver = await startReceiver();
    });
    after(async () => {
      for (const a of apps) await a.close();
      for (const t of targets) await t.cleanup();
      await receiver.close();
    });

    it('reports zeros and empty series with nothing delivered, and refuses an unknown window', async () => {
      const hookd = await app({ role: 'api' });
      const { status: code, body } = await call(hookd, 'GET', '/stats');
      assert.equal(code, 200);
      assert.equal(body.window, '1h');
      assert.deepEqual(body.deliveries, { last_hour: 0, last_24h: 0 });
      assert.equal(body.attempts.total, 0);
      assert.equal(body.attempts.success_rate, null);
      assert.deepEqual(body.attempts.latency_ms, { p50: null, p95: null });
      assert.equal(body.series.bucket_seconds, 60);
      assert.equal(body.series.attempts.length, 60);
      assert.ok(body.series.attempts.every((n: number) => n === 0));
      assert.ok(body.series.p95_ms.every((n: number | null) => n === null));
      assert.deepEqual(body.subscriptions, { failing: [], inactive: [], inactive_total: 0 });

      const day = await call(hookd, 'GET', '/stats?window=24h');
      assert.equal(day.body.series.bucket_seconds, 900);
      assert.equal(day.body.series.attempts.length, 96);

      const bad = await call(hookd, 'GET', '/stats?window=7d');
      assert.equal(bad.status, 422);
      assert.equal(bad.body.error.code, 'validation_failed');
    });

    it('computes counts, nearest-rank percentiles and per-minute buckets from recorded attempts', async () => {
      // A fixed clock half a minute into a minute; no dispatcher (role api), so the test
      // records the attempts itself, with chosen durations, outcomes and times.
      const now = Math.floor(Date.now() / MINUTE) * MINUTE + 30_000;
      let clock = now;
      const hookd = await app({ role: 'api', clock: () => clock });
      const sub = await call(hookd, 'POST', '/subscriptions', { target_url: 'https://example.com/hook' });
      for (let i = 0; i < 10; i++) assert.equal((await call(hookd, 'POST', `/ingest/${sub.body.id}`, { event_type: 'order.created', data: { i } })).status, 202);
      const claimed = await hookd.store.queue.claimDue({ now, limit: 100, leaseToken: 'test-lease', leaseExpiresAt: now + MINUTE, circuitCooldownMs: CIRCUIT_DEFAULTS.cooldownMs });
      assert.equal(claimed.length, 10);
      // Durations 10..100 ms; the first five five minutes ago, the last five now; the two slowest failed.
      const results = claimed.map((c, i) => {
        const outcome: AttemptOutcome = i >= 8 ? 'http_error' : 'success';
        const createdAt = i < 5 ? now - 5 * MINUTE : now;
        return {
          deliveryId: c.delivery.id,
          subscriptionId: c.delivery.subscriptionId,
          leaseToken: 'test-lease',
          status: outcome === 'success' ? 'succeeded' as const : 'failed' as const,
          nextAttemptAt: null,
          attempt: {
            id: uuidv7(), deliveryId: c.delivery.id, attemptNumber: 1, outcome,
            statusCode: outcome === 'success' ? 200 : 500, errorDetails: null, durationMs: (i + 1) * 10,
            responseBody: null, requestHeaders: {}, trigger: 'scheduled' as const, createdAt,
          },
        };
      });
      assert.deepEqual((await hookd.store.queue.recordAttempts(results, CIRCUIT_DEFAULTS)).map((r) => r.written), results.map(() => true));
      await call(hookd, 'PATCH', `/subscriptions/${(await call(hookd, 'POST', '/subscriptions', { target_url: 'https://example.com/off' })).body.id}`, { active: false });

      clock = now + 1000;
      const { body } = await call(hookd, 'GET', '/stats?window=1h');
      assert.deepEqual(body.deliveries, { last_hour: 10, last_24h: 10 });
      assert.equal(body.attempts.total, 10);
      assert.equal(body.attempts.succeeded, 8);
      assert.equal(body.attempts.failed, 2);
      assert.equal(body.attempts.by_outcome.http_error, 2);
      assert.equal(body.attempts.success_rate, 0.8);
      // Nearest rank: p50 of 10 values is the 5th (50 ms), p95 the 10th (100 ms).
      assert.deepEqual(body.attempts.latency_ms, { p50: 50, p95: 100 });

      const last = body.series.attempts.length - 1;
      assert.equal(Date.parse(body.series.start) + last * MINUTE, now - 30_000, 'the last bucket is the current minute');
      assert.equal(body.series.attempts[last], 5);
      assert.equal(body.series.failures[last], 2);
      assert.equal(body.series.p95_ms[last], 100);
      assert.equal(body.series.attempts[last - 5], 5);
      assert.equal(body.series.failures[last - 5], 0);
      assert.equal(body.series.p95_ms[last - 5], 50);
      assert.equal(body.series.attempts.reduce((a: number, b: number) => a + b, 0), 10);

      assert.equal(body.subscriptions.failing.length, 1);
      assert.equal(body.subscriptions.failing[0].id, sub.body.id);
      assert.equal(body.subscriptions.failing[0].failures, 2);
      assert.equal(body.subscriptions.failing[0].last_failure_at, new Date(now).toISOString());
      assert.equal(body.subscriptions.inactive_total, 1);
      assert.equal(body.subscriptions.inactive[0].target_url, 'https://example.com/off');

      // An hour and a half later the attempts have left the 1-hour window but not the 24-hour one.
      clock = now + 90 * MINUTE;
      const later = await call(hookd, 'GET', '/stats?window=1h');
      assert.equal(later.body.attempts.total, 0);
      assert.equal(later.body.deliveries.last_hour, 0);
      assert.equal(later.body.deliveries.last_24h, 10);
      assert.equal((await call(hookd, 'GET', '/stats?window=24h')).body.attempts.total, 10);
    });

    it('streams each new attempt as it is recorded, after the requested backlog', async () => {
      const hookd = await app();
      receiver.respond(status(200, 'thanks'));
      const sub = await call(hookd, 'POST', '/subscriptions', { target_url: receiver.url });
      const first = await call(hookd, 'POST', `/ingest/${sub.body.id}`, { event_type: 'order.created', data: { n: 1 } });
      await eventually(async () => ((await call(hookd, 'GET', `/deliveries/${first.body.delivery_id}`)).body.status === 'succeeded' ? true : undefined), 10_000, 'the first delivery');

      const stream = await openStream(`${hookd.url}/api/v1/attempts/stream?backlog=5`);
      try {
        assert.equal(stream.response.status, 200);
        assert.match(stream.response.headers.get('content-type') ?? '', /^text\/event-stream/);
        const backlog = await eventually(() => stream.events.find((e) => e.data.delivery_id === first.body.delivery_id), undefined, 'the backlog');
        assert.equal(backlog.event, 'attempt');
        assert.equal(backlog.id, backlog.data.id);

        const second = await call(hookd, 'POST', `/ingest/${sub.body.id}`, { event_type: 'order.paid', data: { n: 2 } });
        const live = await eventually(() => stream.events.find((e) => e.data.delivery_id === second.body.delivery_id), 10_000, 'the new attempt');
        assert.equal(live.data.subscription_id, sub.body.id);
        assert.equal(live.data.event_type, 'order.paid');
        assert.equal(live.data.attempt_number, 1);
        assert.equal(live.data.outcome, 'success');
        assert.equal(live.data.status_code, 200);
        assert.equal(typeof live.data.duration_ms, 'number');
        assert.equal(live.data.trigger, 'scheduled');
        assert.ok(!Number.isNaN(Date.parse(live.data.created_at)));
        assert.equal(stream.events.filter((e) => e.id === live.id).length, 1, 'each attempt is sent once');

        // A client that reconnects with Last-Event-ID gets what came after that event first.
        const resumed = await openStream(`${hookd.url}/api/v1/attempts/stream`, { 'last-event-id': backlog.id });
        try {
          const replayed = await eventually(() => resumed.events.find((e) => e.id === live.id), undefined, 'the missed attempt');
          assert.ok(replayed);
          assert.ok(!resumed.events.some((e) => e.id === backlog.id), 'the last event seen is not sent again');
        } finally {
          await resumed.close();
        }
      } finally {
        await stream.close();
      }
    });

    it('streams attempts made by another hookd process sharing the database', async () => {
      const shared = newTarget(name);
      const api = await app({ role: 'api' }, shared);
      await app({ role: 'worker', config: { pollIntervalMs: 100 } }, shared);
      receiver.respond(status(503, 'busy'));
      const sub = await call(api, 'POST', '/subscriptions', { target_url: receiver.url, retry_policy: { max_attempts: 1 } });
      // Once the stream is open, every attempt recorded after is streamed.
      const stream = await openStream(`${api.url}/api/v1/attempts/stream`);
      try {
        assert.equal(stream.response.status, 200);
        const sent = await call(api, 'POST', `/ingest/${sub.body.id}`, { event_type: 'user.created', data: {} });
        const event = await eventually(() => stream.events.find((e) => e.data.delivery_id === sent.body.delivery_id), 10_000, 'the worker\'s attempt');
        assert.equal(event.data.outcome, 'http_error');
        assert.equal(event.data.status_code, 503);
      } finally {
        await stream.close();
        receiver.respond(status(200));
      }
    });

    it('ends open streams when hookd shuts down, without holding the shutdown', async () => {
      const target = newTarget(name);
      targets.push(target);
      const hookd = await startTestApp(target, { config: LOOPBACK });
      const stream = await openStream(`${hookd.url}/api/v1/attempts/stream`);
      assert.equal(stream.response.status, 200);
      const started = Date.now();
      await hookd.close();
      assert.ok(Date.now() - started < 5000, `shutdown took ${Date.now() - started} ms`);
      await eventually(() => (stream.ended ? true : undefined), undefined, 'the stream to end');
    });

    it('returns a stored event with its payload exactly as received', async () => {
      const hookd = await app({ role: 'api' });
      const sub = await call(hookd, 'POST', '/subscriptions', { target_url: 'https://example.com/hook' });
      const raw = '{"event_type":"order.created",  "data": {"big": 12345678901234567890, "text": "é"}}';
      const ingested = await fetch(`${hookd.url}/api/v1/ingest/${sub.body.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
      const { event_id: eventId } = (await ingested.json()) as { event_id: string };
      const { status: code, body } = await call(hookd, 'GET', `/events/${eventId}`);
      assert.equal(code, 200);
      assert.equal(body.id, eventId);
      assert.equal(body.event_type, 'order.created');
      assert.equal(body.payload, raw);
      assert.equal((await call(hookd, 'GET', `/events/${uuidv7()}`)).body.error.code, 'event_not_found');
      assert.equal((await call(hookd, 'GET', '/events/not-an-id')).status, 404);
    });
  });
}
