// A real HTTP receiver on 127.0.0.1 for delivery tests: records every request (headers and
// raw body) and answers as the test tells it to.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

/**
 * How long the waits below allow by default. A test passes as soon as its condition holds;
 * this bound only decides how long a failing test takes to say so, so it is generous: a
 * machine busy with other work can take seconds for what usually takes milliseconds.
 */
export const WAIT_MS = 30_000;

export type Responder = (request: Received, res: http.ServerResponse) => void | Promise<void>;

export interface Receiver {
  url: string;
  requests: Received[];
  /** Replaces how the receiver answers (default: 200 "ok"). */
  respond(responder: Responder): void;
  /** Resolves once `count` requests arrived, or rejects after `timeoutMs` (see WAIT_MS). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export const ok: Responder = (_req, res) => {
  res.end('ok');
};

export function status(code: number, body = '', headers: Record<string, string> = {}): Responder {
  return (_req, res) => {
    res.writeHead(code, headers);
    res.end(body);
  };
}

/**
 * Holds every request until the test answers it, counting how many it holds at once: a
 * receiver as slow as the test needs, released on the test's conditions rather than a clock.
 */
export class HeldRequests {
  readonly #held: { answer(body: string): void }[] = [];
  /** The most requests held at once. */
  max = 0;

  readonly responder: Responder = (_request, res) => new Promise<void>((resolve) => {
    this.#held.push({ answer(body) {
      if (!res.destroyed) res.end(body);
      resolve();
    } });
    this.max = Math.max(this.max, this.#held.length);
  });

  /** How many requests are held now. */
  get count(): number {
    return this.#held.length;
  }

  /** Answers the `count` oldest held requests. */
  answer(count: number, body = 'ok'): void {
    for (const request of this.#held.splice(0, count)) request.answer(body);
  }

  answerAll(body = 'ok'): void {
    this.answer(this.#held.length, body);
  }
}

/** Answers with each responder in turn, then repeats the last one. */
export function sequence(...responders: Responder[]): Responder {
  let i = 0;
  return (req, res) => responders[Math.min(i++, responders.length - 1)]!(req, res);
}

export async function startReceiver(path = '/hook'): Promise<Receiver> {
  const requests: Received[] = [];
  let responder: Responder = ok;
  const waiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      requests.push(received);
      waiters.splice(0).forEach((wake) => wake());
      Promise.resolve(responder(received, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    respond(next) {
      responder = next;
    },
    async waitFor(count, timeoutMs = WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`receiver got ${requests.length} of ${count} requests within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return requests.slice(0, count);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = WAIT_MS, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Like `eventually`, for work that advances step by step (deliveries in order, a backlog
 * draining): waits as long as `progress()` keeps changing, and fails only when it has not
 * changed for `stallMs`. The whole may take as long as a busy machine needs; a stuck step
 * still fails, within `stallMs`.
 */
export async function whileProgressing<T>(check: () => Promise<T | undefined> | T | undefined, progress: () => Promise<unknown> | unknown, stallMs: number, what = 'condition'): Promise<T> {
  let last = await progress();
  let movedAt = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    const now = await progress();
    if (now !== last) {
      last = now;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > stallMs) {
      throw new Error(`no progress for ${stallMs} ms (stuck at ${String(now)}) waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
