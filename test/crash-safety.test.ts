// Crash safety, proven with real hookd processes and a real receiver on loopback: kill -9 in
// a loop under load, a stalled worker fenced out after SIGSTOP, SIGTERM with deliveries in
// flight, and PostgreSQL stopped and started under load. Each scenario prints its figures;
// none may lose an event that was answered 202.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { STORE_NAMES, newTarget, openTestStore, type StoreTarget } from './support/stores.ts';
import { HeldRequests, eventually, ok, startReceiver, status, whileProgressing, type Receiver } from './support/receiver.ts';
import { call, ingest, subscribe } from './support/api.ts';
import { STARTUP_MS, databaseUrlFor, freePort, killAllHookd, startHookd } from './support/hookd-process.ts';
import { IngestLoad } from './support/ingest-load.ts';
import { PrivatePostgres, privatePostgresUnavailable } from './support/private-postgres.ts';

const KILL_LOOP_EVENTS = 5000;
const KILL_LOOP_KILLS = 4;

const CONNECT_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const LEASE_MARGIN_MS = 500;
const RETRY_MAX_DELAY_MS = 1000;
/** How long a delivery whose attempt a kill cut off waits: its lease, then a retry. */
const CUT_OFF_DELIVERY_MS = CONNECT_TIMEOUT_MS + REQUEST_TIMEOUT_MS + LEASE_MARGIN_MS + RETRY_MAX_DELAY_MS;
/**
 * Deliveries are waited for as long as they keep arriving: the wait fails only when none has
 * arrived for a few times what a cut-off delivery waits, however slow the machine is.
 */
const DELIVERY_STALL_MS = 3 * CUT_OFF_DELIVERY_MS;
/** The longest hookd may take to restart (waitHealthy's bound), plus one ingest request. */
const RESTART_STALL_MS = STARTUP_MS + 10_000;
/** A backstop for the scenarios with stall bounds: those fail first when something is stuck. */
const SCENARIO_TIMEOUT_MS = 10 * 60_000;

/**
 * Settings of every child: loopback only, quiet logs, fast polling and retries, no API rate
 * limit, and short leases (connect + request timeout + margin = 3.5 s), so the deliveries a
 * killed process held are sent again soon.
 */
function settings(databaseUrl: string, port: number, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    HOOKD_ALLOW_NETWORKS: '127.0.0.0/8',
    LOG_LEVEL: 'warn',
    HOOKD_POLL_INTERVAL_MS: '100',
    HOOKD_RETRY_INITIAL_DELAY_MS: '200',
    HOOKD_RETRY_MAX_DELAY_MS: String(RETRY_MAX_DELAY_MS),
    HOOKD_RETRY_JITTER: '0',
    HOOKD_RATE_LIMIT_PER_MINUTE: '0',
    HOOKD_SHUTDOWN_GRACE_MS: '1000',
    HOOKD_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    HOOKD_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    HOOKD_LEASE_MARGIN_MS: String(LEASE_MARGIN_MS),
    ...overrides,
  };
}

function webhookIds(receiver: Receiver): string[] {
  return receiver.requests.map((request) => String(request.headers['webhook-id']));
}

/** Waits until the receiver has seen every event id at least once, as long as new ones keep arriving. */
async function allDelivered(receiver: Receiver, eventIds: Iterable<string>, stallMs = DELIVERY_STALL_MS): Promise<void> {
  const expected = [...eventIds];
  let missing = expected.length;
  await whileProgressing(() => {
    const seen = new Set(webhookIds(receiver));
    missing = expected.filter((id) => !seen.has(id)).length;
    return missing === 0 ? true : undefined;
  }, () => missing, stallMs, `all ${expected.length} accepted events to reach the receiver`).catch((error: Error) => {
    throw new Error(`${error.message} (${missing} missing)`);
  });
}

