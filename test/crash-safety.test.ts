// Crash safety, proven with real hookd processes and a real receiver on loopback: kill -9 in
// a loop under load, a stalled worker fenced out after SIGSTOP, SIGTERM with deliveries in
// flight, and PostgreSQL stopped and started under load. Each scenario prints its figures;
// none may lose an event that was answered 202.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { STORE_NAMES, newTarget, openTestStore, type StoreTarget } from './support/stores.ts';
import { eventually, ok, startReceiver, status, type Receiver, type Responder } from './support/receiver.ts';
import { HookdProcess, databaseUrlFor, freePort, killAllHookd, startHookd } from './support/hookd-process.ts';
import { IngestLoad } from './support/ingest-load.ts';
import { PrivatePostgres, privatePostgresUnavailable } from './support/private-postgres.ts';

const KILL_LOOP_EVENTS = 5000;
const KILL_LOOP_MIN_KILLS = 4;

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
    HOOKD_RETRY_MAX_DELAY_MS: '1000',
    HOOKD_RETRY_JITTER: '0',
    HOOKD_RATE_LIMIT_PER_MINUTE: '0',
    HOOKD_SHUTDOWN_GRACE_MS: '1000',
    HOOKD_CONNECT_TIMEOUT_MS: '1000',
    HOOKD_REQUEST_TIMEOUT_MS: '2000',
    HOOKD_LEASE_MARGIN_MS: '500',
    ...overrides,
  };
}

