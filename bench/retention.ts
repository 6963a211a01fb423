// Retention under load: a million finished deliveries (each with its attempt) older than
// the retention period are written straight into the database; then ingest runs at a steady
// rate twice, with the same rows present: once with retention finding nothing to delete
// (HOOKD_RETENTION_HOURS above their age), once while it deletes them. The ingest p99 of
// the two runs is compared; the deletion rate is what retention removed while ingest ran.
import { readModelsAtRest, type ReadModelsAtRest } from './backlog.ts';
import { createDatabase, type StoreKind } from './databases.ts';
import { eventBody } from './load.ts';
import { note, status } from './progress.ts';
import { AUTH_HEADERS, Hookd, type Receiver } from './services.ts';
import { perSecond } from './stats.ts';
import { subscribe } from './scenarios.ts';
import { measureThroughput, PAYLOAD_BYTES, type PhaseResult, type ThroughputPlan } from './throughput.ts';
import { waitFor } from './processes.ts';

const AGE_HOURS = 100;
const RETENTION_HOURS = 72;
const NO_RETENTION_HOURS = 24 * 365;
const RETENTION_INTERVAL_MS = 1000;
const DELIVERIES_PER_EVENT = 1000;
const DELETION_START_TIMEOUT_MS = 30_000;

export interface RetentionPlan {
  expired: number;
  throughput: ThroughputPlan;
}

export interface RetentionResult {
  expired: number;
  seedSeconds: number;
  /** /api/v1/status and /api/v1/stats over the million finished rows, before hookd runs. */
  atRest: ReadModelsAtRest;
  quiet: PhaseResult;
  deleting: PhaseResult;
  /** deleting ingest p99 / quiet ingest p99; the target is ≤ 2. */
  p99Ratio: number;
  deletedDuringIngest: number;
  deletionPerSec: number;
  /** Expired rows left when the ingest stopped (0: retention finished during it). */
  remaining: number;
}

export async function measureRetention(kind: StoreKind, receiver: Receiver, plan: RetentionPlan): Promise<RetentionResult> {
  note(`retention on ${kind}: writing ${plan.expired.toLocaleString('en')} expired deliveries with their attempts`);
  const db = await createDatabase(kind);
  let hookd: Hookd | null = null;
  try {
    const createdAt = Date.now() - AGE_HOURS * 3_600_000;
    const seedStarted = performance.now();
    await db.seed({
      deliveries: plan.expired, status: 'succeeded', createdAt, subscriptions: 1,
      events: Math.max(1, Math.ceil(plan.expired / DELIVERIES_PER_EVENT)), targetUrl: receiver.url,
      payload: eventBody('bench.seeded', PAYLOAD_BYTES), withAttempts: true,
    }, (rows) => status(`retention on ${kind}: ${rows.toLocaleString('en')} of ${plan.expired.toLocaleString('en')} rows written`));
    const seedSeconds = Math.round(performance.now() - seedStarted) / 1000;
    const atRest = await readModelsAtRest(kind, db.url, 'retention');
    const cutoff = () => Date.now() - RETENTION_HOURS * 3_600_000;
    const measureIngest = async (label: string, running: Hookd) => {
      const { ingestPath } = await subscribe(running, receiver, 0);
      const sut = { label, origin: running.origin!, pids: [running.pid], headers: AUTH_HEADERS, postgres: db.postgresServer, ingestPath, fanOutPath: '', fanOut: 0 };
      return (await measureThroughput(sut, receiver, plan.throughput, ['fixedRate'])).fixedRate!;
    };
    const start = (hours: number, label: string) => Hookd.start({
      role: 'serve', databaseUrl: db.url, name: `hookd (${kind}, ${label})`,
      env: { HOOKD_RETENTION_HOURS: String(hours), HOOKD_RETENTION_INTERVAL_MS: String(RETENTION_INTERVAL_MS) },
    });

    note(`retention on ${kind}: ingest at ${plan.throughput.fixedRate}/s with nothing to delete`);
    hookd = await start(NO_RETENTION_HOURS, 'retention idle');
    const quiet = await measureIngest(`retention idle (${kind})`, hookd);
    await hookd.stop();

    note(`retention on ${kind}: ingest at ${plan.throughput.fixedRate}/s while retention deletes`);
    hookd = await start(RETENTION_HOURS, 'retention deleting');
    await waitFor('retention to start deleting', DELETION_START_TIMEOUT_MS, async () => ((await db.countExpired(cutoff())) < plan.expired ? true : undefined), 200);
    const before = await db.countExpired(cutoff());
    const started = performance.now();
    const deleting = await measureIngest(`retention deleting (${kind})`, hookd);
    const remaining = await db.countExpired(cutoff());
    const elapsed = performance.now() - started;
    const result: RetentionResult = {
      expired: plan.expired, seedSeconds, atRest, quiet, deleting,
      p99Ratio: Math.round((deleting.ingestMs.p99 / Math.max(quiet.ingestMs.p99, 0.001)) * 100) / 100,
      deletedDuringIngest: before - remaining,
      deletionPerSec: perSecond(before - remaining, elapsed),
      remaining,
    };
    note(`retention on ${kind}: ingest p99 ${quiet.ingestMs.p99} ms idle vs ${deleting.ingestMs.p99} ms deleting (×${result.p99Ratio}); `
      + `${result.deletedDuringIngest.toLocaleString('en')} deleted at ${result.deletionPerSec}/s, ${remaining.toLocaleString('en')} left`);
    return result;
  } finally {
    await hookd?.stop();
    await db.drop();
  }
}
