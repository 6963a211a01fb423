// Parent-side handles on the processes a scenario runs: the receiver (its own process, or
// inside the benchmark's), the bare relay and hookd itself (any role, on any database).
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { memoryOf } from './memory.ts';
import { forkScript, freePort, onCleanup, spawnNode, stopChild, waitFor } from './processes.ts';
import { ArrivalLog, listenForWebhooks } from './receiver.ts';
import type { ReceiverCommand, ReceiverReport } from './receiver-process.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
/** Generous: over a million-row backlog a busy hookd can take long to answer its first request. */
const START_TIMEOUT_MS = 120_000;
const COLLECT_TIMEOUT_MS = 30_000;
const API_TIMEOUT_MS = 30_000;

async function readyPort(child: ChildProcess, name: string): Promise<number> {
  const exited = once(child, 'exit').then(() => {
    throw new Error(`${name} exited before it was ready`);
  });
  const ready = new Promise<number>((resolve) => {
    child.on('message', (message: { type: string; port?: number }) => {
      if (message.type === 'ready' && message.port) resolve(message.port);
    });
  });
  return Promise.race([ready, exited]);
}

/** The loopback receiver: counts arrivals as they happen, hands over their times on request. */
export interface Receiver {
  readonly url: string;
  /** Arrivals since the last reset (from a process of its own: as last reported, every 200 ms). */
  readonly count: number;
  /** The process that receives: its own, or the benchmark's when it runs in the harness. */
  readonly pid: number;
  /** Forget what arrived; `keepArrivals: false` counts only (for runs of a million). */
  reset(keepArrivals: boolean): void;
  /** Every arrival since the last reset: webhook-id and arrival time (wallClockMs). */
  collect(): Promise<{ ids: string[]; times: Float64Array }>;
  stop(): Promise<void>;
}

/** The receiver in a process of its own (receiver-process.ts), so its work is not the sender's. */
class ReceiverProcess implements Receiver {
  readonly #child: ChildProcess;
  readonly url: string;
  count = 0;
  #collecting: ((report: Extract<ReceiverReport, { type: 'arrivals' }>) => void) | null = null;

  get pid(): number {
    return this.#child.pid!;
  }

  constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.url = `http://127.0.0.1:${port}/hook`;
    child.on('message', (report: ReceiverReport) => {
      if (report.type === 'count') this.count = report.count;
      else if (report.type === 'arrivals') this.#collecting?.(report);
    });
  }

  reset(keepArrivals: boolean): void {
    this.count = 0;
    this.#command({ type: 'reset', keepArrivals });
  }

  async collect(): Promise<{ ids: string[]; times: Float64Array }> {
    const report = new Promise<Extract<ReceiverReport, { type: 'arrivals' }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the receiver did not report its arrivals')), COLLECT_TIMEOUT_MS);
      this.#collecting = (arrivals) => {
        clearTimeout(timer);
        this.#collecting = null;
        resolve(arrivals);
      };
    });
    this.#command({ type: 'collect' });
    return report;
  }

  #command(command: ReceiverCommand): void {
    this.#child.send(command);
  }

  stop(): Promise<void> {
    return stopChild(this.#child);
  }
}

/**
 * The receiver inside the benchmark's process, sharing its event loop with the load
 * generator: the harness issue 13's figures were taken with. Both then compete for one
 * core, which lowers what the relay reaches and charges their CPU to one process.
 */
class ReceiverInHarness implements Receiver {
  readonly #log: ArrivalLog;
  readonly #server: Server;
  readonly url: string;
  readonly pid = process.pid;
  readonly stop: () => Promise<void>;

  constructor(log: ArrivalLog, server: Server, port: number) {
    this.#log = log;
    this.#server = server;
    this.url = `http://127.0.0.1:${port}/hook`;
    this.stop = onCleanup(() => new Promise<void>((resolve) => {
      this.#server.closeAllConnections();
      this.#server.close(() => resolve());
    }));
  }

  get count(): number {
    return this.#log.count;
  }

  reset(keepArrivals: boolean): void {
    this.#log.reset(keepArrivals);
  }

  async collect(): Promise<{ ids: string[]; times: Float64Array }> {
    return this.#log.arrivals();
  }
}

/** Starts a receiver in a process of its own, or in the benchmark's process ('harness'). */
export async function startReceiver(where: 'own process' | 'harness'): Promise<Receiver> {
  if (where === 'harness') {
    const log = new ArrivalLog();
    const { server, port } = await listenForWebhooks(log);
    return new ReceiverInHarness(log, server, port);
  }
  const child = forkScript(new URL('./receiver-process.ts', import.meta.url), 'receiver');
  return new ReceiverProcess(child, await readyPort(child, 'receiver'));
}

/** The bare relay baseline (bare-relay.ts), forwarding to the receiver. */
export async function startBareRelay(receiverUrl: string, fanOut: number, connections: number): Promise<{ origin: string; pid: number; stop(): Promise<void> }> {
  const child = forkScript(new URL('./bare-relay.ts', import.meta.url), 'bare relay', [receiverUrl, String(fanOut), String(connections)]);
  const port = await readyPort(child, 'bare relay');
  return { origin: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child) };
}

/**
 * hookd runs as deployed: with an API key (every request pays for checking it) but without
 * the per-client rate limit, which exists to stop abuse and would cap the load generator,
 * a single client, long before hookd's own limits.
 */
