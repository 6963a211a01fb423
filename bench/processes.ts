// Child processes of the benchmark and the cleanup that must run however the run ends:
// every child is stopped and every temporary file or database removed on success, failure
// or Ctrl-C, so a benchmark never leaves load running on a shared machine.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const STOP_GRACE_MS = 10_000;

type Cleanup = () => Promise<void> | void;

const children = new Set<ChildProcess>();
/** Children the benchmark asked to stop, so their exit is expected. */
const stopping = new WeakSet<ChildProcess>();
const cleanups: Cleanup[] = [];

/**
 * Runs `cleanup` at the end of the run (latest first), also after a failure or Ctrl-C.
 * Calling the function returned runs it at once instead.
 */
export function onCleanup(cleanup: Cleanup): () => Promise<void> {
  cleanups.push(cleanup);
  return async () => {
    const index = cleanups.indexOf(cleanup);
    if (index === -1) return;
    cleanups.splice(index, 1);
    await cleanup();
  };
}

/** Stops every child still running and runs the cleanups; safe to call more than once. */
export async function cleanUpAll(): Promise<void> {
  await Promise.allSettled([...children].map((child) => stopChild(child)));
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (error) {
      process.stderr.write(`bench: cleanup failed: ${(error as Error).message}\n`);
    }
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\nbench: ${signal}, stopping children and removing temporary data…\n`);
    cleanUpAll().finally(() => process.exit(130));
  });
}

function track<T extends ChildProcess>(child: T, name: string): T {
  children.add(child);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (!stopping.has(child) && !interrupted && code !== 0) {
      process.stderr.write(`\nbench: ${name} exited unexpectedly (${signal ?? `code ${code}`})\n`);
    }
  });
  return child;
}

/** SIGTERM, then SIGKILL if it has not exited within the grace period. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  stopping.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** A Node script of the benchmark itself, with an IPC channel to this process. */
export function forkScript(script: URL, name: string, args: string[] = []): ChildProcess {
  return track(fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' }), name);
}

export interface SpawnOptions {
  args: string[];
  env: Record<string, string>;
  name: string;
  cwd: string;
}

/** Any Node program (hookd); stdout is piped so the caller can read its log lines. */
export function spawnNode(options: SpawnOptions): ChildProcess {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return track(child, options.name);
}

/** Runs a Node program to completion; rejects with its output when it fails. */
export async function runNode(options: SpawnOptions): Promise<void> {
  const child = spawnNode(options);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`${options.name} failed (exit ${code}): ${output.trim()}`);
}

/** A TCP port free at the time of asking, for a child to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined, everyMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
