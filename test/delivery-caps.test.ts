// Fairness and concurrency caps: a backlog or a slow receiver for one subscription takes only
// its own share (max_in_flight) and never delays the others. Real receivers on loopback, both stores.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, finished, subscribe } from './support/api.ts';
import { backlog, useDeliveryApp } from './support/delivery-app.ts';
import { HeldRequests } from './support/receiver.ts';
import { STORE_NAMES } from './support/stores.ts';

for (const name of STORE_NAMES) {
  describe(`fairness and concurrency caps (${name})`, () => {
    const hookd = useDeliveryApp(name);
    const receiver = hookd.receiver;
    let app: App;
    before(() => {
      app = hookd.app;
    });

    test('fairness: a 10,000-delivery backlog for A does not delay B', async () => {
      const a = await receiver();
      const b = await receiver();
      const subA = await subscribe(app, a.url, { max_in_flight: 1000 });
      const subB = await subscribe(app, b.url);
      try {
        await app.dispatcher!.stop();
        await backlog(app, subA, 10_000);
        app.dispatcher!.start();
        await a.waitFor(200);
        const aBefore = a.requests.length;
        const acks = await Promise.all(Array.from({ length: 10 }, (_, i) => call(app, 'POST', `/ingest/${subB}`, { event_type: 'b', data: { i } })));
        assert.ok(acks.every((ack) => ack.status === 202));
        // Without fairness B would wait for A's whole backlog; the bound is set by that work, not by the clock.
        await b.waitFor(10, 60_000);
        const aDuringB = a.requests.length - aBefore;
        const aLeft = 10_000 - aBefore;
        console.log(`fairness (${name}): A delivered ${aDuringB} of its remaining ${aLeft} while B's 10 were delivered`);
        assert.ok(aDuringB < aLeft / 4, `B waited while A delivered ${aDuringB} of ${aLeft}`);
        assert.ok(a.requests.length < 10_000, 'A was still draining');
      } finally {
        // Leave no backlog to the next tests.
        await call(app, 'DELETE', `/subscriptions/${subA}`);
      }
    });

    test('concurrency cap: a receiver that does not answer holds at most max_in_flight requests and does not delay others', async () => {
      const slow = await receiver();
      const fast = await receiver();
      // The slow receiver answers only once the test has seen what it needs.
      const held = new HeldRequests();
      slow.respond(held.responder);
      const subSlow = await subscribe(app, slow.url, { max_in_flight: 3 });
      const subFast = await subscribe(app, fast.url);
      const slowIds: string[] = [];
      for (let i = 0; i < 8; i++) slowIds.push((await call(app, 'POST', `/ingest/${subSlow}`, { event_type: 'slow' })).body.delivery_id);
      await slow.waitFor(3);
      const fastIds: string[] = [];
      for (let i = 0; i < 5; i++) fastIds.push((await call(app, 'POST', `/ingest/${subFast}`, { event_type: 'fast' })).body.delivery_id);
      try {
        for (const id of fastIds) assert.equal((await finished(app, id)).status, 'succeeded');
        // The fast receiver did not wait for the slow one: its three requests are still held.
        assert.equal(held.count, 3);
        // The claims that took the fast deliveries passed over the slow subscription's other five.
        const slowStatuses = await Promise.all(slowIds.map(async (id) => (await call(app, 'GET', `/deliveries/${id}`)).body.status));
        assert.deepEqual(slowStatuses.toSorted(), [...Array(3).fill('delivering'), ...Array(5).fill('queued')]);
        assert.equal(held.max, 3, 'never more than max_in_flight at once');
        assert.equal(slow.requests.length, 3);
      } finally {
        held.answerAll();
        await call(app, 'DELETE', `/subscriptions/${subSlow}`);
      }
    });
  });
}
