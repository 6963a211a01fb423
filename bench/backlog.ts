// A large backlog: deliveries written straight into the database, all due now, then hookd
// is started and drains them. Every window reports the deliveries received, hookd's RSS, how
// long the claim's search for due work takes (probed beside hookd with the same query), and
// how long /api/v1/status takes to answer. Flat figures across windows are the point: the
// queue must not get slower or fatter as it drains. The drain is bounded in time. Before the
// drain, `hookd api` (which sends nothing) answers /api/v1/status and the dashboard's
// /api/v1/stats over the whole backlog at rest: the read models' own time, with no drain
// competing for the thread.
import { setTimeout as sleep } from 'node:timers/promises';
import { wallClockMs } from './clock.ts';
import { createDatabase, type StoreKind } from './databases.ts';
import { every, note, status } from './progress.ts';
import { Hookd, type Receiver } from './services.ts';
import { perSecond } from './stats.ts';
import { PAYLOAD_BYTES } from './throughput.ts';
import { eventBody } from './load.ts';

const CLAIM_PROBE_LIMIT = 100;
const SAMPLE_MS = 1000;
/** Requests of each read model at rest: a few to warm up, then the timed ones. */
const AT_REST_WARM_UP = 3;
const AT_REST_TIMED = 20;

export interface BacklogPlan {
  deliveries: number;
  subscriptions: number;
  events: number;
  /** The drain stops after this long even if the queue is not empty. */
  drainMs: number;
  windowMs: number;
}

export interface BacklogWindow {
  fromS: number;
  toS: number;
  delivered: number;
  perSec: number;
  rssMb: number;
  claimProbeMs: { median: number; max: number };
  statusMs: number | null;
  queueDepth: number | null;
}

/** Response times of one read model, in ms, answered one after another. */
export interface ReadTimes {
  median: number;
  max: number;
}

export interface ReadModelsAtRest {
  status: ReadTimes;
  stats: ReadTimes;
}

