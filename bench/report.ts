// Turns the results into the Markdown tables printed at the end of a run (and pasted into
// docs/benchmarks.md), and writes the full results as JSON under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BacklogResult } from './backlog.ts';
import type { StoreKind } from './databases.ts';
import type { DestinationFigure, DestinationsPlan } from './destinations.ts';
import type { ProfileSummary } from './profile.ts';
import type { RetentionResult } from './retention.ts';
import type { StoreResult, WorkerScaling } from './scenarios.ts';
import { KEEP_UP_SHARE, SHAPES, type ShapeName, type ShapePlan, type ShapeResult, type ShapeRun, type ShapeSystem } from './shapes.ts';
import type { PhaseResult, ThroughputResult } from './throughput.ts';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  postgres: string | null;
  /** Whether PostgreSQL's processes could be found on this machine to measure their CPU. */
  postgresCpuMeasured?: boolean;
  /** Server settings that bear on the figures (autovacuum, fsync, synchronous_commit, …). */
  postgresSettings?: Record<string, string>;
  sqlite: string;
  loadAverageBefore: number[];
  loadAverageAfter?: number[];
}

/** Which hookd was measured: the commit, and files changed since (a run in a working tree). */
export interface Tree {
  commit: string;
  changedFiles: string[];
}

export interface BenchResults {
  command: string;
  startedAt: string;
  finishedAt?: string;
  quick: boolean;
  machine: Machine;
  tree: Tree | null;
  skipped: string[];
  baseline?: ThroughputResult;
  stores: Partial<Record<StoreKind, StoreResult>>;
  multi?: WorkerScaling[];
  backlog: Partial<Record<StoreKind, BacklogResult>>;
  retention: Partial<Record<StoreKind, RetentionResult>>;
  /** Issue 13's shapes (load generator and receiver in one process), with the plan they ran. */
  shapes?: Partial<Record<ShapeName, ShapeResult>>;
  shapePlan?: ShapePlan;
  profiles: Record<string, ProfileSummary>;
  /** Deliveries/s to each destination kind (HTTP and the brokers), per store. */
  destinations: Partial<Record<StoreKind, DestinationFigure[]>>;
  destinationsPlan?: DestinationsPlan;
}

type Row = (string | number)[];

