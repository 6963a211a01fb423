// Issue 13's three shapes, measured the way its tables were: the load generator and the
// receiver (answering 200 at once) share the benchmark's process, and every shape runs on
// the bare relay, hookd on SQLite and hookd on PostgreSQL in turn, each in a fresh process
// (and database), so a process's peak RSS is that shape's own.
//
// - burst: `burstEvents` 1 KB events offered by `clients` keep-alive clients, closed loop;
//   end to end from the first request to the last arrival at the receiver.
// - fan-out: `fanOutEvents` events, each matching 100 subscriptions (the relay forwards each
//   event to 100 targets), offered by the same clients.
// - steady: an open loop at `steadyRate` events/s for `steadyMs`; does delivery keep up.
import type { StoreKind } from './databases.ts';
import { closedLoop, eventBody, openLoop } from './load.ts';
import { memoryOf } from './memory.ts';
import { note } from './progress.ts';
import { FAN_OUT, withBareRelay, withHookd, type StartupMemory } from './scenarios.ts';
import type { Receiver } from './services.ts';
import {
  FAN_OUT_EVENT_TYPE, INGEST_EVENT_TYPE, PAYLOAD_BYTES, measure, warmUp,
  type PhaseLoad, type PhaseResult, type SystemUnderTest,
} from './throughput.ts';

export const SHAPES = ['burst', 'fanout', 'steady'] as const;
export type ShapeName = (typeof SHAPES)[number];
/** What runs in hookd's place: the bare relay, or hookd on one store. */
export type ShapeSystem = 'relay' | StoreKind;

/**
 * Steady keeps up when every event was accepted and delivered and the deliveries/s, first
 * request to last arrival, reach this share of the offered rate: at 1,000/s for 20 s, the
 * last delivery came at most about a second after the last event was due.
 */
export const KEEP_UP_SHARE = 0.95;

export interface ShapePlan {
  /** Requests sent (and delivered) before measuring, whose figures are dropped. */
  warmUpRequests: number;
  /** Keep-alive clients of the closed loops (burst, fan-out); also the open loop's connections. */
  clients: number;
  burstEvents: number;
  fanOutEvents: number;
  steadyRate: number;
  steadyMs: number;
  /** Bound on a closed loop's sending, should the system stall. */
  maxLoadMs: number;
  /** Longest wait for the deliveries after the load stopped. */
  drainMs: number;
}

export interface ShapeRun {
  /** Deliveries per event: 1, or the fan-out. */
  deliveriesPerEvent: number;
  phase: PhaseResult;
  /**
   * CPU seconds per 1,000 deliveries (per 1,000 events but in fan-out), over the load and
   * the drain: the system (`process`, hookd's or the relay's, plus `postgres`, PostgreSQL's
   * processes working for its database) and, apart, the harness (load generator and
   * receiver, one process).
   */
  cpuSecondsPer1000: { system: number; process: number; postgres: number; harness: number };
  /** VmHWM of the relay's or hookd's process (not of a wrapper): its peak over this shape and its warm-up. */
  peakRssMb: number;
  /** hookd's memory right after it started, before anything was stored (hookd only). */
  startup?: StartupMemory;
  /** steady only: the rate offered, and whether delivery kept up with it (see KEEP_UP_SHARE). */
  offeredPerSec?: number;
  keptUp?: boolean;
}

export type ShapeResult = Partial<Record<ShapeSystem, ShapeRun>>;

function shapeLoad(shape: ShapeName, sut: SystemUnderTest, plan: ShapePlan): PhaseLoad {
  if (shape === 'burst') {
    const body = eventBody(INGEST_EVENT_TYPE, PAYLOAD_BYTES);
    return {
      label: `burst of ${plan.burstEvents}`, deliveriesPerEvent: 1, connections: plan.clients,
      start: (pool) => closedLoop({ pool, headers: sut.headers, path: sut.ingestPath, body, concurrency: plan.clients, maxRequests: plan.burstEvents, maxMs: plan.maxLoadMs }),
    };
  }
  if (shape === 'fanout') {
    const body = eventBody(FAN_OUT_EVENT_TYPE, PAYLOAD_BYTES);
    return {
      label: `fan-out ${plan.fanOutEvents} × ${sut.fanOut}`, deliveriesPerEvent: sut.fanOut, connections: plan.clients,
      start: (pool) => closedLoop({ pool, headers: sut.headers, path: sut.fanOutPath, body, concurrency: plan.clients, maxRequests: plan.fanOutEvents, maxMs: plan.maxLoadMs }),
    };
  }
  const body = eventBody(INGEST_EVENT_TYPE, PAYLOAD_BYTES);
  return {
    label: `steady ${plan.steadyRate}/s`, deliveriesPerEvent: 1, connections: plan.clients,
    start: (pool) => openLoop({
      pool, headers: sut.headers, path: sut.ingestPath, body, ratePerSecond: plan.steadyRate,
      maxRequests: Math.round((plan.steadyRate * plan.steadyMs) / 1000), maxMs: plan.steadyMs,
    }),
  };
}

/** µs of CPU per delivery, as CPU seconds per 1,000 deliveries (1,000 × µs = that many ms). */
const perThousand = (usPerDelivery: number) => Math.round(usPerDelivery) / 1000;

async function measureShape(shape: ShapeName, sut: SystemUnderTest, receiver: Receiver, plan: ShapePlan, startup?: StartupMemory): Promise<ShapeRun> {
  await warmUp(sut, receiver, plan.warmUpRequests, plan.drainMs);
  const load = shapeLoad(shape, sut, plan);
  const phase = await measure(sut, receiver, load, plan.drainMs);
  const cpu = phase.cpuUsPerDelivery;
  const run: ShapeRun = {
    deliveriesPerEvent: load.deliveriesPerEvent,
    phase,
    cpuSecondsPer1000: {
      system: perThousand(cpu.system + cpu.database), process: perThousand(cpu.system),
      postgres: perThousand(cpu.database), harness: perThousand(cpu.receiver + cpu.loadGenerator),
    },
    peakRssMb: Math.round(memoryOf(sut.pids[0]!)?.peakMb ?? 0),
    ...(startup && { startup }),
  };
  if (shape === 'steady') {
    run.offeredPerSec = plan.steadyRate;
    run.keptUp = phase.failed === 0 && phase.undelivered === 0 && phase.deliveredPerSec >= KEEP_UP_SHARE * plan.steadyRate;
  }
  return run;
}

/** One shape on one system, with a fresh relay or a fresh hookd and database. */
export function runShape(shape: ShapeName, system: ShapeSystem, receiver: Receiver, plan: ShapePlan): Promise<ShapeRun> {
  note(`${shape}: ${system === 'relay' ? 'bare relay' : `hookd on ${system}`}`);
  if (system === 'relay') return withBareRelay(receiver, (sut) => measureShape(shape, sut, receiver, plan));
  const subscriptions = shape === 'fanout' ? FAN_OUT : 0;
  return withHookd(system, receiver, subscriptions, (sut, _hookd, startup) => measureShape(shape, sut, receiver, plan, startup));
}
