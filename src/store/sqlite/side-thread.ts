// A worker thread beside hookd's event loop for SQLite work that would otherwise stall it
// (side-thread-worker.js): WAL checkpoints and the read models' queries.
//
// Checkpoints: left to itself SQLite checkpoints inside whichever commit crosses 1,000 WAL
// pages, several milliseconds of copying and an fsync of the database file on the thread
// that also answers requests. The connection's own automatic checkpoint stays on at a higher
// threshold, as a backstop should the worker fall behind or stop.
//
// Reads: counting a million deliveries takes about 300 ms; on the main thread that is 300 ms
// in which no request is answered and nothing is sent. Should the worker stop, queries run
// on the main connection again.
import { Worker } from 'node:worker_threads';
import type { DatabaseSync, SQLInputValue, SQLOutputValue } from 'node:sqlite';

const CHECKPOINT_INTERVAL_MS = 50;
/** WAL pages (4 KB each) after which a commit checkpoints itself after all. */
const BACKSTOP_PAGES = 8_000;
const SQLITE_DEFAULT_PAGES = 1_000;

export type Row = Record<string, SQLOutputValue>;

interface Reply {
  id: number;
  rows?: Row[];
  error?: { message: string; code?: string; errcode?: number };
}

export class SideThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve(rows: Row[]): void; reject(error: Error): void }>();
  #nextId = 1;
  #alive = true;
  #stopped = false;

  constructor(db: DatabaseSync, file: string, busyTimeoutMs: number) {
    db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    this.#worker = new Worker(new URL('./side-thread-worker.js', import.meta.url), {
      workerData: { file, intervalMs: CHECKPOINT_INTERVAL_MS, busyTimeoutMs },
    });
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => this.#settle(reply));
    this.#worker.on('error', (error) => {
      this.#alive = false;
      if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_PAGES}`);
      for (const [, waiting] of this.#waiting) waiting.reject(new Error(`the SQLite side thread stopped: ${error.message}`));
      this.#waiting.clear();
      process.emitWarning(`hookd: the SQLite side thread stopped (${error.message}); checkpoints and reads run on the main thread again`);
    });
  }

  /** False once the worker has stopped: callers then read on the main connection. */
  get alive(): boolean {
    return this.#alive && !this.#stopped;
  }

  /** Runs one read-only statement on the worker's connection, with parameters bound as SQLite takes them. */
  read(sql: string, parameters: readonly SQLInputValue[]): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#waiting.set(id, { resolve, reject });
      // Held while a query is out, so the process cannot end with it unanswered.
      if (this.#waiting.size === 1) this.#worker.ref();
      this.#worker.postMessage({ type: 'query', id, sql, parameters });
    });
  }

  #settle(reply: Reply): void {
    const waiting = this.#waiting.get(reply.id);
    if (!waiting) return;
    this.#waiting.delete(reply.id);
    if (this.#waiting.size === 0 && !this.#stopped) this.#worker.unref();
    if (reply.error) waiting.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code, errcode: reply.error.errcode }));
    else waiting.resolve(reply.rows ?? []);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    // Held by nothing else, an unref'd worker would let the process end before it has exited.
    this.#worker.ref();
    // Queries already posted are answered first: the worker handles messages in order.
    this.#worker.postMessage({ type: 'stop' });
    await exited;
    for (const [, waiting] of this.#waiting) waiting.reject(new Error('the SQLite store is closed'));
    this.#waiting.clear();
  }
}
