// GET /metrics: counters and histograms move with real ingests and deliveries to a loopback
// receiver; queue gauges are read from the store at scrape time; no label names a subscription.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, ingest, subscribe } from './support/api.ts';
import { scrape, value } from './support/metrics.ts';
import { eventually, startReceiver, status } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp } from './support/stores.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const ORDER_CREATED = { event_type: 'order.created', data: { n: 1 } };


for (const storeName of STORE_NAMES) {
  test(`metrics follow ingests, deliveries and retention (${storeName})`, async (t) => {
    const target = newTarget(storeName);
    let shiftMs = 0;
    // Two failures in a row open a circuit, so the failing subscription's opens below.
    const app = await startTestApp(target, { config: { allowNetworks: LOOPBACK, pollIntervalMs: 50, circuit: { failureThreshold: 2, cooldownMs: 60_000 } }, clock: () => Date.now() + shiftMs });
    const ok = await startReceiver();
    const failing = await startReceiver();
    failing.respond(status(500, 'no'));
    t.after(async () => {
      await app.close();
      await ok.close();
      await failing.close();
      await target.cleanup();
    });

    const before = await scrape(app);
    assert.equal(value(before, 'hookd_events_ingested_total', { path: 'subscription' }), 0);
    assert.equal(value(before, 'hookd_attempts_total', { outcome: 'succeeded' }), 0);
    assert.ok(value(before, 'hookd_process_cpu_seconds_total') > 0, 'process metrics are exported');

    const good = await subscribe(app, ok.url, { event_types: ['order.*'] });
    const bad = await subscribe(app, failing.url, { retry_policy: { max_attempts: 1 } });
    for (let i = 0; i < 3; i++) await ingest(app, good, ORDER_CREATED);
    assert.equal((await ingest(app, good, { event_type: 'user.registered', data: { n: 1 } })).status, 'filtered');
    await ingest(app, bad, ORDER_CREATED);
    const fanOut = await call(app, 'POST', '/events', { event_type: 'order.shipped' });
    assert.equal(fanOut.body.deliveries, 2);

    // 3 + 1 fanned out succeed at the good receiver; 1 + 1 fail at the bad one, after one attempt each.
    const after = await eventually(async () => {
      const samples = await scrape(app);
      const done = value(samples, 'hookd_attempts_total', { outcome: 'succeeded' }) === 4
        && value(samples, 'hookd_attempts_total', { outcome: 'failed' }) === 2;
      return done ? samples : undefined;
    }, 10_000, 'six deliveries to finish');

    assert.equal(value(after, 'hookd_events_ingested_total', { path: 'subscription' }), 5);
    assert.equal(value(after, 'hookd_events_ingested_total', { path: 'fan_out' }), 1);
    assert.equal(value(after, 'hookd_deliveries_created_total', { status: 'queued' }), 6);
    assert.equal(value(after, 'hookd_deliveries_created_total', { status: 'filtered' }), 1);
    assert.equal(value(after, 'hookd_attempts_total', { outcome: 'retrying' }), 0);
    assert.equal(value(after, 'hookd_ingest_duration_seconds_count', { path: 'subscription' }), 5);
    assert.ok(value(after, 'hookd_ingest_duration_seconds_sum', { path: 'subscription' }) > 0);
    assert.equal(value(after, 'hookd_delivery_attempt_duration_seconds_count', { outcome: 'success' }), 4);
    assert.equal(value(after, 'hookd_delivery_attempt_duration_seconds_count', { outcome: 'http_error' }), 2);
    assert.equal(value(after, 'hookd_delivery_attempt_duration_seconds_bucket', { outcome: 'success', le: '+Inf' }), 4);
    // The gauges of a scrape read the database while it runs, so in the scrape that first
    // saw the last counter move they may predate that last commit: read them afresh.
    const settled = await scrape(app);
    assert.equal(value(settled, 'hookd_queue_depth'), 0);
    assert.equal(value(before, 'hookd_circuits_open'), 0);
    assert.equal(value(settled, 'hookd_circuits_open'), 1);
    assert.equal(value(settled, 'hookd_deliveries_in_flight'), 0);
    for (const sample of after) {
      for (const label of Object.values(sample.labels)) {
        assert.ok(![good, bad].includes(label), `${sample.name} has a per-subscription label`);
      }
    }

    // Everything is finished; past the retention period it is all deleted, and counted.
    shiftMs = 73 * 3_600_000;
    const deleted = await app.retention.runOnce();
    assert.equal(deleted, 7);
    assert.equal(value(await scrape(app), 'hookd_retention_deleted_total'), 7);
  });

  test(`queue gauges and in-flight are read at scrape time (${storeName})`, async (t) => {
    const target = newTarget(storeName);
    let shiftMs = 0;
    const clock = () => Date.now() + shiftMs;
    const receiver = await startReceiver();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    receiver.respond(async (_request, res) => {
      await held;
      res.end('ok');
    });
    // An API-only process sends nothing, so what it ingests stays queued.
    const apiOnly = await startTestApp(target, { role: 'api', clock, config: { allowNetworks: LOOPBACK } });
    t.after(async () => {
      release();
      await apiOnly.close();
      await receiver.close();
      await target.cleanup();
    });

    const id = await subscribe(apiOnly, receiver.url);
    await ingest(apiOnly, id, ORDER_CREATED);
    await ingest(apiOnly, id, ORDER_CREATED);
    shiftMs = 5000;
    const queued = await scrape(apiOnly);
    assert.equal(value(queued, 'hookd_queue_depth'), 2);
    assert.equal(value(queued, 'hookd_queue_due_now'), 2);
    assert.ok(value(queued, 'hookd_queue_oldest_due_age_seconds') >= 5);
    assert.equal(value(queued, 'hookd_deliveries_in_flight'), 0);

    // A full process on the same database takes both and holds them at the slow receiver.
    const full = await startTestApp(target, { config: { allowNetworks: LOOPBACK, pollIntervalMs: 50 } });
    t.after(() => full.close());
    await receiver.waitFor(2);
    const sending = await scrape(full);
    assert.equal(value(sending, 'hookd_deliveries_in_flight'), 2);
    assert.equal(value(sending, 'hookd_queue_depth'), 2, 'being delivered still counts in the depth');
    assert.equal(value(sending, 'hookd_queue_due_now'), 0);
    release();
    await eventually(async () => (value(await scrape(apiOnly), 'hookd_queue_depth') === 0 ? true : undefined), undefined, 'the queue to drain');
  });
}

