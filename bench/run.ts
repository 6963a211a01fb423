// `npm run bench`: measures hookd end to end against a bare relay baseline, on SQLite and on
// PostgreSQL, split into API and worker processes, draining a large backlog, while retention
// deletes, and in issue 13's burst, fan-out and steady shapes (load generator and receiver in
// one process). Prints Markdown tables and writes the results as JSON to bench/results/.
// Every child process, temporary file and database is removed at the end, on failure too.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { measureBacklog, type BacklogPlan } from './backlog.ts';
import { DESTINATION_KINDS, measureDestination, type DestinationsPlan } from './destinations.ts';
import { localPostgresServer } from './cpu.ts';
import { POSTGRES_ADMIN_URL, postgresAvailable, type StoreKind } from './databases.ts';
import { cleanUpAll } from './processes.ts';
import { summariseProfiles } from './profile.ts';
import { note } from './progress.ts';
import { renderReport, writeResults, type BenchResults, type Machine, type Tree } from './report.ts';
import { measureRetention, type RetentionPlan } from './retention.ts';
import { baseline, hookdOnStore, multiProcess, type MultiPlan } from './scenarios.ts';
import { REPO_ROOT, profileHookd, startReceiver, type Receiver } from './services.ts';
import { SHAPES, runShape, type ShapeName, type ShapePlan, type ShapeResult, type ShapeSystem } from './shapes.ts';
import type { PhaseName, ThroughputPlan } from './throughput.ts';

const SCENARIOS = ['baseline', 'sqlite', 'postgres', 'multi', 'backlog', 'retention', 'destinations', ...SHAPES] as const;
type Scenario = (typeof SCENARIOS)[number];
const isShape = (scenario: Scenario): scenario is ShapeName => (SHAPES as readonly string[]).includes(scenario);
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

interface Plan {
  throughput: ThroughputPlan;
  multi: MultiPlan;
  backlog: BacklogPlan;
  retention: RetentionPlan;
  shapes: ShapePlan;
  destinations: DestinationsPlan;
}

const FULL_THROUGHPUT: ThroughputPlan = {
  warmUpRequests: 500, fixedRate: 1000, fixedMs: 15_000,
  saturationConcurrency: 64, saturationMs: 20_000, saturationMaxRequests: 300_000,
  fanOutConcurrency: 4, fanOutEvents: 400, fanOutMs: 20_000,
  drainMs: 60_000,
};
const QUICK_THROUGHPUT: ThroughputPlan = {
  ...FULL_THROUGHPUT, warmUpRequests: 50, fixedRate: 200, fixedMs: 1000, saturationMs: 1000, fanOutEvents: 10, fanOutMs: 2000, drainMs: 10_000,
};
/** Issue 13's shapes as its tables were measured. */
const FULL_SHAPES: ShapePlan = {
  warmUpRequests: 500, clients: 64, burstEvents: 20_000, fanOutEvents: 200, steadyRate: 1000, steadyMs: 20_000,
  maxLoadMs: 120_000, drainMs: 60_000,
};

// Backlogs spread over 8 subscriptions: their default caps (10 in flight each) then add up
// to more than HOOKD_WORKER_CONCURRENCY (64), so the process limit, not a cap, is measured.
const PLANS: Record<'full' | 'quick', Plan> = {
  full: {
    throughput: FULL_THROUGHPUT,
    multi: { queued: 20_000, throughput: { ...FULL_THROUGHPUT, saturationMs: 15_000 } },
    backlog: { deliveries: 1_000_000, subscriptions: 8, events: 100, drainMs: 60_000, windowMs: 10_000 },
    retention: { expired: 1_000_000, throughput: FULL_THROUGHPUT },
    shapes: FULL_SHAPES,
    destinations: { events: 20_000, ingestConcurrency: 64, maxInFlight: 64, drainMs: 120_000 },
  },
  quick: {
    throughput: QUICK_THROUGHPUT,
    multi: { queued: 300, throughput: QUICK_THROUGHPUT },
    backlog: { deliveries: 10_000, subscriptions: 8, events: 100, drainMs: 1500, windowMs: 1000 },
    retention: { expired: 5000, throughput: QUICK_THROUGHPUT },
    shapes: { ...FULL_SHAPES, warmUpRequests: 50, burstEvents: 1000, fanOutEvents: 10, steadyMs: 2000, maxLoadMs: 30_000, drainMs: 10_000 },
    destinations: { events: 500, ingestConcurrency: 16, maxInFlight: 64, drainMs: 30_000 },
  },
};

