// Runs in a worker thread with its own connection to hookd's SQLite file: copies committed
// WAL frames into the database file (a PASSIVE checkpoint) every few milliseconds, so that
// neither the copying nor the database file's fsync happens on hookd's event loop.
// PASSIVE never blocks the writer and never waits for readers.
// Plain JavaScript on purpose: a TypeScript file would load Node's type stripper into the
// worker's own isolate, about 12 MB of memory for these few lines.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/** @type {{ file: string, intervalMs: number }} */
const { file, intervalMs } = workerData;
const db = new DatabaseSync(file);

function checkpoint() {
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Another checkpoint or a schema change holds a lock: the next tick tries again.
    if (error.errcode !== SQLITE_BUSY && error.errcode !== SQLITE_LOCKED) throw error;
  }
}

const timer = setInterval(checkpoint, intervalMs);

parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
