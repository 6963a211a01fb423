// Real hookd processes for the crash-safety tests, started as an operator would start them:
// `node src/main.ts <role>` with the settings in the environment. The children see only the
// settings a test gives them (not the developer's shell or .env), and every child is killed
// when the test ends, also after a failure or if the test process itself exits early.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Role } from '../../src/app.ts';
import { SETTINGS } from '../../src/config.ts';
import type { StoreTarget } from './stores.ts';
import { eventually } from './receiver.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = path.join(REPO_ROOT, 'node_modules', '.bin', 'node');
const MAIN = path.join(REPO_ROOT, 'src', 'main.ts');
const HOOKD_SETTINGS = new Set(SETTINGS.map((setting) => setting.env));

/**
 * How long a hookd process may take to start (Node loading the TypeScript sources, migrations)
 * before a test gives up: a second or two on an idle machine, far longer on a busy one.
 */
export const STARTUP_MS = 60_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<HookdProcess>();
process.once('exit', () => {
  for (const hookd of running) hookd.child.kill('SIGKILL');
});

export class HookdProcess {
  readonly role: Role;
  readonly child: ChildProcess;
  /** Where its API listens; null for a worker. */
  readonly url: string | null;
  readonly exited: Promise<Exit>;
  #output = '';

  constructor(role: Role, settings: Record<string, string>) {
    this.role = role;
    const inherited = Object.entries(process.env)
      .filter(([name]) => !HOOKD_SETTINGS.has(name) && !name.startsWith('HOOKD_') && name !== 'NODE_TEST_CONTEXT');
    // Started outside the repository so a developer's .env there cannot change the settings.
    this.child = spawn(NODE, [MAIN, role], {
      cwd: tmpdir(),
      env: { ...Object.fromEntries(inherited), ...settings },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.url = role === 'worker' ? null : `http://127.0.0.1:${settings.PORT}`;
    const keep = (chunk: Buffer) => {
      this.#output += chunk.toString('utf8');
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    running.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        running.delete(this);
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get isRunning(): boolean {
    return running.has(this);
  }

  /** Everything it wrote to stdout and stderr (JSON log lines). */
  get output(): string {
    return this.#output;
  }

  /** How many of its log lines contain `text`. */
  count(text: string): number {
    return this.#output.split('\n').filter((line) => line.includes(text)).length;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** kill -9, and wait until it is gone. */
  kill(): Promise<Exit> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM; kill -9 and fail if it has not exited within `timeoutMs`. */
  async stop(timeoutMs: number): Promise<Exit & { elapsedMs: number }> {
    const started = Date.now();
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const exit = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (exit === null) {
      await this.kill();
      throw new Error(`hookd ${this.role} did not exit within ${timeoutMs} ms of SIGTERM; killed it. Output:\n${this.tail()}`);
    }
    return { ...exit, elapsedMs: Date.now() - started };
  }

  /** A request to its API (JSON in, JSON out). */
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const response = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Resolves once /api/v1/health answers 200; fails at once if the process exits. */
  async waitHealthy(timeoutMs = STARTUP_MS): Promise<void> {
    await eventually(async () => {
      if (!this.isRunning) throw new Error(`hookd ${this.role} exited while starting:\n${this.tail()}`);
      const response = await fetch(`${this.url}/api/v1/health`).catch(() => null);
      await response?.body?.cancel();
      return response?.status === 200 ? true : undefined;
    }, timeoutMs, `hookd ${this.role} on ${this.url} to be healthy`);
  }

  /** The last lines of its output, for failure messages. */
  tail(lines = 20): string {
    return this.#output.trimEnd().split('\n').slice(-lines).join('\n');
  }
}

export function startHookd(role: Role, settings: Record<string, string>): HookdProcess {
  return new HookdProcess(role, settings);
}

/** kill -9 every hookd child still running (stopped ones too), for `after` hooks. */
export async function killAllHookd(): Promise<void> {
  await Promise.all([...running].map((hookd) => hookd.kill()));
}

/** A TCP port on 127.0.0.1 that was free when asked, for a child to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/**
 * DATABASE_URL for a child process using the test target: the SQLite file, or the Postgres
 * URL with the target's schema as search_path (node-postgres passes `options` to the server).
 * The schema must exist already: openTestStore(target) creates and migrates it.
 */
export function databaseUrlFor(target: StoreTarget): string {
  if (target.database.kind === 'sqlite') return target.database.path;
  const url = new URL(target.database.url);
  url.searchParams.set('options', `-c search_path=${target.schema}`);
  return url.toString();
}