async function call(hookd: HookdProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(`${hookd.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function subscribe(hookd: HookdProcess, receiver: Receiver, fields: Record<string, unknown> = {}): Promise<string> {
  const created = await call(hookd, 'POST', '/subscriptions', { target_url: receiver.url, ...fields });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id;
}

async function ingest(hookd: HookdProcess, subscriptionId: string, n: number): Promise<{ delivery_id: string; event_id: string }> {
  const ingested = await call(hookd, 'POST', `/ingest/${subscriptionId}`, { event_type: 'crash.test', data: { n } });
  assert.equal(ingested.status, 202, JSON.stringify(ingested.body));
  return ingested.body;
}

function webhookIds(receiver: Receiver): string[] {
  return receiver.requests.map((request) => String(request.headers['webhook-id']));
}

/** Waits until the receiver has seen every event id at least once. */
async function allDelivered(receiver: Receiver, eventIds: Iterable<string>, timeoutMs: number): Promise<void> {
  const expected = [...eventIds];
  let missing = expected.length;
  await eventually(() => {
    const seen = new Set(webhookIds(receiver));
    missing = expected.filter((id) => !seen.has(id)).length;
    return missing === 0 ? true : undefined;
  }, timeoutMs, `all ${expected.length} accepted events to reach the receiver`).catch((error: Error) => {
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

/** Holds every request until the test answers it. */
function holdingResponder(held: { answer(body: string): void }[]): Responder {
  return (_request, res) => new Promise<void>((resolve) => {
    held.push({ answer(body) {
      res.end(body);
      resolve();
    } });
  });
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

    test(`kill -9 every 2–3 s while ${KILL_LOOP_EVENTS} events are ingested: every event answered 202 is delivered`, async (t: TestContext) => {
      const started = Date.now();
      const port = await freePort();
      const env = settings(databaseUrlFor(target), port);
      let hookd = startHookd('serve', env);
      await hookd.waitHealthy();
      const subscriptionIds: string[] = [];
      for (let i = 0; i < 4; i++) subscriptionIds.push(await subscribe(hookd, receiver));

      // Typically done in 30-40 s; the deadline only bounds a run on a machine busy with other work.
      const ingesting = new IngestLoad({ url: hookd.url!, subscriptionIds, concurrency: 16, total: KILL_LOOP_EVENTS, deadline: started + 80_000 });
      load = ingesting;
      let finished = false;
      void ingesting.done.then(() => {
        finished = true;
      });
      let kills = 0;
      while (!finished || kills < KILL_LOOP_MIN_KILLS) {
        await sleep(2000 + Math.random() * 1000);
        await hookd.kill();
        kills++;
        hookd = startHookd('serve', env);
        await hookd.waitHealthy();
      }
      await ingesting.done;
      assert.ifError(ingesting.failure);
      const ingestedIn = Date.now() - started;
      const eventIds = [...ingesting.accepted.values()];
      await allDelivered(receiver, eventIds, Math.max(10_000, started + 95_000 - Date.now()));
      const figures = deliveryFigures(receiver, eventIds);
      // Attempts whose outcome a kill cut off are sent again when their leases expire.
      await eventually(async () => {
        const { body } = await call(hookd, 'GET', '/status');
        return body.deliveries.succeeded === KILL_LOOP_EVENTS ? true : undefined;
      }, 15_000, `all ${KILL_LOOP_EVENTS} deliveries to be recorded as succeeded`);
      const exit = await hookd.stop(10_000);

      t.diagnostic(`kill -9 loop (${name}): ${ingesting.sent} events sent in ${ingesting.answers.length} requests, ${ingesting.accepted.size} answered 202 `
        + `(${ingesting.replayed} of them replays of an answer lost in a kill), ${kills} kills in ${seconds(ingestedIn)}; `
        + `delivered ${figures.delivered} distinct webhook-ids in ${receiver.requests.length} requests (${figures.duplicates} duplicates), `
        + `lost ${figures.lost}; ${seconds(Date.now() - started)} in all`);
      assert.deepEqual(ingesting.unexpected, [], 'only 202 and 503 answers');
      assert.equal(ingesting.accepted.size, KILL_LOOP_EVENTS);
      assert.equal(new Set(eventIds).size, KILL_LOOP_EVENTS, 'one event per Idempotency-Key');
      assert.ok(kills >= KILL_LOOP_MIN_KILLS);
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
      const held: { answer(body: string): void }[] = [];
      receiver.respond(holdingResponder(held));
      const first = startHookd('serve', env);
      await first.waitHealthy();
      const subscriptionId = await subscribe(first, receiver, { max_in_flight: inFlight });
      const deliveryIds: string[] = [];
      for (let n = 0; n < inFlight; n++) deliveryIds.push((await ingest(first, subscriptionId, n)).delivery_id);
      const sending = await receiver.waitFor(inFlight, 10_000);

      const stopping = first.stop(graceMs + 10_000);
      // Half the receivers answer during the grace period; the other half never do.
      for (const request of held.slice(0, finishing)) request.answer('ok');
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
      }, 15_000, 'the released deliveries to be sent again');
      const redeliveredIn = Date.now() - restartedAt;
      const finals = await eventually(async () => {
        const all = await Promise.all(deliveryIds.map(async (id) => (await call(second, 'GET', `/deliveries/${id}`)).body));
        return all.every((d) => d.status === 'succeeded') ? all : undefined;
      }, 10_000, 'every delivery to succeed');
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
        const held: { answer(body: string): void }[] = [];
        let takenOver = false;
        const hold = holdingResponder(held);
        const takeOver = status(200, 'answer to the worker that took over');
        receiver.respond((request, res) => (takenOver ? takeOver(request, res) : hold(request, res)));
        const api = startHookd('api', env);
        await api.waitHealthy();
        const stalled = startHookd('worker', env);
        const subscriptionId = await subscribe(api, receiver, { max_in_flight: leasing });
        const deliveries: { delivery_id: string; event_id: string }[] = [];
        for (let n = 0; n < leasing; n++) deliveries.push(await ingest(api, subscriptionId, n));
        await receiver.waitFor(leasing, 15_000);

        stalled.signal('SIGSTOP');
        const stoppedAt = Date.now();
        // Its answers wait in its sockets until it runs again.
        takenOver = true;
        for (const request of held) request.answer('answer to the stalled worker');
        const other = startHookd('worker', env);
        await eventually(async () => {
          const all = await Promise.all(deliveries.map(async (d) => (await call(api, 'GET', `/deliveries/${d.delivery_id}`)).body));
          return all.every((d) => d.status === 'succeeded') ? true : undefined;
        }, 20_000, 'the other worker to deliver the stalled worker\'s deliveries');
        const stalledMs = Date.now() - stoppedAt;
        stalled.signal('SIGCONT');
        await eventually(() => (stalled.count('attempt result discarded') >= leasing ? true : undefined), 10_000, 'the stalled worker to try to record its results');

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

  test('while the database is down the API answers 503 (never 202) and health says so; hookd recovers on its own and delivers every accepted event', { skip: unavailable ?? false }, async (t: TestContext) => {
    const started = Date.now();
    const outageMs = 3000;
    // A worker that polls rarely: after the outage only its restored LISTEN wakes it in time.
    const env = settings(postgres.url, await freePort());
    const api = startHookd('api', env);
    await api.waitHealthy();
    const worker = startHookd('worker', { ...env, HOOKD_POLL_INTERVAL_MS: '30000' });
    const subscriptionIds = [await subscribe(api, receiver), await subscribe(api, receiver)];
    const ingesting = new IngestLoad({ url: api.url!, subscriptionIds, concurrency: 8, deadline: started + 45_000 });
    load = ingesting;
    // The worker is up and delivering before the database goes away.
    await eventually(() => (receiver.requests.length >= 100 ? true : undefined), 20_000, '100 events delivered before the outage');
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
    await eventually(() => (ingesting.answers.some((a) => a.status === 202 && a.sentAt >= upAt) ? true : undefined), 15_000, 'a 202 after the database is back');
    const recoveredIn = Math.min(...ingesting.answers.filter((a) => a.status === 202 && a.sentAt >= upAt).map((a) => a.answeredAt)) - upAt;
    // Keep ingesting a while after recovery, so the last events must wake the worker through LISTEN.
    await sleep(2000);
    ingesting.stop();
    await ingesting.done;
    assert.ifError(ingesting.failure);
    const eventIds = [...ingesting.accepted.values()];
    await allDelivered(receiver, eventIds, Math.max(5000, started + 55_000 - Date.now()));
    const figures = deliveryFigures(receiver, eventIds);
    // Once nothing is left to send (attempts cut off by the outage are sent again when their
    // leases expire), the worker sleeps for its 30 s poll interval: only a NOTIFY, heard
    // through its re-established LISTEN connection, can wake it in time for a new event.
    await eventually(async () => ((await call(api, 'GET', '/status')).body.queue.depth === 0 ? true : undefined), 15_000, 'an empty queue');
    const wokenAt = Date.now();
    const last = await ingest(api, subscriptionIds[0]!, -1);
    await allDelivered(receiver, [last.event_id], 3000);
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
