// The worker pool under receivers that hang: they may hold most of a process's workers until
// the request timeout, but a quarter stays for subscriptions whose receivers answer, so a
// healthy subscription's deliveries still go out at once.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, test } from 'node:test';
import type { App } from '../src/app.ts';
import { planClaims, type ClaimCandidate } from '../src/store/queue/claim-plan.ts';
import { PoolReserve, SLOW_ATTEMPT_MS } from '../src/delivery/pool-reserve.ts';
import { call, subscribe } from './support/api.ts';
import { eventually, startReceiver, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const POOL = 64;

/** A receiver that reads each request and never answers; counts the requests it holds. */
async function startHangingReceiver() {
  const held = new Set<http.ServerResponse>();
  let received = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    received++;
    held.add(res);
    res.on('close', () => held.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    get received() {
      return received;
    },
    get holding() {
      return held.size;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('the reserve: prompt receivers take any free slot, the others three quarters between them, a new one a slot to find out', () => {
  const reserve = new PoolReserve(8); // two reserved slots
  const candidate = (id: string): ClaimCandidate => ({ id, maxInFlight: 10, ordering: 'parallel', rateLimitPerSecond: null, rateTokens: null, rateRefilledAt: null, circuitState: 'closed' });
  let now = 0;
  // "fast" and "quick" answered promptly before; "slow" took longer than SLOW_ATTEMPT_MS.
  for (const id of ['fast', 'quick']) {
    reserve.started(`d-${id}`, id, now);
    reserve.finished(`d-${id}`, now + 10);
  }
  reserve.started('d-slow', 'slow', now);
  reserve.finished('d-slow', now + SLOW_ATTEMPT_MS + 1);
  // Six attempts of "hung", which this process knows nothing about yet, are running: the
  // three quarters the others may hold are taken.
  for (let i = 0; i < 6; i++) reserve.started(`d-hung-${i}`, 'hung', now);
  now += 10;
  const plan = (ids: string[], limit = 2, from = reserve) => Object.fromEntries(planClaims(ids.map(candidate), new Map(), { now, limit, circuitCooldownMs: 1000, reserve: from.forClaim(limit, now) })
    .quotas.map((q) => [q.subscriptionId, q.count]));
  assert.deepEqual(plan(['hung', 'slow', 'fast']), { fast: 1 });
  assert.deepEqual(plan(['quick']), { quick: 2 }, 'a prompt receiver takes any free slot');
  assert.deepEqual(plan(['hung', 'new', 'other']), { new: 1, other: 1 }, 'unknown subscriptions with nothing in flight get one each, to find out');
  // Once its attempt has run slowly, a subscription that answered promptly before gets none.
  reserve.started('d-fast-2', 'fast', now);
  now += SLOW_ATTEMPT_MS + 1;
  assert.deepEqual(plan(['fast', 'new']), { new: 1 });
  assert.equal(reserve.slowInFlight(now), 7);
  // With the three quarters free, anyone may take them.
  assert.deepEqual(plan(['hung'], 4, new PoolReserve(8)), { hung: 4 });
  // A pool of fewer than four workers keeps none.
  assert.equal(new PoolReserve(3).forClaim(3, now).open, 3);
});

for (const name of STORE_NAMES) {
  describe(`worker pool with hanging receivers (${name})`, () => {
    let target: StoreTarget;
    let hookd: App;
    let healthy: Receiver;
    let hanging: Awaited<ReturnType<typeof startHangingReceiver>>;

    before(async () => {
      healthy = await startReceiver();
      hanging = await startHangingReceiver();
      target = newTarget(name);
      // Hanging attempts hold their workers for the whole minute of the request timeout.
      hookd = await startTestApp(target, {
        config: { allowNetworks: LOOPBACK, workerConcurrency: POOL, requestTimeoutMs: 60_000, shutdownGraceMs: 100 },
      });
    });

    after(async () => {
      await hookd.close();
      await hanging.close();
      await healthy.close();
      await target.cleanup();
    });

    it('keeps workers for a healthy subscription while eight hanging ones could take them all', async () => {
      // Eight subscriptions to the hanging receiver, ten in flight each: 80 > 64 workers.
      const stuck: string[] = [];
      for (let i = 0; i < 8; i++) stuck.push(await subscribe(hookd, hanging.url, { max_in_flight: 10 }));
      for (const id of stuck) {
        for (let n = 0; n < 12; n++) assert.equal((await call(hookd, 'POST', `/ingest/${id}`, { event_type: 'order.created', data: { n } })).status, 202);
      }
      // They take three quarters of the pool, and keep it.
      await eventually(() => (hanging.holding >= POOL * 3 / 4 ? true : undefined), 20_000, 'the hanging receiver to hold three quarters of the workers');

      const ok = await subscribe(hookd, healthy.url);
      const sent: string[] = [];
      for (let n = 0; n < 30; n++) {
        const answer = await call(hookd, 'POST', `/ingest/${ok}`, { event_type: 'order.created', data: { n } });
        assert.equal(answer.status, 202);
        sent.push(answer.body.delivery_id);
      }
      // Long before the hanging attempts time out (a minute), every healthy delivery is through.
      await eventually(() => (healthy.requests.length >= sent.length ? true : undefined), 20_000, 'the healthy subscription\'s deliveries');
      for (const id of sent) assert.equal((await call(hookd, 'GET', `/deliveries/${id}`)).body.status, 'succeeded');
      assert.ok(hanging.holding <= POOL, 'the hanging ones still hold their workers');
      assert.ok(hanging.holding >= POOL * 3 / 4 - 8, `the hanging ones keep their share (${hanging.holding})`);
    });
  });
}
