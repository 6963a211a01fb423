// The load generator: POSTs one fixed 1 KB JSON body over a keep-alive undici Pool, either
// closed-loop (a fixed number of requests in flight, as fast as answers come: saturation) or
// open-loop (requests start on a fixed schedule whatever the answers: a steady offered
// rate). Both are bounded by a request count and a time limit. Open-loop latency is taken
// from the scheduled start, so a stall is charged to every request it delayed.
import { Pool } from 'undici';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { wallClockMs } from './clock.ts';

const REQUEST_TIMEOUT_MS = 30_000;
const SCHEDULER_TICK_MS = 1;

/** A JSON event of exactly `bytes` bytes, as the benchmark's payload. */
export function eventBody(eventType: string, bytes: number): Buffer {
  const head = `{"event_type":"${eventType}","data":{"pad":"`;
  const tail = '"}}';
  return Buffer.from(head + 'x'.repeat(bytes - head.length - tail.length) + tail);
}

export function loadPool(origin: string, connections: number): Pool {
  return new Pool(origin, {
    connections, pipelining: 1, keepAliveTimeout: 30_000,
    headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS,
  });
}

export interface LoadRequest {
  pool: Pool;
  path: string;
  body: Buffer;
  /** Sent with every request besides content-type (an API key). */
  headers?: Record<string, string> | undefined;
  maxRequests: number;
  maxMs: number;
}

/** What one run produced; read while it runs for progress. */
export class LoadRun {
  sent = 0;
  accepted = 0;
  failed = 0;
  readonly failures = new Map<string, number>();
  /** Event id → when its 202 was read, in wallClockMs. */
  readonly acks = new Map<string, number>();
  /** Per accepted request: its latency in ms, from its (scheduled) start. */
  readonly latencyMs: number[] = [];
  readonly began = wallClockMs();
  ended = 0;
  /**
   * Aborts whatever is still unanswered REQUEST_TIMEOUT_MS after the run's time limit. One
   * signal for the whole run: a timer signal per request would keep tens of thousands of live
   * 30 s timers in the generator and charge their cost to the latency being measured.
   */
  readonly #deadline = new AbortController();
  #deadlineTimer: NodeJS.Timeout | undefined;

  constructor(maxMs: number) {
    this.#deadlineTimer = setTimeout(() => this.#deadline.abort(new DOMException('no answer in time', 'TimeoutError')), maxMs + REQUEST_TIMEOUT_MS);
    this.#deadlineTimer.unref();
    setMaxListeners(0, this.#deadline.signal); // one listener per request in flight
  }

  finish(): this {
    this.ended = wallClockMs();
    clearTimeout(this.#deadlineTimer);
    return this;
  }

  get elapsedMs(): number {
    return (this.ended || wallClockMs()) - this.began;
  }

  async send(request: LoadRequest, scheduledAt: number): Promise<void> {
    this.sent++;
    try {
      // The pool's timeouts cover a request once it is sent; the run's deadline also covers
      // time queued in the pool, so a stalled target cannot hold a run past its limit.
      const response = await request.pool.request({
        path: request.path, method: 'POST', body: request.body,
        headers: { 'content-type': 'application/json', ...request.headers },
        signal: this.#deadline.signal,
      });
      const text = await response.body.text();
      const at = wallClockMs();
      if (response.statusCode !== 202) {
        this.#fail(`HTTP ${response.statusCode}`);
        return;
      }
      this.accepted++;
      this.acks.set((JSON.parse(text) as { event_id: string }).event_id, at);
      this.latencyMs.push(at - scheduledAt);
    } catch (error) {
      this.#fail((error as { code?: string; name?: string }).code ?? (error as Error).name);
    }
  }

  #fail(reason: string): void {
    this.failed++;
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }
}

/** `concurrency` requests in flight until maxRequests are sent or maxMs has passed. */
export function closedLoop(request: LoadRequest & { concurrency: number }): { run: LoadRun; done: Promise<LoadRun> } {
  const run = new LoadRun(request.maxMs);
  const deadline = run.began + request.maxMs;
  const lane = async () => {
    while (run.sent < request.maxRequests && wallClockMs() < deadline) await run.send(request, wallClockMs());
  };
  const done = Promise.all(Array.from({ length: request.concurrency }, lane)).then(() => run.finish());
  return { run, done };
}

/**
 * Starts requests at `ratePerSecond` on schedule, until maxRequests or maxMs; then waits for
 * the answers. Every request scheduled before maxMs is sent, also when the generator's own
 * tick comes late, so the load offered is the load planned.
 */
export function openLoop(request: LoadRequest & { ratePerSecond: number }): { run: LoadRun; done: Promise<LoadRun> } {
  const run = new LoadRun(request.maxMs);
  const intervalMs = 1000 / request.ratePerSecond;
  const scheduled = Math.min(request.maxRequests, Math.ceil((request.maxMs * request.ratePerSecond) / 1000));
  const pending = new Set<Promise<void>>();
  const schedule = async () => {
    let next = 0;
    while (next < scheduled) {
      const due = Math.min(scheduled, Math.floor((wallClockMs() - run.began) / intervalMs) + 1);
      for (; next < due; next++) {
        const sending = run.send(request, run.began + next * intervalMs);
        pending.add(sending);
        sending.finally(() => pending.delete(sending));
      }
      if (next < scheduled) await sleep(SCHEDULER_TICK_MS);
    }
    await Promise.all(pending);
    return run.finish();
  };
  return { run, done: schedule() };
}
