// Auto-disable and operational events: a subscription failing for too long is disabled, and
// delivery.failed / subscription.disabled are sent, signed, to HOOKD_OPERATIONS_URL.
// Real receivers on loopback, both stores. The app's clock is real time plus an offset the
// test moves past the auto-disable limit, so that how long the failing attempts take on a
// busy machine cannot decide which delivery's failure disables the subscription. (The limit
// stays within the 5 minutes a webhook-timestamp may be off when the notices are verified.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { App } from '../src/app.ts';
import { call, finished, subscribe } from './support/api.ts';
import { DELIVERY_CONFIG } from './support/delivery-app.ts';
import { eventually, ok, startReceiver, status, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const AUTO_DISABLE_AFTER_MS = 2 * 60_000;

for (const name of STORE_NAMES) {
  describe(`auto-disable and operational events (${name})`, () => {
    let offset = 0;
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
        clock: () => Date.now() + offset,
        config: { ...DELIVERY_CONFIG, circuit: { failureThreshold: 1000, cooldownMs: 300 }, autoDisableAfterMs: AUTO_DISABLE_AFTER_MS, operationsUrl: operations.url, operationsSecret: OPS_SECRET },
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
      const beforeLimit = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
      assert.ok(beforeLimit.active && beforeLimit.circuit.failing_since, 'failing, but not for too long yet');
      offset += AUTO_DISABLE_AFTER_MS;
      const second = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'doomed', data: { n: 2 } });
      assert.equal(second.status, 202);
      const disabled = await eventually(async () => {
        const s = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
        return s.active ? undefined : s;
      }, undefined, 'auto-disable');
      assert.match(disabled.disabled_reason, /failing continuously since/);
      // Its other delivery is kept, not lost: queued for re-activation, or failed when it ran
      // out of attempts. An attempt in flight when the subscription was disabled is recorded first.
      const held = await eventually(async () => {
        const delivery = (await call(app, 'GET', `/deliveries/${second.body.delivery_id}`)).body;
        return delivery.status === 'delivering' ? undefined : delivery;
      });
      assert.ok(['queued', 'failed'].includes(held.status), held.status);
      const notices = await eventually(() => {
        const types = operations.requests.map((q) => JSON.parse(q.body.toString()).type);
        return types.includes('delivery.failed') && types.includes('subscription.disabled') ? operations.requests : undefined;
      }, undefined, 'operational events at the operations receiver');
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