const USAGE = `Usage: npm run bench -- [--quick] [--only ${SCENARIOS.join('|')}[,…]] [--profile]

  --quick     a smoke run of every scenario with small counts (under a minute)
  --only      run only these scenarios (comma-separated or repeated)
  --profile   run every hookd process under --cpu-prof (profiles in bench/results/profiles/);
              the sqlite and postgres scenarios then run their saturation phase only, and
              the report lists each process's functions with the most self time

destinations delivers a backlog to HTTP, RabbitMQ, NATS JetStream and Redis Streams in turn
(the brokers on this machine: 5672 guest/guest, 4222, 6379) and reports deliveries/s for each.

burst, fanout and steady are issue 13's shapes: each runs on the bare relay, hookd on
SQLite and hookd on PostgreSQL, with the load generator and the receiver in this process.

PostgreSQL scenarios use ${POSTGRES_ADMIN_URL} (set HOOKD_BENCH_POSTGRES_URL to change it) to
create a database hookd_bench_<random>, dropped afterwards. HOOKD_BENCH_NODE_FLAGS passes
Node options to the hookd processes alone (e.g. "--max-semi-space-size=8"); with
HOOKD_BENCH_OUTPUT_DIR set, each hookd process's whole output is kept there, one file each
(e.g. with "--trace-gc" among the flags, to see its collections).`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const only = (values.only ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const unknown = only.filter((name) => !SCENARIOS.includes(name as Scenario));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  return {
    quick: values.quick, profile: values.profile, help: values.help,
    scenarios: only.length > 0 ? (only as Scenario[]) : [...SCENARIOS],
  };
}

/** PostgreSQL settings that change what the figures mean; recorded with every run. */
const POSTGRES_SETTINGS = ['autovacuum', 'fsync', 'synchronous_commit', 'wal_level', 'shared_buffers', 'max_wal_size', 'max_connections'];

async function postgresMachine(): Promise<Pick<Machine, 'postgres' | 'postgresCpuMeasured' | 'postgresSettings'>> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    const version = (await client.query<{ server_version: string }>('show server_version')).rows[0]?.server_version;
    const session = (await client.query<{ pid: number; db: string }>('select pg_backend_pid() as pid, current_database() as db')).rows[0]!;
    const settings = await client.query<{ name: string; setting: string }>(
      'select name, current_setting(name) as setting from pg_settings where name = any($1) order by name', [POSTGRES_SETTINGS]);
    return {
      postgres: `PostgreSQL ${version}`,
      postgresCpuMeasured: localPostgresServer(session.pid, session.db) !== null,
      postgresSettings: Object.fromEntries(settings.rows.map((s) => [s.name, s.setting])),
    };
  } finally {
    await client.end();
  }
}

async function machine(withPostgres: boolean): Promise<Machine> {
  const sqlite = new DatabaseSync(':memory:');
  const sqliteVersion = String(sqlite.prepare('select sqlite_version() as v').get()?.v);
  sqlite.close();
  return {
    cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.versions.node, sqlite: sqliteVersion, loadAverageBefore: os.loadavg(),
    ...(withPostgres ? await postgresMachine() : { postgres: null }),
  };
}

