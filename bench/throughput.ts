// The three measurements every system under test gets, hookd and the bare relay alike:
// a fixed offered rate, saturation, and fan-out. Each phase sends its load, then waits
// (bounded) until the receiver has every delivery, and matches arrivals to the 202s by
// event id: delivery lag is receiver arrival minus the moment the load generator read the
// 202, both on this machine's clock.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import { wallClockMs } from './clock.ts';
import { closedLoop, eventBody, loadPool, openLoop, type LoadRun } from './load.ts';
import { CpuMeter, perDelivery, type CpuUse, type PostgresServer } from './cpu.ts';
import { MemorySampler } from './memory.ts';
import { every, note, status } from './progress.ts';
import type { Receiver } from './services.ts';
import { perSecond, percentiles, type Percentiles } from './stats.ts';

export const PAYLOAD_BYTES = 1024;
export const INGEST_EVENT_TYPE = 'bench.created';
export const FAN_OUT_EVENT_TYPE = 'bench.fanout';

export interface SystemUnderTest {
  label: string;
  origin: string;
  /** Path of a one-subscription ingest (POST). */
  ingestPath: string;
  /** Path of a fan-out ingest (POST), and how many deliveries each event makes there. */
  fanOutPath: string;
  fanOut: number;
  /** The processes under test: their memory and CPU are reported. */
  pids: number[];
  headers?: Record<string, string>;
  /** The PostgreSQL server and database the system uses, whose processes' CPU is counted with it. */
  postgres?: PostgresServer | undefined;
}

export interface ThroughputPlan {
  /** Requests sent (and delivered) before measuring, whose figures are dropped. */
  warmUpRequests: number;
  fixedRate: number;
  fixedMs: number;
  saturationConcurrency: number;
  saturationMs: number;
  saturationMaxRequests: number;
  fanOutConcurrency: number;
  fanOutEvents: number;
  fanOutMs: number;
  /** Longest wait for the deliveries of a phase after its load stopped. */
  drainMs: number;
}

export interface PhaseResult {
  sent: number;
  accepted: number;
  failed: number;
  failures: Record<string, number>;
  loadSeconds: number;
  /** 202s per second while the load ran. */
  ingestPerSec: number;
  ingestMs: Percentiles;
  delivered: number;
  /** Deliveries expected but not seen within the drain limit. */
  undelivered: number;
  /** Deliveries per second, from the first request to the last arrival. */
  deliveredPerSec: number;
  /** Deliveries per second between the first and the last arrival (the sending side alone). */
  arrivalRatePerSec: number;
  lagMs: Percentiles;
  /** Arrivals before the load generator had read the 202 (counted as zero lag). */
  arrivedBeforeAck: number;
  peakRssMb: number;
  /** CPU microseconds per delivery over the phase (load and drain), by process. */
  cpuUsPerDelivery: CpuUse;
}

export interface ThroughputResult {
  fixedRate?: PhaseResult & { offeredPerSec: number };
  saturation?: PhaseResult & { concurrency: number };
  fanOut?: PhaseResult & { deliveriesPerEvent: number };
}

export interface PhaseLoad {
  label: string;
  start(pool: Pool): { run: LoadRun; done: Promise<LoadRun> };
  /** Runs once the load has stopped, before waiting for the deliveries (starts workers). */
  afterLoad?: () => Promise<void>;
  deliveriesPerEvent: number;
  connections: number;
}

/** Runs one phase's load and waits (at most drainMs) for its deliveries. */
export async function measure(sut: SystemUnderTest, receiver: Receiver, phase: PhaseLoad, drainMs: number): Promise<PhaseResult> {
  receiver.reset(true);
  const pool = loadPool(sut.origin, phase.connections);
  const memory = new MemorySampler(sut.pids);
  const cpu = new CpuMeter({ pids: sut.pids, receiverPid: receiver.pid, postgres: sut.postgres });
  const { run, done } = phase.start(pool);
  const stopProgress = every(() => status(
    `${sut.label} ${phase.label}: sent ${run.sent}, accepted ${run.accepted} (${perSecond(run.accepted, run.elapsedMs)}/s), `
    + `failed ${run.failed}, delivered ${receiver.count}, rss ${memory.peakMb} MB`,
  ));
  try {
    await done;
    await phase.afterLoad?.();
    const expected = run.accepted * phase.deliveriesPerEvent;
    const deadline = wallClockMs() + drainMs;
    let matched: ReturnType<typeof match>;
    for (;;) {
      while (receiver.count < expected && wallClockMs() < deadline) await sleep(50);
      matched = match(await receiver.collect(), run.acks);
      if (matched.delivered >= expected || wallClockMs() >= deadline) break;
      await sleep(500);
    }
    const cpuUse = cpu.stop();
    const result: PhaseResult = {
      sent: run.sent,
      accepted: run.accepted,
      failed: run.failed,
      failures: Object.fromEntries(run.failures),
      loadSeconds: Math.round(run.elapsedMs) / 1000,
      ingestPerSec: perSecond(run.accepted, run.elapsedMs),
      ingestMs: percentiles(run.latencyMs),
      delivered: matched.delivered,
      undelivered: Math.max(0, expected - matched.delivered),
      deliveredPerSec: perSecond(matched.delivered, matched.lastArrival - run.began),
      arrivalRatePerSec: perSecond(matched.delivered, matched.lastArrival - matched.firstArrival),
      lagMs: percentiles(matched.lagsMs),
      arrivedBeforeAck: matched.early,
      peakRssMb: memory.stop(),
      cpuUsPerDelivery: perDelivery(cpuUse, matched.delivered),
    };
    note(`${sut.label} ${phase.label}: ${result.accepted} accepted at ${result.ingestPerSec}/s (p99 ${result.ingestMs.p99} ms), `
      + `${result.delivered} delivered at ${result.deliveredPerSec}/s (lag p99 ${result.lagMs.p99} ms); `
      + `CPU µs per delivery: ${result.cpuUsPerDelivery.system} system, ${result.cpuUsPerDelivery.database} PostgreSQL, `
      + `${result.cpuUsPerDelivery.receiver} receiver, ${result.cpuUsPerDelivery.loadGenerator} load generator`
      + (result.failed ? `, ${result.failed} failed ${JSON.stringify(result.failures)}` : '')
      + (result.undelivered ? `, ${result.undelivered} NOT delivered within ${drainMs / 1000} s` : ''));
    return result;
  } finally {
    stopProgress();
    memory.stop();
    cpu.stop();
    await pool.close();
  }
}