function table(header: Row, rows: Row[]): string {
  const line = (cells: Row) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const n = (value: number | undefined) => (value === undefined ? '–' : Math.round(value).toLocaleString('en'));
const pair = (a: number | undefined, b: number | undefined) => (a === undefined ? '–' : `${a} / ${b}`);
const percentOf = (value: number | undefined, of: number | undefined) =>
  value === undefined || !of ? '–' : `${Math.round((value / of) * 100)} %`;

/** Older result files have no CPU figures. */
const cpuPair = (p: PhaseResult | undefined): string =>
  (p?.cpuUsPerDelivery ? `${p.cpuUsPerDelivery.system} / ${p.cpuUsPerDelivery.database}` : '–');

function throughputTable(results: BenchResults): string {
  const relay = results.baseline;
  const columns: { name: string; r?: ThroughputResult; peak?: number }[] = [
    { name: 'bare relay', ...(relay && { r: relay }) },
    ...(['sqlite', 'postgres'] as const).map((kind) => {
      const r = results.stores[kind];
      return { name: `hookd ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`, ...(r && { r, peak: r.peakRssMb }) };
    }),
  ];
  const rows: { label: string; target: string; cell(r: ThroughputResult | undefined): string; ratio?(r: ThroughputResult | undefined): number | undefined }[] = [
    { label: 'saturation: delivered events/s (ingest → 2xx at receiver)', target: '≥ 70 % SQLite, ≥ 50 % PG', cell: (r) => n(r?.saturation?.deliveredPerSec), ratio: (r) => r?.saturation?.deliveredPerSec },
    { label: 'saturation: ingest 202s/s', target: '', cell: (r) => n(r?.saturation?.ingestPerSec), ratio: (r) => r?.saturation?.ingestPerSec },
    { label: 'saturation: ingest p50 / p99 ms', target: '', cell: (r) => pair(r?.saturation?.ingestMs.p50, r?.saturation?.ingestMs.p99) },
    { label: 'saturation: delivery lag p50 / p99 ms', target: '', cell: (r) => pair(r?.saturation?.lagMs.p50, r?.saturation?.lagMs.p99) },
    { label: 'fixed rate: offered / accepted events/s', target: '', cell: (r) => (r?.fixedRate ? `${n(r.fixedRate.offeredPerSec)} / ${n(r.fixedRate.ingestPerSec)}` : '–') },
    { label: 'fixed rate: ingest p50 / p99 ms', target: 'p99 ≤ 5 ms', cell: (r) => pair(r?.fixedRate?.ingestMs.p50, r?.fixedRate?.ingestMs.p99) },
    { label: 'fixed rate: delivery lag p50 / p99 ms', target: 'p99 ≤ 50 ms', cell: (r) => pair(r?.fixedRate?.lagMs.p50, r?.fixedRate?.lagMs.p99) },
    { label: 'fan-out (1 event → 100): deliveries/s', target: '≥ 70 %', cell: (r) => n(r?.fanOut?.deliveredPerSec), ratio: (r) => r?.fanOut?.deliveredPerSec },
    { label: 'saturation: CPU µs per delivery, relay or hookd / PostgreSQL', target: '', cell: (r) => cpuPair(r?.saturation) },
    { label: 'saturation: CPU µs per delivery, receiver / load generator', target: '', cell: (r) => (r?.saturation?.cpuUsPerDelivery ? `${r.saturation.cpuUsPerDelivery.receiver} / ${r.saturation.cpuUsPerDelivery.loadGenerator}` : '–') },
    { label: 'fan-out: CPU µs per delivery, relay or hookd / PostgreSQL', target: '', cell: (r) => cpuPair(r?.fanOut) },
  ];
  const header: Row = ['', ...columns.flatMap((c, i) => (i === 0 ? [c.name] : [c.name, '% of relay'])), 'target'];
  const body: Row[] = rows.map((row) => [
    row.label,
    ...columns.flatMap((c, i) => (i === 0 ? [row.cell(c.r)] : [row.cell(c.r), row.ratio ? percentOf(row.ratio(c.r), row.ratio(relay)) : ''])),
    row.target,
  ]);
  body.push(['peak RSS MB (the process, whole scenario)', n(relay?.saturation?.peakRssMb), ...columns.slice(1).flatMap((c) => [n(c.peak), '']), '']);
  const problems = columns.flatMap((c) => (['fixedRate', 'saturation', 'fanOut'] as const).flatMap((phase) => {
    const p: PhaseResult | undefined = c.r?.[phase];
    if (!p || (p.failed === 0 && p.undelivered === 0)) return [];
    return [`${c.name}, ${phase}: ${p.failed} requests failed ${JSON.stringify(p.failures)}, ${p.undelivered} deliveries not seen in time`];
  }));
  return table(header, body) + (problems.length ? `\n\nIncomplete: ${problems.join('; ')}` : '');
}

const SYSTEMS: { system: ShapeSystem; name: string }[] = [
  { system: 'relay', name: 'bare relay' }, { system: 'sqlite', name: 'hookd SQLite' }, { system: 'postgres', name: 'hookd PostgreSQL' },
];

/** Issue 13's targets, per shape and store. */
const SHAPE_TARGETS: Record<ShapeName, Partial<Record<ShapeSystem, string>>> = {
  burst: { sqlite: '≥ 50 %, ≤ 0.2 CPU-s, peak ≤ 150 MB', postgres: '≥ 35 %, ≤ 0.5 CPU-s with PostgreSQL' },
  fanout: { sqlite: '≥ 60 %', postgres: '≥ 60 %' },
  steady: { sqlite: 'keeps up, p99 ≤ 5 / ≤ 50 ms, ≤ 0.3 CPU-s', postgres: 'keeps up, p99 ≤ 5 / ≤ 50 ms, ≤ 0.6 CPU-s with PostgreSQL' },
};

const seconds = (value: number) => value.toFixed(3);
/** The system's CPU per 1,000, with PostgreSQL's share shown apart when it has one. */
const systemCpu = (r: ShapeRun) => (r.cpuSecondsPer1000.postgres > 0
  ? `${seconds(r.cpuSecondsPer1000.system)} (${seconds(r.cpuSecondsPer1000.process)} + ${seconds(r.cpuSecondsPer1000.postgres)} PostgreSQL)`
  : seconds(r.cpuSecondsPer1000.system));
const startupMemory = (r: ShapeRun) => (r.startup ? `${r.startup.rssMb}${r.startup.heapUsedMb === null ? '' : ` (${r.startup.heapUsedMb})`}` : '–');

function shapeHeading(shape: ShapeName, plan: ShapePlan | undefined): string {
  if (!plan) return `### ${shape}`;
  if (shape === 'burst') return `### Burst: ${n(plan.burstEvents)} events of 1 KB, ${plan.clients} keep-alive clients, closed loop`;
  if (shape === 'fanout') return `### Fan-out: ${n(plan.fanOutEvents)} events × 100 subscriptions (the relay: 100 forwards each), ${plan.clients} clients`;
  return `### Steady: ${n(plan.steadyRate)} events/s offered for ${plan.steadyMs / 1000} s, open loop`;
}

function shapeTable(shape: ShapeName, result: ShapeResult): string {
  const relay = result.relay?.phase.deliveredPerSec;
  const rows = SYSTEMS.flatMap(({ system, name }) => {
    const r = result[system];
    return r ? [{ name, r, target: SHAPE_TARGETS[shape][system] ?? '' }] : [];
  });
  const cpu = 'CPU-s per 1,000, system (hookd or relay + PostgreSQL)';
  const harness = 'CPU-s per 1,000, harness';
  if (shape === 'steady') {
    return table(
      ['', 'offered / accepted events/s', 'delivered/s (first request → last arrival)', 'kept up', 'ingest p50 / p99 ms', 'delivery lag p50 / p99 ms', cpu, harness, 'peak RSS MB', 'target'],
      rows.map(({ name, r, target }) => [
        name, `${n(r.offeredPerSec)} / ${n(r.phase.ingestPerSec)}`, n(r.phase.deliveredPerSec), r.keptUp ? 'yes' : '**no**',
        pair(r.phase.ingestMs.p50, r.phase.ingestMs.p99), pair(r.phase.lagMs.p50, r.phase.lagMs.p99),
        systemCpu(r), seconds(r.cpuSecondsPer1000.harness), n(r.peakRssMb), target,
      ]),
    );
  }
  const rate = shape === 'burst' ? 'events/s (first request → last arrival)' : 'deliveries/s (first request → last arrival)';
  return table(
    ['', rate, '% of relay', 'ingest 202s/s', cpu, harness, 'peak RSS MB', 'RSS at start MB (heap in use)', 'target'],
    rows.map(({ name, r, target }) => [
      name, n(r.phase.deliveredPerSec), percentOf(r.phase.deliveredPerSec, relay), n(r.phase.ingestPerSec),
      systemCpu(r), seconds(r.cpuSecondsPer1000.harness), n(r.peakRssMb), startupMemory(r), target,
    ]),
  );
}

function shapeTables(shapes: Partial<Record<ShapeName, ShapeResult>>, plan: ShapePlan | undefined): string {
  const problems: string[] = [];
  const parts = SHAPES.flatMap((shape) => {
    const result = shapes[shape];
    if (!result) return [];
    for (const { system, name } of SYSTEMS) {
      const p = result[system]?.phase;
      if (p && (p.failed > 0 || p.undelivered > 0)) problems.push(`${shape}, ${name}: ${p.failed} requests failed ${JSON.stringify(p.failures)}, ${p.undelivered} deliveries not seen in time`);
    }
    return [shapeHeading(shape, plan), shapeTable(shape, result)];
  });
  const notes = [
    'The load generator and the receiver (200 at once) share the benchmark\'s process (its CPU: "harness"); each system runs in a fresh process, '
      + 'so peak RSS (VmHWM of hookd\'s or the relay\'s own process) is the shape\'s own, warm-up included. '
      + `Steady keeps up when every event is accepted and delivered at ≥ ${KEEP_UP_SHARE * 100} % of the offered rate.`,
  ];
  if (problems.length) notes.push(`Incomplete: ${problems.join('; ')}`);
  return [...parts, ...notes].join('\n\n');
}

function multiTable(multi: WorkerScaling[]): string {
  const first = multi[0];
  return table(
    ['processes', 'drain of a queued batch: deliveries/s', 'scaling', 'saturation: delivered events/s', 'ingest 202s/s', 'ingest p99 ms', 'lag p99 ms', 'peak RSS MB api / workers'],
    multi.map((m) => [
      `api + ${m.workers} worker${m.workers > 1 ? 's' : ''}`,
      n(m.drain.arrivalRatePerSec),
      first ? `×${(m.drain.arrivalRatePerSec / Math.max(1, first.drain.arrivalRatePerSec)).toFixed(2)}` : '',
      n(m.saturation.deliveredPerSec),
      n(m.saturation.ingestPerSec),
      m.saturation.ingestMs.p99,
      m.saturation.lagMs.p99,
      `${m.peakRssMb.api} / ${m.peakRssMb.workers.join(', ')}`,
    ]),
  );
}

function backlogTables(backlog: Partial<Record<StoreKind, BacklogResult>>): string {
  return Object.entries(backlog).map(([kind, b]) => [
    `**${kind}**: ${n(b.deliveries)} queued deliveries written in ${b.seedSeconds} s; hookd answered its first request after ${b.startSeconds} s; ${n(b.delivered)} delivered in ${b.drainSeconds} s `
      + `(${n(b.overallPerSec)}/s)${b.drained ? ', queue empty' : ', drain stopped at the time limit'}; RSS at start ${b.rssStartMb} MB, max ${b.rssMaxMb} MB (target ≤ 200 MB).`
      + ` Before the drain, over all ${n(b.deliveries)} rows (\`hookd api\`, nothing delivering): /status ${b.atRest.status.median} ms median, ${b.atRest.status.max} max; `
      + `/stats (the dashboard) ${b.atRest.stats.median} ms median, ${b.atRest.stats.max} max (target ≤ 10 ms).`,
    '',
    table(
      ['window s', 'delivered', 'deliveries/s', 'RSS MB', 'claim search ms median / max', '/status ms', 'queue depth'],
      b.windows.map((w) => [`${w.fromS}–${w.toS}`, n(w.delivered), n(w.perSec), w.rssMb, `${w.claimProbeMs.median} / ${w.claimProbeMs.max}`, w.statusMs ?? 'timeout', n(w.queueDepth ?? undefined)]),
    ),
  ].join('\n')).join('\n\n');
}

function retentionTable(retention: Partial<Record<StoreKind, RetentionResult>>): string {
  return table(
    ['store', 'expired rows', '/status, /stats at rest: median / max ms', 'ingest p50 / p99 ms, nothing to delete', 'ingest p50 / p99 ms, deleting', 'p99 ratio (target ≤ 2)', 'deleted during ingest', 'deletions/s', 'left'],
    Object.entries(retention).map(([kind, r]) => [
      kind, n(r.expired), `${pair(r.atRest.status.median, r.atRest.status.max)}, ${pair(r.atRest.stats.median, r.atRest.stats.max)}`,
      pair(r.quiet.ingestMs.p50, r.quiet.ingestMs.p99), pair(r.deleting.ingestMs.p50, r.deleting.ingestMs.p99),
      `×${r.p99Ratio}`, n(r.deletedDuringIngest), n(r.deletionPerSec), n(r.remaining),
    ]),
  );
}

function profileTables(profiles: Record<string, ProfileSummary>, repoRoot: string): string {
  return Object.entries(profiles).map(([kind, p]) => [
    `**${kind}** (${p.busyMs} ms busy, ${p.idleMs} ms idle; ${path.relative(repoRoot, p.file)})`,
    '',
    table(['area', 'self ms', '% of busy'], p.areas.slice(0, 12).map((a) => [a.area, a.selfMs, a.percent])),
    '',
    table(['function', 'where', 'self ms', '% of busy'], p.top.map((f) => [f.function, f.where, f.selfMs, f.percent])),
  ].join('\n')).join('\n\n');
}

function destinationsTable(destinations: Partial<Record<StoreKind, DestinationFigure[]>>, plan: DestinationsPlan | undefined): string {
  const intro = plan
    ? `${n(plan.events)} events of 1 KB ingested first (hookd's API alone), then delivered by one hookd (\`serve\`), one subscription with max_in_flight ${plan.maxInFlight}; `
      + 'the rate is counted from the first arrival to the last, at the receiver (HTTP) or at the broker (queue depth, stream length).\n\n'
    : '';
  return intro + table(
    ['store', 'destination', 'delivered', 'seconds', 'deliveries/s', 'vs HTTP'],
    Object.entries(destinations).flatMap(([kind, figures]) => {
      const http = figures.find((f) => f.kind === 'http')?.perSec;
      return figures.map((f) => [kind, f.kind, `${n(f.delivered)} of ${n(f.events)}`, f.seconds, n(f.perSec), http ? `${Math.round((f.perSec / http) * 100)} %` : '–']);
    }),
  );
}

export function renderReport(results: BenchResults, repoRoot: string): string {
  const m = results.machine;
  const parts = [
    `hookd benchmark, ${results.startedAt}${results.quick ? ' (--quick: smoke run, figures not meaningful)' : ''}`,
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, SQLite ${m.sqlite}, ${m.postgres ?? 'no PostgreSQL'}; `
      + `load average before ${m.loadAverageBefore.map((l) => l.toFixed(2)).join(' ')}${m.loadAverageAfter ? `, after ${m.loadAverageAfter.map((l) => l.toFixed(2)).join(' ')}` : ''}`,
  ];
  if (m.postgresSettings) parts.push(`PostgreSQL settings: ${Object.entries(m.postgresSettings).map(([name, value]) => `${name}=${value}`).join(', ')}`);
  if (m.postgres && m.postgresCpuMeasured === false) parts.push('PostgreSQL\'s CPU is not measured: its server is not a process on this machine.');
  if (results.tree) {
    const changed = results.tree.changedFiles.filter((f) => f.startsWith('src/'));
    parts.push(`hookd: commit ${results.tree.commit.slice(0, 12)}${changed.length ? ` with uncommitted changes to ${changed.length} files under src/` : ''}`);
  }
  if (results.baseline || Object.keys(results.stores).length > 0) parts.push('## End to end\n\n' + throughputTable(results));
  if (results.multi) parts.push('## PostgreSQL, separate API and worker processes\n\n' + multiTable(results.multi));
  if (Object.keys(results.backlog).length > 0) parts.push('## Backlog\n\n' + backlogTables(results.backlog));
  if (Object.keys(results.retention).length > 0) parts.push('## Retention under load\n\n' + retentionTable(results.retention));
  if (Object.keys(results.destinations ?? {}).length > 0) parts.push('## Deliveries to brokers, next to HTTP\n\n' + destinationsTable(results.destinations, results.destinationsPlan));
  if (results.shapes && Object.keys(results.shapes).length > 0) {
    parts.push('## Burst, fan-out and steady (load generator and receiver in one process)\n\n' + shapeTables(results.shapes, results.shapePlan));
  }
  if (Object.keys(results.profiles).length > 0) parts.push('## CPU profiles of hookd (self time)\n\n' + profileTables(results.profiles, repoRoot));
  if (results.skipped.length > 0) parts.push(`Skipped: ${results.skipped.join('; ')}`);
  return parts.join('\n\n') + '\n';
}

/** Writes (or rewrites) the results as JSON. */
export function writeResults(results: BenchResults, file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}
