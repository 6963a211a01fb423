// A `hookd worker` has no API, but with HOOKD_METRICS_PORT it serves its own metrics (what
// it delivered is counted only there) and a health check.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App } from '../src/app.ts';
import { eventually, startReceiver, type Receiver } from './support/receiver.ts';
import { newTarget, startTestApp, type StoreTarget } from './support/stores.ts';
import { freePort } from './support/hookd-process.ts';

let target: StoreTarget;
let api: App;
let worker: App;
let receiver: Receiver;

before(async () => {
  target = newTarget('sqlite');
  receiver = await startReceiver();
  api = await startTestApp(target, { role: 'api', config: { allowNetworks: ['127.0.0.0/8'] } });
  worker = await startTestApp(target, { role: 'worker', config: { metricsPort: await freePort(), allowNetworks: ['127.0.0.0/8'], pollIntervalMs: 20 } });
});
after(async () => {
  await worker.close();
  await api.close();
  await receiver.close();
  await target.cleanup();
});

test('the worker reports its own deliveries on its metrics port', async () => {
  assert.ok(worker.url, 'the worker listens on its metrics port');
  const created = await api.server!.inject({ method: 'POST', url: '/api/v1/subscriptions', payload: { target_url: receiver.url } });
  await api.server!.inject({ method: 'POST', url: `/api/v1/ingest/${created.json().id}`, payload: { event_type: 'w' } });
  await receiver.waitFor(1);
  // The attempt is counted once it is recorded, a moment after the receiver got it.
  const text = await eventually(async () => {
    const scraped = await (await fetch(`${worker.url}/metrics`)).text();
    return /hookd_attempts_total\{outcome="succeeded"\} 1/.test(scraped) ? scraped : undefined;
  }, 10_000, 'the worker to count its delivery');
  assert.match(text, /hookd_deliveries_in_flight 0/);
  const health = await fetch(`${worker.url}/api/v1/health`);
  assert.equal(health.status, 200);
  assert.equal((await fetch(`${worker.url}/api/v1/subscriptions`)).status, 404, 'no API on the metrics port');
  // The API process sent nothing, so its counter stays at zero.
  const apiText = (await api.server!.inject({ method: 'GET', url: '/metrics' })).body;
  assert.doesNotMatch(apiText, /hookd_attempts_total\{outcome="succeeded"\} 1/);
});