function tree(): Tree | null {
  try {
    const git = (args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const changedFiles = git(['status', '--porcelain']).split('\n').filter(Boolean).map((line) => line.slice(3));
    return { commit: git(['rev-parse', 'HEAD']).trim(), changedFiles };
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  const opts = options();
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (Number(process.versions.node.split('.')[0]) < 24) throw new Error(`Node 24 or later is needed (this is ${process.version}); run it as npm run bench`);
  const plan = PLANS[opts.quick ? 'quick' : 'full'];
  const withPostgres = await postgresAvailable();
  const results: BenchResults = {
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    startedAt: new Date().toISOString(), quick: opts.quick, machine: await machine(withPostgres), tree: tree(),
    skipped: [], stores: {}, backlog: {}, retention: {}, profiles: {}, destinations: {},
  };
  const stores: StoreKind[] = withPostgres ? ['sqlite', 'postgres'] : ['sqlite'];
  if (!withPostgres) results.skipped.push(`PostgreSQL scenarios: no server answered at ${POSTGRES_ADMIN_URL}`);
  const failures: string[] = [];
  const resultsFile = path.join(RESULTS_DIR, `bench-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  // Results are written after every scenario, so an interrupted run keeps what it measured.
  const attempt = async (name: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
      results.skipped.push(`FAILED ${name}: ${(error as Error).message}`);
      note(`${name} FAILED: ${(error as Error).stack ?? error}`);
    }
    writeResults(results, resultsFile);
  };

  const profileRoot = path.join(RESULTS_DIR, 'profiles', results.startedAt.replace(/[:.]/g, '-'));
  if (opts.profile) profileHookd(profileRoot);
  // Each receiver starts when a scenario first needs it: the shapes' runs inside this
  // process, beside the load generator; the other scenarios' in a process of its own.
  let ownProcessReceiver: Promise<Receiver> | null = null;
  let harnessReceiver: Promise<Receiver> | null = null;
  const receiverFor = (scenario: Scenario) => (isShape(scenario)
    ? (harnessReceiver ??= startReceiver('harness'))
    : (ownProcessReceiver ??= startReceiver('own process')));
  try {
    for (const scenario of opts.scenarios) {
      const receiver = await receiverFor(scenario);
      if (scenario === 'baseline') {
        await attempt('baseline', async () => { results.baseline = await baseline(receiver, plan.throughput); });
      } else if (scenario === 'sqlite' || scenario === 'postgres') {
        if (!stores.includes(scenario)) continue;
        const phases: PhaseName[] = opts.profile ? ['saturation'] : ['fixedRate', 'saturation', 'fanOut'];
        await attempt(scenario, async () => { results.stores[scenario] = await hookdOnStore(scenario, receiver, plan.throughput, phases); });
      } else if (scenario === 'multi') {
        if (withPostgres) await attempt('multi', async () => { results.multi = await multiProcess(receiver, plan.multi, [1, 2]); });
      } else if (scenario === 'backlog') {
        for (const kind of stores) await attempt(`backlog (${kind})`, async () => { results.backlog[kind] = await measureBacklog(kind, receiver, plan.backlog); });
      } else if (scenario === 'destinations') {
        results.destinationsPlan = plan.destinations;
        for (const kind of stores) {
          for (const destination of DESTINATION_KINDS) {
            await attempt(`destinations (${kind}, ${destination})`, async () => {
              (results.destinations[kind] ??= []).push(await measureDestination(kind, destination, receiver, plan.destinations));
            });
          }
        }
      } else if (scenario === 'retention') {
        for (const kind of stores) await attempt(`retention (${kind})`, async () => { results.retention[kind] = await measureRetention(kind, receiver, plan.retention); });
      } else {
        const shape: ShapeResult = {};
        (results.shapes ??= {})[scenario] = shape;
        results.shapePlan = plan.shapes;
        // The relay first, then each store, one after the other: the figures compared are taken minutes apart at most.
        for (const system of ['relay', ...stores] as ShapeSystem[]) {
          await attempt(`${scenario} (${system})`, async () => { shape[system] = await runShape(scenario, system, receiver, plan.shapes); });
        }
      }
    }
  } finally {
    await cleanUpAll();
  }
  if (opts.profile) results.profiles = summariseProfiles(profileRoot, REPO_ROOT);
  results.finishedAt = new Date().toISOString();
  results.machine.loadAverageAfter = os.loadavg();
  writeResults(results, resultsFile);
  process.stdout.write(`\n${renderReport(results, REPO_ROOT)}\nResults: ${path.relative(process.cwd(), resultsFile)}\n`);
  return failures.length > 0 ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  await cleanUpAll();
  process.exitCode = 2;
}
