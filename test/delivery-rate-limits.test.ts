// Rate limits, ours and the receiver's: rate_limit_per_second paces attempts without spending
// them, and Retry-After on 429/503 sets the next attempt. Real receivers on loopback, both stores.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, finished, subscribe } from './support/api.ts';
import { useDeliveryApp } from './support/delivery-app.ts';
import { eventually, status } from './support/receiver.ts';
import { STORE_NAMES } from './support/stores.ts';

for (const name of STORE_NAMES) {
  describe(`rate limits and Retry-After (${name})`, () => {
    const hookd = useDeliveryApp(name);
    const receiver = hookd.receiver;
    let app: App;
    before(() => {
      app = hookd.app;
    });

    test('rate limit: excess deliveries wait, spending no attempts', async () => {
      const r = await receiver();
      const sub = await subscribe(app, r.url, { rate_limit_per_second: 20 });
      const started = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) ids.push((await call(app, 'POST', `/ingest/${sub}`, { event_type: 'rated', data: { i } })).body.delivery_id);
      await r.waitFor(60);
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
      // Each case: the status, the Retry-After the receiver sends as it answers, and when the
      // next attempt must be, from the header and the time of the attempt.
      const cases: [number, () => string, (sent: string, attemptedAt: number) => number][] = [
        [429, () => '2', (_, at) => at + 2000],
        [503, () => new Date(Date.now() + 3000).toUTCString(), (sent) => Date.parse(sent)],
        [429, () => '3600', (_, at) => at + 5000], // capped by max_delay_ms
        [503, () => '0', (_, at) => at + 100], // never sooner than the schedule
      ];
      for (const [code, header, expectedAt] of cases) {
        let sent = '';
        r.respond((request, res) => {
          sent = header();
          return status(code, 'slow down', { 'retry-after': sent })(request, res);
        });
        const ingested = await call(app, 'POST', `/ingest/${sub}`, { event_type: 'throttled' });
        const delivery = await eventually(async () => {
          const d = (await call(app, 'GET', `/deliveries/${ingested.body.delivery_id}`)).body;
          return d.attempts === 1 && d.status === 'queued' ? d : undefined;
        });
        const attemptedAt = Date.parse(delivery.last_attempt_at);
        assert.equal(Date.parse(delivery.next_attempt_at) - attemptedAt, expectedAt(sent, attemptedAt) - attemptedAt, `${code} Retry-After ${sent}`);
      }
      await call(app, 'DELETE', `/subscriptions/${sub}`);
    });
  });
}
