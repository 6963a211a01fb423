// Per-subscription limits hold across processes: two hookd instances on one PostgreSQL database
// share max_in_flight, the rate limit and Idempotency-Keys. Real receivers on loopback. Every
// ingest must be accepted: while one process settles attempts the other's ingest must not
// deadlock with it (it did, and answered 503, when both added to one counter row).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { uuidv7 } from 'uuidv7';
import type { App } from '../src/app.ts';
import { call, finished, ingest, subscribe } from './support/api.ts';
import { DELIVERY_CONFIG } from './support/delivery-app.ts';
import { HeldRequests, eventually, startReceiver, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

if (STORE_NAMES.includes('postgres')) {
  describe('limits hold across processes (postgres, two hookd instances on one database)', () => {
    let target: StoreTarget;
    let one: App;
    let two: App;
    const receivers: Receiver[] = [];

    before(async () => {
      target = newTarget('postgres');
      one = await startTestApp(target, { config: DELIVERY_CONFIG });
      two = await startTestApp(target, { config: DELIVERY_CONFIG });
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
      const held = new HeldRequests();
      r.respond(held.responder);
      const sub = await subscribe(one, r.url, { max_in_flight: 4 });
      const ids: string[] = [];
      for (let i = 0; i < 24; i++) ids.push((await ingest(i % 2 ? one : two, sub, { event_type: 'shared' })).delivery_id);
      // Six rounds: the two workers fill the four slots between them, then the four are answered.
      for (let round = 0; round < 6; round++) {
        await eventually(() => (held.count >= 4 ? true : undefined), undefined, `four requests held in round ${round + 1}`);
        held.answerAll();
      }
      for (const id of ids) assert.equal((await finished(one, id)).status, 'succeeded');
      assert.equal(held.max, 4);
      assert.ok(one.dispatcher && two.dispatcher);
    });

    test('the rate limit is shared by both workers', async () => {
      const r = await startReceiver();
      receivers.push(r);
      const sub = await subscribe(one, r.url, { rate_limit_per_second: 10 });
      const started = Date.now();
      for (let i = 0; i < 30; i++) await ingest(i % 2 ? one : two, sub, { event_type: 'rated' });
      await r.waitFor(30);
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
      const { items } = (await call(one, 'GET', `/subscriptions/${sub}/deliveries`)).body;
      assert.deepEqual(items.map((d: { event_id: string }) => d.event_id), [answers[0]!.body.event_id]);
      assert.equal((await finished(two, items[0].id)).status, 'succeeded');
      assert.deepEqual(r.requests.map((q) => q.headers['webhook-id']), [answers[0]!.body.event_id]);
    });
  });
}
