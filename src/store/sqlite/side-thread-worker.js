// Runs in a worker thread with its own connections to hookd's SQLite file, for the two kinds
// of work that must not hold up hookd's event loop:
// - WAL checkpoints: copies committed WAL frames into the database file (PASSIVE: never
//   blocks the writer, never waits for readers) every few milliseconds, so neither the
//   copying nor the database file's fsync happens on the main thread;
// - read-only queries of the read models (status counts, dashboard statistics, lists), which
//   at millions of rows take hundreds of milliseconds. In WAL mode they read a snapshot of
//   what was committed when they start, beside the writer.
// Plain JavaScript on purpose: a TypeScript file would load Node's type stripper into the
// worker's own isolate, about 12 MB of memory for these few lines.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const STATEMENT_CACHE_SIZE = 100;

/** @type {{ file: string, intervalMs: number, busyTimeoutMs: number }} */
const { file, intervalMs, busyTimeoutMs } = workerData;
const checkpointer = new DatabaseSync(file);
const reader = new DatabaseSync(file, { readOnly: true, timeout: busyTimeoutMs });
/** @type {Map<string, import('node:sqlite').StatementSync>} */
const statements = new Map();

function checkpoint() {
  try {
    checkpointer.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Another checkpoint or a schema change holds a lock: the next tick tries again.
    if (error.errcode !== SQLITE_BUSY && error.errcode !== SQLITE_LOCKED) throw error;
  }
}

function prepared(sql) {
  let statement = statements.get(sql);
  if (!statement) {
    statement = reader.prepare(sql);
    if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value);
    statements.set(sql, statement);
  }
  return statement;
}

/** `parameters` arrive bound already (node-sqlite-driver.ts bindAll, on the main thread). */
function query(id, sql, parameters) {
  try {
    const rows = prepared(sql).all(...parameters);
    parentPort.postMessage({ id, rows });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: error.message, code: error.code, errcode: error.errcode } });
  }
}

const timer = setInterval(checkpoint, intervalMs);

parentPort.on('message', (message) => {
  if (message.type === 'query') {
    query(message.id, message.sql, message.parameters);
    return;
  }
  if (message.type === 'stop') {
    clearInterval(timer);
    statements.clear();
    reader.close();
    checkpointer.close();
    parentPort.close();
  }
});
