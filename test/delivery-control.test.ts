// Delivery control and resilience: one bad receiver hurts only itself, and operators can
// steer deliveries. Real receivers on loopback, both stores.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { uuidv7 } from 'uuidv7';
import type { App } from '../src/app.ts';
import type { Config } from '../src/config.ts';
import type { NewEvent } from '../src/domain/index.ts';
import { call, finished, subscribe } from './support/api.ts';
import { eventually, ok, startReceiver, status, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const FAST_RETRY = { initial_delay_ms: 20, backoff_factor: 1, max_delay_ms: 20, jitter: 0 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const baseConfig: Partial<Config> = {
  allowNetworks: LOOPBACK, pollIntervalMs: 50, requestTimeoutMs: 15_000, connectTimeoutMs: 1000,
  circuit: { failureThreshold: 3, cooldownMs: 300 }, shutdownGraceMs: 100, workerConcurrency: 64,
};

/** Queues `count` events for a subscription straight into the store, as a backlog. */
async function backlog(app: App, subscriptionId: string, count: number): Promise<void> {
  const now = Date.now();
  for (let done = 0; done < count; done += 500) {
    const items: NewEvent[] = [];
    for (let i = done; i < Math.min(count, done + 500); i++) {
      const eventId = uuidv7();
      items.push({
        event: { id: eventId, eventType: 'backlog', payload: Buffer.from(`{"n":${i}}`), createdAt: now },
        deliveries: [{ id: uuidv7(), eventId, subscriptionId, eventType: 'backlog', status: 'queued', attempts: 0, nextAttemptAt: now, lastAttemptAt: null, manualRetry: false, createdAt: now, updatedAt: now }],
      });
    }
    await app.store.queue.enqueue(items);
  }
}

/** A receiver answering after `ms`, counting how many requests it holds at once. */
function slowResponder(ms: number, counter: { now: number; max: number }) {
  return async (_req: unknown, res: import('node:http').ServerResponse) => {
    counter.now++;
    counter.max = Math.max(counter.max, counter.now);
    await sleep(ms);
    counter.now--;
    if (!res.destroyed) res.end('ok');
  };
}

for (const name of STORE_NAMES) {
  describe(`delivery control (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    const receivers: Receiver[] = [];

    async function receiver(): Promise<Receiver> {
      const r = await startReceiver();
      receivers.push(r);
      return r;
    }

    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, { config: baseConfig });
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await app.close();
      await target.cleanup();
    });

    test('fairness: a 10,000-delivery backlog for A does not delay B', async () => {
      const a = await receiver();
      const b = await receiver();
      a.respond(async (_req, res) => {
        await sleep(2);
        res.end('ok');
      });
      const subA = await subscribe(app, a.url, { max_in_flight: 1000 });
      const subB = await subscribe(app, b.url);
      try {
        await app.dispatcher!.stop();
        await backlog(app, subA, 10_000);
        app.dispatcher!.start();
        await a.waitFor(200, 10_000);
        const sent = Date.now();
        const acks = await Promise.all(Array.from({ length: 10 }, (_, i) => call(app, 'POST', `/ingest/${subB}`, { event_type: 'b', data: { i } })));
        assert.ok(acks.every((ack) => ack.status === 202));
        await b.waitFor(10, 5000);
        const tookMs = b.requests[9]!.at - sent;
        const aDone = a.requests.length;
        console.log(`fairness (${name}): B's 10 deliveries took ${tookMs} ms while A had ${10_000 - aDone} of 10,000 left`);
        assert.ok(tookMs < 1000, `B took ${tookMs} ms`);
        assert.ok(aDone < 10_000, 'A was still draining');
      } finally {
        // Leave no backlog to the next tests.
        await call(app, 'DELETE', `/subscriptions/${subA}`);
      }
    });

    test('concurrency cap: a receiver that sleeps 10 s holds at most max_in_flight requests and does not delay others', async () => {
      const slow = await receiver();
      const fast = await receiver();
      const held = { now: 0, max: 0 };
      slow.respond(slowResponder(10_000, held));
      const subSlow = await subscribe(app, slow.url, { max_in_flight: 3 });
      const subFast = await subscribe(app, fast.url);
      for (let i = 0; i < 8; i++) await call(app, 'POST', `/ingest/${subSlow}`, { event_type: 'slow' });
      await slow.waitFor(3);
      const sent = Date.now();
      for (let i = 0; i < 5; i++) await call(app, 'POST', `/ingest/${subFast}`, { event_type: 'fast' });
      try {
        await fast.waitFor(5, 3000);
        assert.ok(Date.now() - sent < 1000);
        await sleep(200);
        assert.equal(held.max, 3, 'never more than max_in_flight at once');
        assert.equal(slow.requests.length, 3);
      } finally {
        await call(app, 'DELETE', `/subscriptions/${subSlow}`);
      }
    });

    test('rate limit: excess deliveries wait, spending no attempts', async () => {
      const r = await receiver();
      const sub = await subscribe(app, r.url, { rate_limit_per_second: 20 });
      const started = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) ids.push((await call(app, 'POST', `/ingest/${sub}`, { event_type: 'rated', data: { i } })).body.delivery_id);
      await r.waitFor(60, 10_000);
      const elapsed = r.requests[59]!.at - started;
      // A burst of 20, then 20 per second: the last 40 need at least two seconds.
      assert.ok(elapsed >= 1800, `60 deliveries at 20/s took only ${elapsed} ms`);
      const perSecond = new Map<number, number>();
      for (const req of r.requests) perSecond.set(Math.floor((req.at - started) / 1000), (perSecond.get(Math.floor((req.at - started) / 1000)) ?? 0) + 1);
      assert.ok([...perSecond.values()].every((n) => n <= 41), `too many in one second: ${[...perSecond.values()]}`);
      for (const id of ids.slice(-5)) assert.equal((await finished(app, id)).attempts, 1);
    });

    test('Retry-After on 429 and 503: seconds or a date, clamped between the schedule and max_delay', async () => {
      const r = await receiver();
      const sub = await subscribe(app, r.url, { retry_policy: { initial_delay_ms: 100, backoff_factor: 1, max_delay_ms: 5000, jitter: 0 } });
      const cases: [number, string, number][] = [
        [429, '2', 2000],
        [503, new Date(Date.now() + 3000).toUTCString(), 3000],
        [429, '3600', 5000],
        [503, '0', 100],
      ];
      for (const [code, header, expected] of cases) {
        r.respond(status(code, 'slow down', { 'retry-after': header }));
        const ingested = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'throttled' });
        const delivery = await eventually(async () => {
          const d = (await call(app, 'GET', `/deliveries/${ingested.body.delivery_id}`)).body;
          return d.attempts === 1 && d.status === 'queued' ? d : undefined;
        });
        const delay = Date.parse(delivery.next_attempt_at) - Date.parse(delivery.last_attempt_at);
        assert.ok(Math.abs(delay - expected) <= 1100, `${code} Retry-After ${header}: waited ${delay} ms, expected about ${expected}`);
      }
      await call(app, 'DELETE', `/subscriptions/${sub}`);
    });

    test('410 Gone disables the subscription with the reason, and says so in status', async () => {
      const r = await receiver();
      r.respond(status(410));
      const sub = await subscribe(app, r.url);
      const ingested = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'gone' });
      assert.equal((await finished(app, ingested.body.delivery_id)).status, 'failed');
      const disabled = await eventually(async () => {
        const s = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
        return s.active ? undefined : s;
      });
      assert.match(disabled.disabled_reason, /410 Gone/);
      const refused = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'gone' });
      assert.equal(refused.status, 409);
      const { body } = await call(app, 'GET', '/status');
      const notice = body.operational_events.find((e: { subscription_id: string; type: string }) => e.subscription_id === sub && e.type === 'subscription.disabled');
      assert.ok(notice, 'status lists the subscription.disabled event');
      assert.match(notice.reason, /410/);
    });

    test('circuit breaker: opens after consecutive failures, holds deliveries without spending attempts, closes after a good probe', async () => {
      const r = await receiver();
      r.respond(status(500));
      const sub = await subscribe(app, r.url, { max_in_flight: 1, retry_policy: { ...FAST_RETRY, max_attempts: 100 } });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await call(app, 'POST', `/ingest/${sub}`, { event_type: 'cb', data: { i } })).body.delivery_id);
      const open = await eventually(async () => {
        const s = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
        return s.circuit.state === 'open' ? s : undefined;
      });
      assert.equal(open.circuit.consecutive_failures, 3);
      assert.ok(open.circuit.retry_at);
      const { body: st } = await call(app, 'GET', '/status');
      assert.ok(st.open_circuits >= 1);
      const sentWhileOpen = r.requests.length;
      await sleep(150);
      assert.equal(r.requests.length, sentWhileOpen, 'nothing is sent while the circuit is open');
      const waiting = await Promise.all(ids.map(async (id) => (await call(app, 'GET', `/deliveries/${id}`)).body));
      assert.equal(waiting.reduce((sum, d) => sum + d.attempts, 0), 3, 'only the three failures spent attempts');
      r.respond(ok);
      for (const id of ids) assert.equal((await finished(app, id)).status, 'succeeded');
      const closed = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
      assert.deepEqual([closed.circuit.state, closed.circuit.consecutive_failures], ['closed', 0]);
    });

    test('PATCH active false holds queued deliveries; true resumes them', async () => {
      const r = await receiver();
      const sub = await subscribe(app, r.url);
      await app.dispatcher!.stop();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await call(app, 'POST', `/ingest/${sub}`, { event_type: 'paused' })).body.delivery_id);
      assert.equal((await call(app, 'PATCH', `/subscriptions/${sub}`, { active: false })).status, 200);
      app.dispatcher!.start();
      const fanOut = await call(app, 'POST', '/events', { event_type: 'paused' });
      const fanned = await Promise.all(fanOut.body.delivery_ids.map((id: string) => call(app, 'GET', `/deliveries/${id}`)));
      assert.ok(fanned.every((d) => d.body.subscription_id !== sub), 'an inactive subscription gets no fan-out');
      await sleep(300);
      assert.equal(r.requests.length, 0);
      for (const id of ids) assert.equal((await call(app, 'GET', `/deliveries/${id}`)).body.status, 'queued');
      assert.equal((await call(app, 'PATCH', `/subscriptions/${sub}`, { active: true })).status, 200);
      await r.waitFor(3);
      for (const id of ids) assert.equal((await finished(app, id)).status, 'succeeded');
    });

    test('Idempotency-Key: repeats get the first answer and no new event; another body is refused', async () => {
      const r = await receiver();
      const sub = await subscribe(app, r.url);
      const key = { 'idempotency-key': `order-${uuidv7()}` };
      const first = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'idem', data: { n: 1 } }, key);
      const again = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'idem', data: { n: 1 } }, key);
      assert.equal(again.status, 202);
      assert.deepEqual(again.body, first.body);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const other = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'idem', data: { n: 2 } }, key);
      assert.deepEqual([other.status, other.body.error.code], [422, 'idempotency_key_reused']);
      // Twenty at once with one key: one event.
      const raceKey = { 'idempotency-key': `race-${uuidv7()}` };
      const raced = await Promise.all(Array.from({ length: 20 }, () => call(app, 'POST', `/ingest/${sub}`, { event_type: 'idem.race' }, raceKey)));
      assert.ok(raced.every((a) => a.status === 202), JSON.stringify(raced.map((a) => a.status)));
      assert.equal(new Set(raced.map((a) => a.body.event_id)).size, 1);
      // Fan-out has its own scope.
      const fanKey = { 'idempotency-key': `fan-${uuidv7()}` };
      const fan1 = await call(app, 'POST', '/events', { event_type: 'idem.fan' }, fanKey);
      const fan2 = await call(app, 'POST', '/events', { event_type: 'idem.fan' }, fanKey);
      assert.deepEqual(fan2.body, fan1.body);
      await r.waitFor(2);
      await sleep(200);
      const events = new Set(r.requests.map((q) => q.headers['webhook-id']));
      assert.ok(events.has(first.body.event_id) && events.has(raced[0]!.body.event_id));
      assert.equal(r.requests.filter((q) => q.headers['webhook-id'] === raced[0]!.body.event_id).length, 1);
      const bad = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'idem' }, { 'idempotency-key': 'has space' });
      assert.equal(bad.status, 422);
    });

    test('manual retry: a failed delivery is attempted again at once, logged as manual', async () => {
      const r = await receiver();
      r.respond(status(500));
      const sub = await subscribe(app, r.url, { retry_policy: { ...FAST_RETRY, max_attempts: 1 } });
      const ingested = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'retry.me' });
      assert.equal((await finished(app, ingested.body.delivery_id)).status, 'failed');
      r.respond(ok);
      const retried = await call(app, 'POST', `/deliveries/${ingested.body.delivery_id}/retry`);
      assert.deepEqual([retried.status, retried.body.status], [202, 'queued']);
      const done = await finished(app, ingested.body.delivery_id);
      assert.equal(done.status, 'succeeded');
      assert.deepEqual(done.logs.map((l: { trigger: string; outcome: string }) => [l.trigger, l.outcome]), [['scheduled', 'http_error'], ['manual', 'success']]);
      const filtered = await call(app, 'POST', `/ingest/${await subscribe(app, r.url, { event_types: ['x'] })}`, { event_type: 'y' });
      const refused = await call(app, 'POST', `/deliveries/${filtered.body.delivery_id}/retry`);
      assert.deepEqual([refused.status, refused.body.error.code], [409, 'delivery_not_retryable']);
      assert.equal((await call(app, 'POST', '/deliveries/00000000-0000-7000-8000-00000000dead/retry')).status, 404);
    });

    test('bulk replay: failed deliveries go again once, even when asked twice', async () => {
      const r = await receiver();
      r.respond(status(500));
      const sub = await subscribe(app, r.url, { retry_policy: { ...FAST_RETRY, max_attempts: 1 } });
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await call(app, 'POST', `/ingest/${sub}`, { event_type: 'replay', data: { i } })).body.delivery_id);
      for (const id of ids) assert.equal((await finished(app, id)).status, 'failed');
      r.respond(ok);
      const [one, two] = await Promise.all([
        call(app, 'POST', `/subscriptions/${sub}/replay`, { status: 'failed' }),
        call(app, 'POST', `/subscriptions/${sub}/replay`, { status: 'failed' }),
      ]);
      assert.equal(one.status, 202);
      assert.equal(one.body.count, 6);
      assert.ok(two.body.already_running || two.body.count <= 6);
      // The replay runs in the background: wait for every delivery to have gone again.
      for (const id of ids) {
        await eventually(async () => ((await call(app, 'GET', `/deliveries/${id}`)).body.status === 'succeeded' ? true : undefined));
      }
      await sleep(200);
      assert.equal(r.requests.length, 12, 'six failures, then each sent exactly once more');
      const none = await call(app, 'POST', `/subscriptions/${sub}/replay`, {});
      assert.equal(none.body.count, 0);
      const future = await call(app, 'POST', `/subscriptions/${sub}/replay`, { status: 'succeeded', since: new Date(Date.now() + 60_000).toISOString() });
      assert.equal(future.body.count, 0);
      assert.equal((await call(app, 'POST', `/subscriptions/${sub}/replay`, { status: 'queued' })).status, 422);
    });

    test('content filter: evaluated at ingestion, non-matches recorded as filtered; bad filters are 422', async () => {
      const r = await receiver();
      const sub = await subscribe(app, r.url, { event_types: ['order.*'], filter: { 'data.total': { $gte: 100 }, $not: { 'data.test': true } } });
      const small = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'order.created', data: { total: 50 } });
      const big = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'order.created', data: { total: 150 } });
      const test = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'order.created', data: { total: 150, test: true } });
      assert.deepEqual([small.body.status, big.body.status, test.body.status], ['filtered', 'queued', 'filtered']);
      const fan = await call(app, 'POST', '/events', { event_type: 'order.paid', data: { total: 10 } });
      assert.ok(!(await Promise.all(fan.body.delivery_ids.map((id: string) => call(app, 'GET', `/deliveries/${id}`)))).some((d) => d.body.subscription_id === sub));
      await r.waitFor(1);
      await sleep(100);
      assert.equal(r.requests.length, 1);
      assert.equal(JSON.parse(r.requests[0]!.body.toString()).data.total, 150);
      const bad = await call(app, 'POST', '/subscriptions', { target_url: r.url, filter: { 'data.total': { $regex: '.*' } } });
      assert.deepEqual([bad.status, bad.body.error.code], [422, 'invalid_filter']);
      assert.match(bad.body.error.message, /\$regex/);
      const shown = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
      assert.deepEqual(shown.filter, { 'data.total': { $gte: 100 }, $not: { 'data.test': true } });
    });

    test('FIFO: 1,000 events to a receiver failing 20 % at random arrive in strict order', async () => {
      const r = await receiver();
      let expected = 0;
      let outOfOrder = 0;
      let concurrent = 0;
      let maxConcurrent = 0;
      r.respond(async (req, res) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        const n = JSON.parse(req.body.toString()).data.n as number;
        // A retry of the one before is fine; anything else out of turn is a violation.
        if (n !== expected && n !== expected - 1) outOfOrder++;
        const fail = Math.random() < 0.2;
        if (!fail && n === expected) expected++;
        await sleep(0);
        concurrent--;
        res.statusCode = fail ? 500 : 200;
        res.end();
      });
      const sub = await subscribe(app, r.url, { ordering: 'fifo', retry_policy: { ...FAST_RETRY, initial_delay_ms: 1, max_delay_ms: 1, max_attempts: 50 } });
      await app.dispatcher!.stop();
      const ids: string[] = [];
      for (let n = 0; n < 1000; n++) ids.push((await call(app, 'POST', `/ingest/${sub}`, { event_type: 'fifo', data: { n } })).body.delivery_id);
      const started = Date.now();
      app.dispatcher!.start();
      await eventually(() => (expected === 1000 ? true : undefined), 50_000, 'all 1,000 in order');
      console.log(`fifo (${name}): 1,000 events, ${r.requests.length} requests (${r.requests.length - 1000} retries) in ${Date.now() - started} ms`);
      assert.equal(outOfOrder, 0);
      assert.equal(maxConcurrent, 1);
      const last = await finished(app, ids[999]!);
      assert.equal(last.status, 'succeeded');
    });
  });

  describe(`auto-disable and operational events (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let failing: Receiver;
    let operations: Receiver;
    const OPS_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

    before(async () => {
      failing = await startReceiver();
      failing.respond(status(500));
      operations = await startReceiver('/ops');
      target = newTarget(name);
      app = await startTestApp(target, {
        config: { ...baseConfig, circuit: { failureThreshold: 1000, cooldownMs: 300 }, autoDisableAfterMs: 400, operationsUrl: operations.url, operationsSecret: OPS_SECRET },
      });
    });
    after(async () => {
      await app.close();
      await failing.close();
      await operations.close();
      await target.cleanup();
    });

    test('a subscription failing for too long is disabled; delivery.failed and subscription.disabled reach HOOKD_OPERATIONS_URL, signed', async () => {
      const sub = await subscribe(app, failing.url, { retry_policy: { initial_delay_ms: 100, backoff_factor: 1, max_delay_ms: 100, jitter: 0, max_attempts: 3 } });
      const first = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'doomed', data: { n: 1 } });
      assert.equal((await finished(app, first.body.delivery_id)).status, 'failed');
      const second = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'doomed', data: { n: 2 } });
      const disabled = await eventually(async () => {
        const s = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
        return s.active ? undefined : s;
      }, 5000, 'auto-disable');
      assert.match(disabled.disabled_reason, /failing continuously since/);
      // Its queued delivery waits (not lost) for re-activation.
      const held = (await call(app, 'GET', `/deliveries/${second.body.delivery_id}`)).body;
      assert.ok(['queued', 'failed'].includes(held.status));
      const notices = await eventually(() => {
        const types = operations.requests.map((q) => JSON.parse(q.body.toString()).type);
        return types.includes('delivery.failed') && types.includes('subscription.disabled') ? operations.requests : undefined;
      }, 5000, 'operational events at the operations receiver');
      const webhook = new Webhook(OPS_SECRET);
      for (const q of notices) {
        const body = webhook.verify(q.body.toString(), q.headers as Record<string, string>) as { type: string; data: { subscription_id: string } };
        assert.equal(body.data.subscription_id, sub);
      }
      const { body } = await call(app, 'GET', '/status');
      const types = body.operational_events.filter((e: { subscription_id: string }) => e.subscription_id === sub).map((e: { type: string }) => e.type);
      assert.ok(types.includes('delivery.failed') && types.includes('subscription.disabled'));
      // The operations subscription is listed as a system subscription and never fanned out to.
      const system = (await call(app, 'GET', '/subscriptions/00000000-0000-7000-8000-000000000001')).body;
      assert.equal(system.system, true);
      const fan = await call(app, 'POST', '/events', { event_type: 'delivery.failed' });
      assert.equal(fan.body.deliveries, 0);
      // Re-activating clears the reason and the failure history.
      failing.respond(ok);
      const back = (await call(app, 'PATCH', `/subscriptions/${sub}`, { active: true })).body;
      assert.deepEqual([back.active, back.disabled_reason, back.circuit.failing_since], [true, null, null]);
    });
  });
}

if (STORE_NAMES.includes('postgres')) {
  describe('limits hold across processes (postgres, two hookd instances on one database)', () => {
    let target: StoreTarget;
    let one: App;
    let two: App;
    const receivers: Receiver[] = [];

    before(async () => {
      target = newTarget('postgres');
      one = await startTestApp(target, { config: baseConfig });
      two = await startTestApp(target, { config: baseConfig });
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await one.close();
      await two.close();
      await target.cleanup();
    });

    test('max_in_flight counts both workers together', async () => {
      const r = await startReceiver();
      receivers.push(r);
      const held = { now: 0, max: 0 };
      r.respond(slowResponder(300, held));
      const sub = await subscribe(one, r.url, { max_in_flight: 4 });
      const ids: string[] = [];
      for (let i = 0; i < 24; i++) ids.push((await call(i % 2 ? one : two, 'POST', `/ingest/${sub}`, { event_type: 'shared' })).body.delivery_id);
      for (const id of ids) assert.equal((await finished(one, id, 15_000)).status, 'succeeded');
      assert.equal(held.max, 4);
      assert.ok(one.dispatcher && two.dispatcher);
    });

    test('the rate limit is shared by both workers', async () => {
      const r = await startReceiver();
      receivers.push(r);
      const sub = await subscribe(one, r.url, { rate_limit_per_second: 10 });
      const started = Date.now();
      for (let i = 0; i < 30; i++) await call(i % 2 ? one : two, 'POST', `/ingest/${sub}`, { event_type: 'rated' });
      await r.waitFor(30, 10_000);
      const elapsed = r.requests[29]!.at - started;
      assert.ok(elapsed >= 1800, `30 deliveries at 10/s over two workers took only ${elapsed} ms`);
    });

    test('an Idempotency-Key holds across both APIs', async () => {
      const r = await startReceiver();
      receivers.push(r);
      const sub = await subscribe(one, r.url);
      const key = { 'idempotency-key': `cross-${uuidv7()}` };
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(i % 2 ? one : two, 'POST', `/ingest/${sub}`, { event_type: 'idem' }, key)));
      assert.ok(answers.every((a) => a.status === 202));
      assert.equal(new Set(answers.map((a) => a.body.event_id)).size, 1);
      await r.waitFor(1);
      await sleep(200);
      assert.equal(r.requests.length, 1);
    });
  });
}
