// FIFO ordering: one delivery at a time, in ingestion order, through failures and retries.
// A real receiver on loopback, both stores.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, finished, subscribe } from './support/api.ts';
import { FAST_RETRY, useDeliveryApp } from './support/delivery-app.ts';
import { whileProgressing } from './support/receiver.ts';
import { STORE_NAMES } from './support/stores.ts';

for (const name of STORE_NAMES) {
  describe(`FIFO ordering (${name})`, () => {
    const hookd = useDeliveryApp(name);
    const receiver = hookd.receiver;
    let app: App;
    before(() => {
      app = hookd.app;
    });

    // The wait below fails when the order stops advancing; the test's own timeout is only a
    // backstop, longer than npm test's 120 s, which a busy machine can need for this much work.
    test('FIFO: 1,000 events to a receiver failing 20 % at random arrive in strict order', { timeout: 10 * 60_000 }, async () => {
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
        // Answer on the next turn of the event loop, so that a second request sent meanwhile
        // (a FIFO violation) would find this one still open.
        await new Promise((resolve) => setImmediate(resolve));
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
      // Each step is one delivery and its few retries, milliseconds apart: 10 s without one is stuck.
      await whileProgressing(() => (expected === 1000 ? true : undefined), () => expected, 10_000, 'all 1,000 in order');
      console.log(`fifo (${name}): 1,000 events, ${r.requests.length} requests (${r.requests.length - 1000} retries) in ${Date.now() - started} ms`);
      assert.equal(outOfOrder, 0);
      assert.equal(maxConcurrent, 1);
      const last = await finished(app, ids[999]!);
      assert.equal(last.status, 'succeeded');
    });
  });
}
