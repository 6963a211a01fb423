// The end-to-end scenarios: the bare relay baseline, hookd on one store (one `serve`
// process), and hookd on PostgreSQL split into an API process and 1 or 2 worker processes.
import { closedLoop, eventBody } from './load.ts';
import { createDatabase, type StoreKind } from './databases.ts';
import { note } from './progress.ts';
import { AUTH_HEADERS, Hookd, startBareRelay, type Receiver } from './services.ts';
import {
  FAN_OUT_EVENT_TYPE, INGEST_EVENT_TYPE, PAYLOAD_BYTES, measure, measureThroughput,
  type PhaseName, type PhaseResult, type SystemUnderTest, type ThroughputPlan, type ThroughputResult,
} from './throughput.ts';

export const FAN_OUT = 100;
/** The relay's outbound connections: as many as hookd's default HOOKD_WORKER_CONCURRENCY. */
const RELAY_CONNECTIONS = 64;

/** A bare relay of its own for `use`, forwarding to the receiver; stopped afterwards. */
export async function withBareRelay<T>(receiver: Receiver, use: (sut: SystemUnderTest) => Promise<T>): Promise<T> {
  note('bare relay: starting');
  const relay = await startBareRelay(receiver.url, FAN_OUT, RELAY_CONNECTIONS);
  try {
    return await use({
      label: 'bare relay', origin: relay.origin, pids: [relay.pid],
      ingestPath: '/api/v1/ingest/relay', fanOutPath: '/api/v1/events', fanOut: FAN_OUT,
    });
  } finally {
    await relay.stop();
  }
}

export function baseline(receiver: Receiver, plan: ThroughputPlan): Promise<ThroughputResult> {
  return withBareRelay(receiver, (sut) => measureThroughput(sut, receiver, plan, ['fixedRate', 'saturation', 'fanOut']));
}

/**
 * One subscription for the ingest path and `fanOut` for the fan-out path, all to the receiver.
 * The ingest one may have as many deliveries in flight as the relay has connections (the
 * default per-subscription cap is lower: it protects receivers, and would measure the cap).
 */
export async function subscribe(hookd: Hookd, receiver: Receiver, fanOut: number): Promise<{ ingestPath: string }> {
  const ingest = await hookd.call<{ id: string }>('POST', '/subscriptions', {
    target_url: receiver.url, event_types: [INGEST_EVENT_TYPE], max_in_flight: RELAY_CONNECTIONS,
  });
  for (let i = 0; i < fanOut; i++) {
    await hookd.call('POST', '/subscriptions', { target_url: receiver.url, event_types: [FAN_OUT_EVENT_TYPE] });
  }
  return { ingestPath: `/api/v1/ingest/${ingest.id}` };
}

/** hookd's memory once it answers its first request, before anything is stored. */
export interface StartupMemory {
  rssMb: number;
  /** V8 heap in use (from its /metrics); null when the scrape fails. */
  heapUsedMb: number | null;
}

/**
 * A fresh database and one hookd `serve` process on it for `use`, subscribed to the
 * receiver (with `fanOut` subscriptions for the fan-out path); both removed afterwards.
 */
export async function withHookd<T>(
  kind: StoreKind, receiver: Receiver, fanOut: number,
  use: (sut: SystemUnderTest, hookd: Hookd, startup: StartupMemory) => Promise<T>,
): Promise<T> {
  note(`hookd on ${kind}: starting`);
  const db = await createDatabase(kind, { schema: 'by hookd' });
  let hookd: Hookd | null = null;
  try {
    hookd = await Hookd.start({ role: 'serve', databaseUrl: db.url, name: `hookd (${kind})` });
    const startup = { rssMb: Math.round(hookd.memory()?.rssMb ?? 0), heapUsedMb: await hookd.heapUsedMb() };
    const { ingestPath } = await subscribe(hookd, receiver, fanOut);
    return await use({
      label: `hookd/${kind}`, origin: hookd.origin!, pids: [hookd.pid], headers: AUTH_HEADERS, postgres: db.postgresServer,
      ingestPath, fanOutPath: '/api/v1/events', fanOut,
    }, hookd, startup);
  } finally {
    await hookd?.stop();
    await db.drop();
  }
}

export interface StoreResult extends ThroughputResult {
  /** VmHWM of the hookd process over the whole scenario. */
  peakRssMb: number;
}

export function hookdOnStore(kind: StoreKind, receiver: Receiver, plan: ThroughputPlan, phases: readonly PhaseName[]): Promise<StoreResult> {
  return withHookd(kind, receiver, FAN_OUT, async (sut, hookd) => {
    const result = await measureThroughput(sut, receiver, plan, phases);
    return { ...result, peakRssMb: Math.round(hookd.memory()?.peakMb ?? 0) };
  });
}

export interface MultiPlan {
  /** Events queued through the API while no worker runs, then drained by the workers. */
  queued: number;
  throughput: ThroughputPlan;
}

export interface WorkerScaling {
  workers: number;
  /** Draining `queued` deliveries: the workers' own rate, first to last arrival. */
  drain: PhaseResult;
  /** Ingest through the API process and delivery by the workers at once. */
  saturation: PhaseResult;
  peakRssMb: { api: number; workers: number[] };
}

export async function multiProcess(receiver: Receiver, plan: MultiPlan, workerCounts: readonly number[]): Promise<WorkerScaling[]> {
  note('hookd on postgres, api + workers: starting');
  const db = await createDatabase('postgres');
  let api: Hookd | null = null;
  const results: WorkerScaling[] = [];
  try {
    api = await Hookd.start({ role: 'api', databaseUrl: db.url, name: 'hookd api' });
    const { ingestPath } = await subscribe(api, receiver, FAN_OUT);
    const body = eventBody(INGEST_EVENT_TYPE, PAYLOAD_BYTES);
    for (const count of workerCounts) {
      let workers: Hookd[] = [];
      try {
        const startWorkers = async () => {
          workers = await Promise.all(Array.from({ length: count }, (_, i) => Hookd.start({ role: 'worker', databaseUrl: db.url, name: `hookd worker ${i + 1}` })));
        };
        const sut: SystemUnderTest = {
          label: `api + ${count} worker${count > 1 ? 's' : ''}`, origin: api.origin!, pids: [api.pid], headers: AUTH_HEADERS, postgres: db.postgresServer,
          ingestPath, fanOutPath: '/api/v1/events', fanOut: FAN_OUT,
        };
        const drain = await measure(sut, receiver, {
          label: `queue ${plan.queued}, then drain`, deliveriesPerEvent: 1, connections: plan.throughput.saturationConcurrency,
          start: (pool) => closedLoop({ pool, path: ingestPath, body, headers: AUTH_HEADERS, concurrency: plan.throughput.saturationConcurrency, maxRequests: plan.queued, maxMs: plan.throughput.saturationMs * 3 }),
          afterLoad: startWorkers,
        }, plan.throughput.drainMs);
        const { saturation } = await measureThroughput({ ...sut, pids: [api.pid, ...workers.map((w) => w.pid)] }, receiver, plan.throughput, ['saturation']);
        results.push({
          workers: count, drain, saturation: saturation!,
          peakRssMb: { api: Math.round(api.memory()?.peakMb ?? 0), workers: workers.map((w) => Math.round(w.memory()?.peakMb ?? 0)) },
        });
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
    }
    return results;
  } finally {
    await api?.stop();
    await db.drop();
  }
}