function match(arrivals: { ids: string[]; times: Float64Array }, acks: Map<string, number>) {
  const lagsMs: number[] = [];
  let firstArrival = Infinity;
  let lastArrival = 0;
  let early = 0;
  arrivals.ids.forEach((id, i) => {
    const ack = acks.get(id);
    if (ack === undefined) return;
    const at = arrivals.times[i]!;
    if (at < ack) early++;
    lagsMs.push(Math.max(0, at - ack));
    if (at < firstArrival) firstArrival = at;
    if (at > lastArrival) lastArrival = at;
  });
  return { delivered: lagsMs.length, lagsMs, firstArrival, lastArrival, early };
}

/** A short closed-loop run whose figures are dropped: JIT, connection pools and caches warm up. */
export async function warmUp(sut: SystemUnderTest, receiver: Receiver, requests: number, drainMs: number): Promise<void> {
  const body = eventBody(INGEST_EVENT_TYPE, PAYLOAD_BYTES);
  await measure(sut, receiver, {
    label: 'warm-up', deliveriesPerEvent: 1, connections: 16,
    start: (pool) => closedLoop({ pool, path: sut.ingestPath, body, headers: sut.headers, concurrency: 16, maxRequests: requests, maxMs: 10_000 }),
  }, drainMs);
}

export type PhaseName = 'fixedRate' | 'saturation' | 'fanOut';

export async function measureThroughput(sut: SystemUnderTest, receiver: Receiver, plan: ThroughputPlan, phases: readonly PhaseName[]): Promise<ThroughputResult> {
  const ingestBody = eventBody(INGEST_EVENT_TYPE, PAYLOAD_BYTES);
  const fanOutBody = eventBody(FAN_OUT_EVENT_TYPE, PAYLOAD_BYTES);
  const headers = sut.headers;
  await warmUp(sut, receiver, plan.warmUpRequests, plan.drainMs);
  const result: ThroughputResult = {};
  if (phases.includes('fixedRate')) {
    const fixed = await measure(sut, receiver, {
      label: `${plan.fixedRate}/s`, deliveriesPerEvent: 1, connections: plan.saturationConcurrency,
      start: (pool) => openLoop({ pool, path: sut.ingestPath, body: ingestBody, headers, ratePerSecond: plan.fixedRate, maxRequests: Math.round((plan.fixedRate * plan.fixedMs) / 1000), maxMs: plan.fixedMs }),
    }, plan.drainMs);
    result.fixedRate = { offeredPerSec: plan.fixedRate, ...fixed };
  }
  if (phases.includes('saturation')) {
    const saturation = await measure(sut, receiver, {
      label: 'saturation', deliveriesPerEvent: 1, connections: plan.saturationConcurrency,
      start: (pool) => closedLoop({ pool, path: sut.ingestPath, body: ingestBody, headers, concurrency: plan.saturationConcurrency, maxRequests: plan.saturationMaxRequests, maxMs: plan.saturationMs }),
    }, plan.drainMs);
    result.saturation = { concurrency: plan.saturationConcurrency, ...saturation };
  }
  if (phases.includes('fanOut')) {
    const fanOut = await measure(sut, receiver, {
      label: `fan-out ×${sut.fanOut}`, deliveriesPerEvent: sut.fanOut, connections: plan.fanOutConcurrency,
      start: (pool) => closedLoop({ pool, path: sut.fanOutPath, body: fanOutBody, headers, concurrency: plan.fanOutConcurrency, maxRequests: plan.fanOutEvents, maxMs: plan.fanOutMs }),
    }, plan.drainMs);
    result.fanOut = { deliveriesPerEvent: sut.fanOut, ...fanOut };
  }
  return result;
}
