// The circuit breaker: consecutive failures open it, it holds deliveries without spending
// attempts, and a good probe closes it. Real receivers on loopback, both stores. The app's
// clock runs with real time plus an offset the test moves: the cool-down is long enough that
// real time never ends it, so the test decides when the probe may go.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, finished, subscribe } from './support/api.ts';
import { ClaimWitness, DELIVERY_CONFIG, FAST_RETRY, useDeliveryApp } from './support/delivery-app.ts';
import { eventually, ok, status } from './support/receiver.ts';
import { STORE_NAMES } from './support/stores.ts';

const COOLDOWN_MS = 10 * 60_000;

for (const name of STORE_NAMES) {
  describe(`circuit breaker (${name})`, () => {
    let offset = 0;
    const hookd = useDeliveryApp(name, { ...DELIVERY_CONFIG, circuit: { failureThreshold: 3, cooldownMs: COOLDOWN_MS } }, () => Date.now() + offset);
    const receiver = hookd.receiver;
    let app: App;
    before(() => {
      app = hookd.app;
    });

    test('circuit breaker: opens after consecutive failures, holds deliveries without spending attempts, closes after a good probe', async () => {
      const witness = await ClaimWitness.create(app, await receiver());
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
      // Deliveries of another subscription are claimed and sent meanwhile; these are not.
      await witness.passed();
      assert.equal(r.requests.length, 3, 'nothing is sent while the circuit is open');
      const waiting = await Promise.all(ids.map(async (id) => (await call(app, 'GET', `/deliveries/${id}`)).body));
      assert.ok(waiting.every((d) => d.status === 'queued'), JSON.stringify(waiting.map((d) => d.status)));
      assert.equal(waiting.reduce((sum, d) => sum + d.attempts, 0), 3, 'only the three failures spent attempts');
      r.respond(ok);
      offset += COOLDOWN_MS;
      app.dispatcher!.wake();
      for (const id of ids) assert.equal((await finished(app, id)).status, 'succeeded');
      const closed = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
      assert.deepEqual([closed.circuit.state, closed.circuit.consecutive_failures], ['closed', 0]);
    });
  });
}