const API_KEY = `hk_${randomBytes(30).toString('base64url')}`;
export const AUTH_HEADERS = { authorization: `Bearer ${API_KEY}` };
const BENCH_SETTINGS = {
  HOST: '127.0.0.1',
  HOOKD_ALLOW_NETWORKS: '127.0.0.0/8',
  LOG_LEVEL: 'warn',
  HOOKD_API_KEY: API_KEY,
  HOOKD_RATE_LIMIT_PER_MINUTE: '0',
};

export type HookdRole = 'serve' | 'api' | 'worker';

export interface HookdOptions {
  role: HookdRole;
  databaseUrl: string;
  name: string;
  /** Settings besides the benchmark's defaults (HOOKD_RETENTION_*, …). */
  env?: Record<string, string>;
}

let profileRoot: string | null = null;

/** From now on every hookd runs under --cpu-prof and writes its profile below `dir`, in a folder named after it. */
export function profileHookd(dir: string): void {
  profileRoot = dir;
}

const MAX_FORWARDED_LOG_LINES = 5;
/** The Node options `npm start` gives hookd (package.json), so that the benchmark runs hookd as it is run. */
function startScriptFlags(): string[] {
  const start = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  return start.split(/\s+/).filter((word) => word.startsWith('--'));
}
/**
 * Node/V8 options for the hookd processes only: those of `npm start` unless
 * HOOKD_BENCH_NODE_FLAGS is set (e.g. `--max-semi-space-size=8`, or empty for Node's defaults),
 * to measure tuning.
 */
const NODE_FLAGS = process.env.HOOKD_BENCH_NODE_FLAGS !== undefined
  ? process.env.HOOKD_BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean)
  : startScriptFlags();
/** Where each hookd process's whole output is kept (e.g. with --trace-gc among the flags); unset: only a few lines are forwarded. */
const OUTPUT_DIR = process.env.HOOKD_BENCH_OUTPUT_DIR ?? null;

/** One hookd process, started from this checkout with `node src/main.ts <role>`. */
export class Hookd {
  readonly #child: ChildProcess;
  readonly origin: string | null;
  readonly name: string;
  /** Log lines it wrote (warnings and errors, at LOG_LEVEL=warn). */
  logLines = 0;

  private constructor(child: ChildProcess, origin: string | null, name: string) {
    this.#child = child;
    this.origin = origin;
    this.name = name;
  }

  static async start(options: HookdOptions): Promise<Hookd> {
    const port = await freePort();
    const profile = profileRoot ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileRoot, options.name.replace(/[^\w]+/g, '-').replace(/^-|-$/g, ''))}`] : [];
    const child = spawnNode({
      name: options.name,
      cwd: REPO_ROOT,
      args: [...profile, ...NODE_FLAGS, 'src/main.ts', options.role],
      env: {
        ...BENCH_SETTINGS,
        DATABASE_URL: options.databaseUrl,
        PORT: String(port),
        ...options.env,
      },
    });
    const origin = options.role === 'worker' ? null : `http://127.0.0.1:${port}`;
    const hookd = new Hookd(child, origin, options.name);
    // With HOOKD_ALLOW_NETWORKS set, hookd's first warn-level line is the allowlist warning,
    // logged once migrations are applied and just before the dispatcher starts: for a
    // worker (which has no HTTP port to poll) that line is the sign it is ready.
    const kept = OUTPUT_DIR === null ? null : createWriteStream(path.join(OUTPUT_DIR, `${options.name.replace(/[^\w]+/g, '-').replace(/^-|-$/g, '')}-${child.pid}.log`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      kept?.write(`${line}\n`);
      hookd.logLines++;
      if (hookd.logLines > 1 && hookd.logLines <= MAX_FORWARDED_LOG_LINES + 1) process.stderr.write(`\n[${options.name}] ${line.slice(0, 500)}\n`);
    });
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`${options.name} exited during start-up (code ${code})`);
    });
    const ready = waitFor(`${options.name} to start`, START_TIMEOUT_MS, async () => {
      if (origin === null) return hookd.logLines > 0 ? true : undefined;
      try {
        const response = await fetch(`${origin}/api/v1/health`);
        return response.ok ? true : undefined;
      } catch {
        return undefined;
      }
    });
    try {
      await Promise.race([ready, exited]);
    } catch (error) {
      await stopChild(child);
      throw error;
    }
    return hookd;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  memory(): { rssMb: number; peakMb: number } | null {
    return memoryOf(this.pid);
  }

  /** The V8 heap in use, in MB, from the process's own /metrics; null when it cannot be read. */
  async heapUsedMb(): Promise<number | null> {
    try {
      const response = await fetch(`${this.origin}/metrics`, { headers: AUTH_HEADERS, signal: AbortSignal.timeout(API_TIMEOUT_MS) });
      const bytes = /^hookd_nodejs_heap_size_used_bytes (\S+)$/m.exec(await response.text())?.[1];
      return bytes === undefined ? null : Math.round(Number(bytes) / 2 ** 20);
    } catch {
      return null;
    }
  }

  stop(): Promise<void> {
    return stopChild(this.#child);
  }

  /** Calls the API (JSON in and out), failing unless the answer is 2xx. */
  async call<T>(method: 'GET' | 'POST', apiPath: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.origin}/api/v1${apiPath}`, {
      method,
      headers: { ...AUTH_HEADERS, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`${method} ${apiPath}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }
}
