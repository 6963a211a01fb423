// Keeps SQLite's WAL checkpoints off the event loop. Left to itself SQLite checkpoints inside
// whichever commit crosses 1,000 WAL pages: several milliseconds of copying and an fsync of
// the database file, on the thread that also answers requests (at 1,000 events/s that is
// about once a second, and it showed as the ingest p99). A worker thread checkpoints instead;
// the connection's own automatic checkpoint stays on at a higher threshold, as a backstop
// should the worker fall behind or stop.
import { Worker } from 'node:worker_threads';
import type { DatabaseSync } from 'node:sqlite';

const INTERVAL_MS = 50;
/** WAL pages (4 KB each) after which a commit checkpoints itself after all. */
const BACKSTOP_PAGES = 8_000;
const SQLITE_DEFAULT_PAGES = 1_000;

export class BackgroundCheckpoints {
  readonly #worker: Worker;
  #stopped = false;

  constructor(db: DatabaseSync, file: string) {
    db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    this.#worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { file, intervalMs: INTERVAL_MS } });
    this.#worker.unref();
    this.#worker.on('error', (error) => {
      if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_PAGES}`);
      process.emitWarning(`hookd: background WAL checkpoints stopped (${error.message}); SQLite checkpoints on the main thread again`);
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    // Held by nothing else, an unref'd worker would let the process end before it has exited.
    this.#worker.ref();
    this.#worker.postMessage('stop');
    await exited;
  }
}
