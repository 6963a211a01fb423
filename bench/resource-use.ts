// What one hookd process costs to run: resident memory and CPU, idle and under a steady
// offered load (default 100 events/s, 1 KB each, one delivery per event to a loopback
// receiver) on SQLite. The numbers behind the README's "What it costs to run" section.
//
//   ./node_modules/.bin/node bench/resource-use.ts [--idle-seconds 30] [--load-seconds 60] [--rate 100]
//
// CPU is read from /proc/<pid>/stat (user + system time of the hookd process alone, not of
// the load generator or the receiver), so this runs on Linux only.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './cpu.ts';
import { createDatabase } from './databases.ts';
import { eventBody, loadPool, openLoop } from './load.ts';
import { cleanUpAll, waitFor } from './processes.ts';
import { AUTH_HEADERS, Hookd, startReceiver } from './services.ts';
import { percentiles } from './stats.ts';

const SETTLE_MS = 5000;
const SAMPLE_MS = 1000;
const PAYLOAD_BYTES = 1024;
const EVENT_TYPE = 'bench.resource';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

interface Usage {
  seconds: number;
  /** Share of one core, in percent. */
  cpuPercent: number;
  rssMeanMb: number;
  rssMaxMb: number;
}

/** Samples the process every second for `ms`: CPU share and resident memory. */
async function observe(pid: number, ms: number): Promise<Usage> {
  const began = performance.now();
  const cpuBefore = cpuSeconds(pid);
  const samples: number[] = [];
  while (performance.now() - began < ms) {
    samples.push(rssMb(pid));
    await sleep(SAMPLE_MS);
  }
  const seconds = (performance.now() - began) / 1000;
  const cpu = cpuSeconds(pid) - cpuBefore;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    seconds: round(seconds),
    cpuPercent: round((cpu / seconds) * 100),
    rssMeanMb: round(samples.reduce((a, b) => a + b, 0) / samples.length),
    rssMaxMb: round(Math.max(...samples)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'idle-seconds': { type: 'string', default: '30' },
      'load-seconds': { type: 'string', default: '60' },
      rate: { type: 'string', default: '100' },
    },
  });
  const idleMs = Number(values['idle-seconds']) * 1000;
  const loadMs = Number(values['load-seconds']) * 1000;
  const rate = Number(values.rate);

  const receiver = await startReceiver('own process');
  const db = await createDatabase('sqlite');
  const hookd = await Hookd.start({ role: 'serve', databaseUrl: db.url, name: 'hookd (sqlite)' });
  const subscription = await hookd.call<{ id: string }>('POST', '/subscriptions', { target_url: receiver.url, event_types: [EVENT_TYPE] });
  await sleep(SETTLE_MS);

  process.stderr.write(`idle for ${idleMs / 1000} s…\n`);
  const idle = await observe(hookd.pid, idleMs);

  process.stderr.write(`${rate} events/s for ${loadMs / 1000} s…\n`);
  const pool = loadPool(hookd.origin!, 16);
  const load = openLoop({
    pool, path: `/api/v1/ingest/${subscription.id}`, body: eventBody(EVENT_TYPE, PAYLOAD_BYTES),
    headers: AUTH_HEADERS, ratePerSecond: rate, maxRequests: Math.ceil((rate * loadMs) / 1000), maxMs: loadMs,
  });
  const [busy, run] = await Promise.all([observe(hookd.pid, loadMs), load.done]);
  await waitFor('every event to be delivered', 30_000, () => (receiver.count >= run.accepted ? true : undefined));
  await pool.close();

  const ingest = percentiles(run.latencyMs);
  const result = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    store: 'sqlite',
    idle,
    load: { ...busy, ratePerSecond: rate, accepted: run.accepted, failed: run.failed, delivered: receiver.count, ingestLatencyMs: ingest },
  };
  await hookd.stop();
  await db.drop();
  await receiver.stop();

  process.stdout.write([
    `hookd on SQLite, ${result.machine.cpus} × ${result.machine.model}, Node ${result.machine.node}`,
    `idle:            CPU ${idle.cpuPercent} % of one core, RSS ${idle.rssMeanMb} MB (max ${idle.rssMaxMb} MB) over ${idle.seconds} s`,
    `${rate} events/s: CPU ${busy.cpuPercent} % of one core, RSS ${busy.rssMeanMb} MB (max ${busy.rssMaxMb} MB) over ${busy.seconds} s;`
      + ` ${run.accepted} accepted, ${run.failed} refused, ${receiver.count} delivered; ingest p50 ${ingest.p50} ms, p99 ${ingest.p99} ms`,
    JSON.stringify(result),
    '',
  ].join('\n'));
}

try {
  await main();
} finally {
  await cleanUpAll();
}