export interface BacklogResult {
  deliveries: number;
  seedSeconds: number;
  /** /api/v1/status and /api/v1/stats over the whole backlog, answered by `hookd api` before the drain. */
  atRest: ReadModelsAtRest;
  /** From starting hookd to its first answer on /api/v1/health (it is draining meanwhile). */
  startSeconds: number;
  drained: boolean;
  delivered: number;
  drainSeconds: number;
  overallPerSec: number;
  rssStartMb: number;
  rssMaxMb: number;
  windows: BacklogWindow[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

async function statusProbe(hookd: Hookd): Promise<{ ms: number | null; depth: number | null }> {
  const started = performance.now();
  try {
    const answer = await hookd.call<{ queue?: { depth?: number } }>('GET', '/status');
    return { ms: round(performance.now() - started), depth: answer.queue?.depth ?? null };
  } catch {
    return { ms: null, depth: null };
  }
}

async function timeReads(hookd: Hookd, apiPath: string): Promise<ReadTimes> {
  const times: number[] = [];
  for (let i = 0; i < AT_REST_WARM_UP + AT_REST_TIMED; i++) {
    const started = performance.now();
    await hookd.call('GET', apiPath);
    if (i >= AT_REST_WARM_UP) times.push(performance.now() - started);
  }
  return { median: round(median(times)), max: round(Math.max(...times)) };
}

/** The read models over a seeded database at rest, from an API process that delivers nothing. */
export async function readModelsAtRest(kind: StoreKind, databaseUrl: string, label: string): Promise<ReadModelsAtRest> {
  const api = await Hookd.start({ role: 'api', databaseUrl, name: `hookd (${kind}, ${label} at rest)` });
  try {
    return { status: await timeReads(api, '/status'), stats: await timeReads(api, '/stats') };
  } finally {
    await api.stop();
  }
}

export async function measureBacklog(kind: StoreKind, receiver: Receiver, plan: BacklogPlan): Promise<BacklogResult> {
  note(`backlog on ${kind}: writing ${plan.deliveries.toLocaleString('en')} queued deliveries`);
  const db = await createDatabase(kind);
  let hookd: Hookd | null = null;
  try {
    const seedStarted = performance.now();
    await db.seed({
      deliveries: plan.deliveries, status: 'queued', createdAt: Date.now(), subscriptions: plan.subscriptions,
      events: plan.events, targetUrl: receiver.url, payload: eventBody('bench.seeded', PAYLOAD_BYTES), withAttempts: false,
    }, (rows) => status(`backlog on ${kind}: ${rows.toLocaleString('en')} of ${plan.deliveries.toLocaleString('en')} rows written`));
    const seedSeconds = Math.round(performance.now() - seedStarted) / 1000;
    const atRest = await readModelsAtRest(kind, db.url, 'backlog');
    note(`backlog on ${kind}: written in ${seedSeconds} s; at rest /status ${atRest.status.median} ms (max ${atRest.status.max}), `
      + `/stats ${atRest.stats.median} ms (max ${atRest.stats.max}); starting hookd to drain it (at most ${plan.drainMs / 1000} s)`);

    receiver.reset(false);
    const began = wallClockMs();
    hookd = await Hookd.start({ role: 'serve', databaseUrl: db.url, name: `hookd (${kind}, backlog)` });
    const startSeconds = Math.round(wallClockMs() - began) / 1000;
    const rssStartMb = Math.round(hookd.memory()?.rssMb ?? 0);
    let rssMaxMb = rssStartMb;
    const windows: BacklogWindow[] = [];
    let windowStart = began;
    let windowStartCount = 0;
    let windowRss = 0;
    let probes: number[] = [];
    const stopProgress = every(() => status(`backlog on ${kind}: ${receiver.count.toLocaleString('en')} delivered, rss ${rssMaxMb} MB`));
    try {
      const done = () => receiver.count >= plan.deliveries || wallClockMs() - began >= plan.drainMs;
      while (!done()) {
        await sleep(SAMPLE_MS);
        const rss = Math.round(hookd.memory()?.rssMb ?? 0);
        rssMaxMb = Math.max(rssMaxMb, rss);
        windowRss = Math.max(windowRss, rss);
        probes.push(await db.probeClaim(Date.now(), CLAIM_PROBE_LIMIT));
        const now = wallClockMs();
        if (now - windowStart >= plan.windowMs || done()) {
          const count = receiver.count;
          const probe = await statusProbe(hookd);
          windows.push({
            fromS: Math.round(windowStart - began) / 1000,
            toS: Math.round(now - began) / 1000,
            delivered: count - windowStartCount,
            perSec: perSecond(count - windowStartCount, now - windowStart),
            rssMb: windowRss,
            claimProbeMs: { median: round(median(probes)), max: round(Math.max(...probes)) },
            statusMs: probe.ms,
            queueDepth: probe.depth,
          });
          windowStart = now;
          windowStartCount = count;
          windowRss = 0;
          probes = [];
        }
      }
    } finally {
      stopProgress();
    }
    const drainMs = wallClockMs() - began;
    const delivered = receiver.count;
    const result: BacklogResult = {
      deliveries: plan.deliveries, seedSeconds, atRest, startSeconds, drained: delivered >= plan.deliveries, delivered,
      drainSeconds: Math.round(drainMs) / 1000, overallPerSec: perSecond(delivered, drainMs),
      rssStartMb, rssMaxMb, windows,
    };
    note(`backlog on ${kind}: ${delivered.toLocaleString('en')} delivered in ${result.drainSeconds} s (${result.overallPerSec}/s), `
      + `rss ${rssStartMb} → max ${rssMaxMb} MB${result.drained ? '' : ' (stopped before the queue was empty)'}`);
    return result;
  } finally {
    await hookd?.stop();
    await db.drop();
  }
}