/** What reached the receiver of the events answered 202. */
function deliveryFigures(receiver: Receiver, eventIds: Iterable<string>) {
  const accepted = new Set(eventIds);
  const received = webhookIds(receiver);
  const distinct = new Set(received);
  return {
    delivered: [...accepted].filter((id) => distinct.has(id)).length,
    duplicates: received.length - distinct.size,
    lost: [...accepted].filter((id) => !distinct.has(id)).length,
    unknown: [...distinct].filter((id) => !accepted.has(id)).length,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}


for (const name of STORE_NAMES) {
  describe(`crash safety with real processes (${name})`, () => {
    let target: StoreTarget;
    let receiver: Receiver;
    let load: IngestLoad | undefined;

    test.beforeEach(async () => {
      target = newTarget(name);
      // Creates the Postgres schema (and the tables) the children are pointed at.
      await (await openTestStore(target)).close();
      receiver = await startReceiver();
    });
    test.afterEach(async () => {
      await load?.cancel();
      await killAllHookd();
      await receiver.close();
      await target.cleanup();
    });

    test(`kill -9 ${KILL_LOOP_KILLS} times, at random points, while ${KILL_LOOP_EVENTS} events are ingested: every event answered 202 is delivered`, { timeout: SCENARIO_TIMEOUT_MS }, async (t: TestContext) => {
      const started = Date.now();
      const port = await freePort();
      const env = settings(databaseUrlFor(target), port);
      let hookd = startHookd('serve', env);
      await hookd.waitHealthy();
      const subscriptionIds: string[] = [];
      for (let i = 0; i < 4; i++) subscriptionIds.push(await subscribe(hookd, receiver.url));

      const ingesting = new IngestLoad({ url: hookd.url!, subscriptionIds, concurrency: 16, total: KILL_LOOP_EVENTS, stallMs: RESTART_STALL_MS });
      load = ingesting;
      // Kills are paced by the work, not the clock: the k-th comes once about k shares of the
      // events (give or take a third of a share) have been accepted, so a slow machine gets
      // the same kills at the same points of the load, only later.
      const share = KILL_LOOP_EVENTS / (KILL_LOOP_KILLS + 1);
      let kills = 0;
      while (kills < KILL_LOOP_KILLS && ingesting.failure === null) {
        const killAt = Math.round(share * (kills + 1 + (Math.random() - 0.5) * 2 / 3));
        await whileProgressing(() => (ingesting.accepted.size >= killAt || ingesting.failure !== null ? true : undefined), () => ingesting.accepted.size, RESTART_STALL_MS, `${killAt} events accepted`);
        if (ingesting.failure !== null) break;
        await hookd.kill();
        kills++;
        hookd = startHookd('serve', env);
        await hookd.waitHealthy();
      }
      await ingesting.done;
      assert.ifError(ingesting.failure);
      const ingestedIn = Date.now() - started;
      const eventIds = [...ingesting.accepted.values()];
      await allDelivered(receiver, eventIds);
      const figures = deliveryFigures(receiver, eventIds);
      // Attempts whose outcome a kill cut off are sent again when their leases expire.
      let succeeded = 0;
      await whileProgressing(async () => {
        succeeded = (await call(hookd, 'GET', '/status')).body.deliveries.succeeded;
        return succeeded === KILL_LOOP_EVENTS ? true : undefined;
      }, () => succeeded, DELIVERY_STALL_MS, `all ${KILL_LOOP_EVENTS} deliveries to be recorded as succeeded`);
      const exit = await hookd.stop(10_000);

      t.diagnostic(`kill -9 loop (${name}): ${ingesting.sent} events sent in ${ingesting.answers.length} requests, ${ingesting.accepted.size} answered 202 `
        + `(${ingesting.replayed} of them replays of an answer lost in a kill), ${kills} kills in ${seconds(ingestedIn)}; `
        + `delivered ${figures.delivered} distinct webhook-ids in ${receiver.requests.length} requests (${figures.duplicates} duplicates), `
        + `lost ${figures.lost}; ${seconds(Date.now() - started)} in all`);
      assert.deepEqual(ingesting.unexpected, [], 'only 202 and 503 answers');
      assert.equal(ingesting.accepted.size, KILL_LOOP_EVENTS);
      assert.equal(new Set(eventIds).size, KILL_LOOP_EVENTS, 'one event per Idempotency-Key');
      assert.equal(kills, KILL_LOOP_KILLS);
      assert.equal(figures.lost, 0);
      assert.equal(figures.unknown, 0, 'no event the client was not answered about');
      assert.equal(exit.code, 0);
    });

    test('SIGTERM with deliveries in flight: they finish within the grace period or their leases are released; exit 0; a restart delivers the rest', async (t: TestContext) => {
      const graceMs = 1500;
      const inFlight = 10;
      const finishing = 5;
      // A lease far longer than the test (connect + request timeout + margin): only a
      // released lease lets the restarted process send those deliveries again at once.
      const leaseMs = 1000 + 20_000 + 30_000;
      const env = settings(databaseUrlFor(target), await freePort(), {
        HOOKD_SHUTDOWN_GRACE_MS: String(graceMs), HOOKD_CONNECT_TIMEOUT_MS: '1000', HOOKD_REQUEST_TIMEOUT_MS: '20000', HOOKD_LEASE_MARGIN_MS: '30000',
      });
      const held = new HeldRequests();
      receiver.respond(held.responder);
      const first = startHookd('serve', env);
      await first.waitHealthy();
      const subscriptionId = await subscribe(first, receiver.url, { max_in_flight: inFlight });
      const deliveryIds: string[] = [];
      for (let n = 0; n < inFlight; n++) deliveryIds.push((await ingest(first, subscriptionId, { event_type: 'crash.test', data: { n } })).delivery_id);
      const sending = await receiver.waitFor(inFlight);

      const stopping = first.stop(graceMs + 10_000);
      // Half the receivers answer during the grace period; the other half never do.
      held.answer(finishing);
      const exit = await stopping;
      const finished = new Set(sending.slice(0, finishing).map((request) => String(request.headers['x-hookd-delivery-id'])));

      const store = await openTestStore(target);
      const afterExit = await Promise.all(deliveryIds.map(async (id) => ({ delivery: (await store.deliveryLog.getDelivery(id))!, attempts: await store.deliveryLog.listAttempts(id) })));
      await store.close();

      receiver.respond(ok);
      const restartedAt = Date.now();
      const second = startHookd('serve', env);
      await second.waitHealthy();
      const released = deliveryIds.filter((id) => !finished.has(id));
      await eventually(() => {
        const resent = new Set(receiver.requests.slice(inFlight).map((request) => String(request.headers['x-hookd-delivery-id'])));
        return released.every((id) => resent.has(id)) ? true : undefined;
      }, leaseMs / 2, 'the released deliveries to be sent again, well before their leases would have expired');
      const redeliveredIn = Date.now() - restartedAt;
      const finals = await eventually(async () => {
        const all = await Promise.all(deliveryIds.map(async (id) => (await call(second, 'GET', `/deliveries/${id}`)).body));
        return all.every((d) => d.status === 'succeeded') ? all : undefined;
      }, undefined, 'every delivery to succeed');
      const secondExit = await second.stop(10_000);

      t.diagnostic(`SIGTERM (${name}): ${inFlight} deliveries in flight; ${finishing} finished within the ${graceMs} ms grace period, `
        + `${afterExit.filter((d) => d.delivery.status === 'queued').length} released; exit code ${exit.code} after ${exit.elapsedMs} ms; `
        + `the restart resent the released ones within ${redeliveredIn} ms of starting (their lease would have lasted ${seconds(leaseMs)}); `
        + `${finals.length} succeeded, lost 0`);
      assert.equal(exit.code, 0, first.tail());
      assert.ok(exit.elapsedMs < graceMs + 5000, `exited ${exit.elapsedMs} ms after SIGTERM`);
      assert.match(first.output, /released the leases of attempts still in flight/);
      for (const { delivery, attempts } of afterExit) {
        if (finished.has(delivery.id)) {
          assert.equal(delivery.status, 'succeeded');
          assert.deepEqual(attempts.map((a) => a.outcome), ['success']);
        } else {
          // Released: due again at once, and the aborted attempt is not counted or logged.
          assert.equal(delivery.status, 'queued');
          assert.equal(delivery.attempts, 0);
          assert.deepEqual(attempts, []);
          assert.ok(delivery.nextAttemptAt! <= restartedAt);
        }
      }
      for (const delivery of finals) assert.equal(delivery.logs.filter((log: { outcome: string }) => log.outcome === 'success').length, 1);
      assert.equal(secondExit.code, 0);
    });

    if (name === 'postgres') {
      test('a worker stalled (SIGSTOP) past its leases: another worker delivers them, and the stalled one\'s late results are refused', async (t: TestContext) => {
        const leasing = 10;
        const leaseMs = 500 + 3000 + 500;
        const env = settings(databaseUrlFor(target), await freePort(), {
          HOOKD_CONNECT_TIMEOUT_MS: '500', HOOKD_REQUEST_TIMEOUT_MS: '3000', HOOKD_LEASE_MARGIN_MS: '500',
        });
        const held = new HeldRequests();
        let takenOver = false;
        const hold = held.responder;
        const takeOver = status(200, 'answer to the worker that took over');
        receiver.respond((request, res) => (takenOver ? takeOver(request, res) : hold(request, res)));
        const api = startHookd('api', env);
        await api.waitHealthy();
        const stalled = startHookd('worker', env);
        const subscriptionId = await subscribe(api, receiver.url, { max_in_flight: leasing });
        const deliveries: { delivery_id: string; event_id: string }[] = [];
        for (let n = 0; n < leasing; n++) deliveries.push(await ingest(api, subscriptionId, { event_type: 'crash.test', data: { n } }));
        await receiver.waitFor(leasing);

        stalled.signal('SIGSTOP');
        const stoppedAt = Date.now();
        // Its answers wait in its sockets until it runs again.
        takenOver = true;
        held.answerAll('answer to the stalled worker');
        const other = startHookd('worker', env);
        await eventually(async () => {
          const all = await Promise.all(deliveries.map(async (d) => (await call(api, 'GET', `/deliveries/${d.delivery_id}`)).body));
          return all.every((d) => d.status === 'succeeded') ? true : undefined;
        }, undefined, 'the other worker to deliver the stalled worker\'s deliveries');
        const stalledMs = Date.now() - stoppedAt;
        stalled.signal('SIGCONT');
        await eventually(() => (stalled.count('attempt result discarded') >= leasing ? true : undefined), undefined, 'the stalled worker to try to record its results');

        const finals = await Promise.all(deliveries.map(async (d) => (await call(api, 'GET', `/deliveries/${d.delivery_id}`)).body));
        const seen = webhookIds(receiver);
        const exits = await Promise.all([stalled, other, api].map((hookd) => hookd.stop(10_000)));
        t.diagnostic(`stalled worker (${name}): ${leasing} deliveries leased by worker 1 (lease ${leaseMs} ms), SIGSTOP for ${stalledMs} ms; `
          + `worker 2 delivered all ${leasing}; after SIGCONT worker 1 had ${stalled.count('attempt result discarded')} late results refused; `
          + `the receiver saw each webhook-id ${seen.length / leasing}×; attempt records per delivery: ${finals.map((d) => d.logs.length).join(',')}; lost 0`);
        assert.ok(stalledMs > leaseMs);
        for (const delivery of finals) {
          assert.equal(delivery.status, 'succeeded');
          assert.equal(delivery.attempts, 1);
          assert.equal(delivery.logs.length, 1, 'only the attempt of the worker that held the lease is logged');
          assert.equal(delivery.logs[0].outcome, 'success');
          assert.equal(delivery.logs[0].response_body, 'answer to the worker that took over');
        }
        for (const { event_id: id } of deliveries) assert.equal(seen.filter((seenId) => seenId === id).length, 2);
        assert.deepEqual(exits.map((exit) => exit.code), [0, 0, 0]);
      });
    }
  });
}

describe('crash safety: PostgreSQL stopped and started under load', () => {
  const unavailable = privatePostgresUnavailable();
  let postgres: PrivatePostgres;
  let receiver: Receiver;
  let load: IngestLoad | undefined;

  before(async () => {
    if (unavailable) return;
    postgres = await PrivatePostgres.create();
    receiver = await startReceiver();
  });
  after(async () => {
    await load?.cancel();
    await killAllHookd();
    await receiver?.close();
    await postgres?.destroy();
  });

  test('while the database is down the API answers 503 (never 202) and health says so; hookd recovers on its own and delivers every accepted event', { skip: unavailable ?? false, timeout: SCENARIO_TIMEOUT_MS }, async (t: TestContext) => {
    const started = Date.now();
    const outageMs = 3000;
    /** How long hookd may take to accept events again once the database is back. */
    const recoveryMs = 15_000;
    const workerPollMs = 30_000;
    // A worker that polls rarely: after the outage only its restored LISTEN wakes it in time.
    const env = settings(postgres.url, await freePort());
    const api = startHookd('api', env);
    await api.waitHealthy();
    const worker = startHookd('worker', { ...env, HOOKD_POLL_INTERVAL_MS: String(workerPollMs) });
    const subscriptionIds = [await subscribe(api, receiver.url), await subscribe(api, receiver.url)];
    const ingesting = new IngestLoad({ url: api.url!, subscriptionIds, concurrency: 8, stallMs: outageMs + recoveryMs + 10_000 });
    load = ingesting;
    // The worker is up and delivering before the database goes away.
    await whileProgressing(() => (receiver.requests.length >= 100 ? true : undefined), () => receiver.requests.length, RESTART_STALL_MS, '100 events delivered before the outage');
    const acceptedBefore = ingesting.accepted.size;

    await postgres.stop();
    const downFrom = Date.now();
    const health: { status: number; database: string }[] = [];
    while (Date.now() - downFrom < outageMs) {
      const response = await call(api, 'GET', '/health').catch((error: Error) => ({ status: 0, body: { checks: { database: error.message } } }));
      health.push({ status: response.status, database: response.body.checks.database });
      await sleep(250);
    }
    const downUntil = Date.now();
    assert.ok(api.isRunning && worker.isRunning, `hookd exited while the database was down:\n${api.tail()}\n${worker.tail()}`);
    await postgres.start();
    const upAt = Date.now();
    const acceptedSinceUp = () => ingesting.answers.filter((a) => a.status === 202 && a.sentAt >= upAt);
    await eventually(() => (acceptedSinceUp().length > 0 ? true : undefined), recoveryMs, 'a 202 after the database is back');
    const recoveredIn = Math.min(...acceptedSinceUp().map((a) => a.answeredAt)) - upAt;
    // Keep ingesting a while after recovery (100 more events), so the last events must wake the worker through LISTEN.
    await whileProgressing(() => (acceptedSinceUp().length >= 100 ? true : undefined), () => acceptedSinceUp().length, DELIVERY_STALL_MS, '100 events accepted after recovery');
    ingesting.stop();
    await ingesting.done;
    assert.ifError(ingesting.failure);
    const eventIds = [...ingesting.accepted.values()];
    await allDelivered(receiver, eventIds);
    const figures = deliveryFigures(receiver, eventIds);
    // Once nothing is left to send (attempts cut off by the outage are sent again when their
    // leases expire), the worker sleeps for its 30 s poll interval: only a NOTIFY, heard
    // through its re-established LISTEN connection, can wake it in time for a new event.
    let depth = -1;
    await whileProgressing(async () => {
      depth = (await call(api, 'GET', '/status')).body.queue.depth;
      return depth === 0 ? true : undefined;
    }, () => depth, DELIVERY_STALL_MS, 'an empty queue');
    const wokenAt = Date.now();
    const last = await ingest(api, subscriptionIds[0]!, { event_type: 'crash.test', data: { n: -1 } });
    // Well before the worker's next poll: only the NOTIFY can have woken it.
    await eventually(() => (webhookIds(receiver).includes(last.event_id) ? true : undefined), workerPollMs / 2, 'the new event to be delivered');
    const wokenIn = Date.now() - wokenAt;

    const duringOutage = ingesting.answers.filter((a) => a.sentAt >= downFrom && a.answeredAt <= downUntil);
    const count = (answers: typeof ingesting.answers, status: number) => answers.filter((a) => a.status === status).length;
    const exits = await Promise.all([worker, api].map((hookd) => hookd.stop(10_000)));
    t.diagnostic(`Postgres restart: ${ingesting.sent} events sent in ${ingesting.answers.length} requests; ${acceptedBefore} answered 202 before the outage; `
      + `during the ${outageMs} ms outage ${duringOutage.length} requests got ${count(duringOutage, 503)}×503, ${count(duringOutage, 202)}×202, `
      + `${count(duringOutage, 0)} no answer, and health answered ${health.map((h) => h.status).join(',')} ("${health[0]?.database}"); `
      + `first 202 ${recoveredIn} ms after the database was back; ${ingesting.accepted.size} answered 202 in all; `
      + `delivered ${figures.delivered} distinct webhook-ids (${figures.duplicates} duplicates), lost ${figures.lost}; `
      + `a new event woke the idle worker through LISTEN in ${wokenIn} ms; ${seconds(Date.now() - started)} in all`);
    assert.deepEqual(ingesting.unexpected, [], 'only 202 and 503 answers');
    assert.ok(duringOutage.length > 0, 'the client kept sending during the outage');
    assert.equal(count(duringOutage, 202), 0, 'no 202 while the database is down');
    assert.equal(count(duringOutage, 503), duringOutage.length, 'every request during the outage answered 503');
    // Health needs no key: it says the database is unavailable, and only the log says why.
    assert.ok(health.length > 0 && health.every((h) => h.status === 503 && h.database === 'unavailable'), JSON.stringify(health));
    assert.ok(api.count('health check failed') > 0, 'the reason is logged');
    assert.ok(ingesting.accepted.size > acceptedBefore);
    assert.equal(figures.lost, 0);
    assert.equal(figures.unknown, 0);
    assert.deepEqual(exits.map((exit) => exit.code), [0, 0]);
  });
});