for (const storeName of STORE_NAMES) {
  test(`attempts per application only when the operator opts in (${storeName})`, async (t) => {
    const receiver = await startReceiver();
    const plainTarget = newTarget(storeName);
    const labelledTarget = newTarget(storeName);
    const plain = await startTestApp(plainTarget, { config: { allowNetworks: LOOPBACK, pollIntervalMs: 50 } });
    const labelled = await startTestApp(labelledTarget, { config: { allowNetworks: LOOPBACK, pollIntervalMs: 50, metricsApplicationLabels: true } });
    t.after(async () => {
      await plain.close();
      await labelled.close();
      await receiver.close();
      await plainTarget.cleanup();
      await labelledTarget.cleanup();
    });
    for (const app of [plain, labelled]) {
      const created = await call(app, 'POST', '/applications', { uid: 'metrics-app', name: 'M' });
      const subscription = await call(app, 'POST', '/applications/metrics-app/subscriptions', { target_url: receiver.url });
      await ingest(app, subscription.body.id, ORDER_CREATED);
      await eventually(async () => (value(await scrape(app), 'hookd_attempts_total', { outcome: 'succeeded' }) === 1 ? true : undefined));
      if (app === labelled) {
        assert.equal(value(await scrape(app), 'hookd_application_attempts_total', { application: created.body.id, outcome: 'succeeded' }), 1);
      }
    }
    assert.ok(!(await scrape(plain)).some((s) => s.name.startsWith('hookd_application_') || 'application' in s.labels), 'no application label by default');
  });
}
