// Recovery after kill -9, in seconds rather than lease times. On SQLite one process holds the
// database and keeps its leases in memory: a restarted hookd finds every unfinished delivery
// due at once, and a second hookd on the same file is refused. On PostgreSQL a worker counts
// while it holds its presence lock: when its process dies, another worker takes its
// deliveries within a claim or two. The leases here last over a minute, so only recovery
// without waiting them out can pass.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { STORE_NAMES, newTarget, openTestStore, type StoreTarget } from './support/stores.ts';
import { eventually, ok, startReceiver, type Receiver, type Responder } from './support/receiver.ts';
import { databaseUrlFor, freePort, killAllHookd, startHookd, type HookdProcess } from './support/hookd-process.ts';

const IN_FLIGHT = 10;
/** connect 1 s + request 60 s + margin 10 s: a lease outlives every recovery asserted here. */
const LONG_LEASES = { HOOKD_CONNECT_TIMEOUT_MS: '1000', HOOKD_REQUEST_TIMEOUT_MS: '60000', HOOKD_LEASE_MARGIN_MS: '10000' };

function settings(databaseUrl: string, port: number): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', HOOKD_ALLOW_NETWORKS: '127.0.0.0/8', LOG_LEVEL: 'warn',
    HOOKD_RATE_LIMIT_PER_MINUTE: '0', HOOKD_POLL_INTERVAL_MS: '500', ...LONG_LEASES,
  };
}

/** Holds every request open (the receiver hangs) until `release`, then answers 200. */
function hanging(): { responder: Responder; release(): void } {
  const held: (() => void)[] = [];
  let released = false;
  return {
    responder: (req, res) => {
      if (released) ok(req, res);
      else held.push(() => ok(req, res));
    },
    release() {
      released = true;
      held.splice(0).forEach((answer) => answer());
    },
  };
}

/** A subscription with IN_FLIGHT deliveries out to a receiver that does not answer. */
async function deliveriesInFlight(hookd: HookdProcess, receiver: Receiver): Promise<{ subscriptionId: string; eventIds: string[] }> {
  const created = await hookd.call('POST', '/subscriptions', { target_url: receiver.url, max_in_flight: IN_FLIGHT });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const eventIds: string[] = [];
  for (let n = 0; n < IN_FLIGHT; n++) {
    const ingested = await hookd.call('POST', `/ingest/${created.body.id}`, { event_type: 'recovery.test', data: { n } });
    assert.equal(ingested.status, 202, JSON.stringify(ingested.body));
    eventIds.push(ingested.body.event_id);
  }
  await receiver.waitFor(IN_FLIGHT, 20_000);
  return { subscriptionId: created.body.id, eventIds };
}

const LEASE_S = (Number(LONG_LEASES.HOOKD_CONNECT_TIMEOUT_MS) + Number(LONG_LEASES.HOOKD_REQUEST_TIMEOUT_MS) + Number(LONG_LEASES.HOOKD_LEASE_MARGIN_MS)) / 1000;

async function everySucceeded(hookd: HookdProcess): Promise<void> {
  await eventually(async () => {
    const listed = await hookd.call('GET', '/deliveries?event_type=recovery.test&limit=100');
    return listed.body.items.length === IN_FLIGHT && listed.body.items.every((d: { status: string }) => d.status === 'succeeded') ? true : undefined;
  }, 10_000, 'every delivery recorded as succeeded');
}

/** Waits until every event has reached the receiver again after `since`; returns how long that took. */
async function redelivered(receiver: Receiver, eventIds: readonly string[], since: number, timeoutMs: number): Promise<number> {
  return eventually(() => {
    const arrived = receiver.requests.filter((r) => r.at >= since).map((r) => r.headers['webhook-id']);
    return eventIds.every((id) => arrived.includes(id)) ? Math.max(...receiver.requests.filter((r) => r.at >= since).map((r) => r.at)) - since : undefined;
  }, timeoutMs, `all ${eventIds.length} deliveries again`);
}

for (const name of STORE_NAMES) {
  describe(`recovery after kill -9 (${name})`, () => {
    const targets: StoreTarget[] = [];
    const receivers: Receiver[] = [];
    after(async () => {
      await killAllHookd();
      await Promise.all(receivers.map((r) => r.close()));
      for (const target of targets) await target.cleanup();
    });

    async function prepared(): Promise<StoreTarget> {
      const target = newTarget(name);
      targets.push(target);
      await (await openTestStore(target)).close();
      return target;
    }

    if (name === 'sqlite') {
      test('a restarted hookd sends what the killed one had in flight at once; a second hookd on the file is refused', async () => {
        const target = await prepared();
        const receiver = await startReceiver();
        receivers.push(receiver);
        const hang = hanging();
        receiver.respond(hang.responder);
        const port = await freePort();
        const first = startHookd('serve', settings(databaseUrlFor(target), port));
        await first.waitHealthy();

        const second = startHookd('serve', settings(databaseUrlFor(target), await freePort()));
        const refused = await second.exited;
        assert.equal(refused.code, 2, second.tail());
        assert.match(second.output, /another hookd process is sending the deliveries of/);

        const { eventIds } = await deliveriesInFlight(first, receiver);
        await first.kill();
        hang.release();
        // Measured from the restart itself: the new process sends before its API answers.
        const restartedAt = Date.now();
        const restarted = startHookd('serve', settings(databaseUrlFor(target), port));
        const tookMs = await redelivered(receiver, eventIds, restartedAt, 30_000);
        await restarted.waitHealthy();
        console.log(`recovery (sqlite): ${IN_FLIGHT} deliveries in flight at kill -9; all sent again ${tookMs} ms after the restart began, process start included (their leases would have lasted ${LEASE_S} s)`);
        assert.ok(tookMs < 10_000, `resumed ${tookMs} ms after the restart`);
        await everySucceeded(restarted);
        await restarted.stop(10_000);
      });
    }

    if (name === 'postgres') {
      test('a worker takes over the deliveries of a killed worker within seconds, not after their leases', async () => {
        const target = await prepared();
        const receiver = await startReceiver();
        receivers.push(receiver);
        const hang = hanging();
        receiver.respond(hang.responder);
        const url = databaseUrlFor(target);
        const doomed = startHookd('serve', settings(url, await freePort()));
        await doomed.waitHealthy();
        const { eventIds } = await deliveriesInFlight(doomed, receiver);
        // A second worker, idle: the subscription's cap is taken by the first one's leases.
        const survivor = startHookd('serve', settings(url, await freePort()));
        await survivor.waitHealthy();
        assert.equal(receiver.requests.length, IN_FLIGHT, 'nothing more while the cap is taken');

        hang.release();
        const killedAt = Date.now();
        await doomed.kill();
        const tookMs = await redelivered(receiver, eventIds, killedAt, 30_000);
        console.log(`recovery (postgres): ${IN_FLIGHT} deliveries in flight at kill -9; the other worker sent them all ${tookMs} ms after the kill (their leases would have lasted ${LEASE_S} s)`);
        assert.ok(tookMs < 8000, `taken over ${tookMs} ms after the kill`);
        await everySucceeded(survivor);
        await survivor.stop(10_000);
      });
    }
  });
}
