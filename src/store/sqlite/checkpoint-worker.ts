// Runs in a worker thread with its own connection to hookd's SQLite file: copies committed
// WAL frames into the database file (a PASSIVE checkpoint) every few milliseconds, so that
// neither the copying nor the database file's fsync happens on hookd's event loop.
// PASSIVE never blocks the writer and never waits for readers.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new DatabaseSync(file);
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

function checkpoint(): void {
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Another checkpoint or a schema change holds a lock: the next tick tries again.
    const code = (error as { errcode?: number }).errcode;
    if (code !== SQLITE_BUSY && code !== SQLITE_LOCKED) throw error;
  }
}

const timer = setInterval(checkpoint, intervalMs);

parentPort!.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
