// The embedded store: one SQLite file through node:sqlite, no other process needed.
// WAL lets readers (status, UI) run beside the writer; synchronous=FULL makes every commit
// durable before hookd answers 202, at a cost that group commit (one transaction for many
// concurrent ingests) keeps small. Claims and attempt records commit with NORMAL (see
// relaxedTransaction): in WAL mode that is still safe against a crash of hookd, and a power
// cut can at worst undo the last of them, so a delivery is sent again. WAL checkpoints and
// the read models' queries run on a worker thread (side-thread.ts). Leases live in memory
// (leases.ts): the process that sends deliveries holds the database alone (exclusive.ts).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CompiledQuery, Kysely, SqliteDialect, sql, type Expression, type SqlBool } from 'kysely';
import type { NewEvent } from '../../domain/index.ts';
import type { Store } from '../contracts.ts';
import type { CounterRow } from '../counters.ts';
import type { Dialect } from '../dialect.ts';
import { TypedErrorDialect } from '../errors.ts';
import { applyMigrations } from '../migrate.ts';
import { InProcessNotifier } from '../notifier.ts';
import type { Database } from '../schema.ts';
import { SecretBox } from '../secret-box.ts';
import { sqlStore } from '../sql-store.ts';
import { appendEventRows } from './batch-inserts.ts';
import { classifySqliteError } from './errors.ts';
import { ExclusiveHold } from './exclusive.ts';
import { LocalLeases } from './leases.ts';
import { sqliteMigrations } from './migrations.ts';
import { NodeSqliteDatabase } from './node-sqlite-driver.ts';
import { SideThread } from './side-thread.ts';
import { SideThreadDialect } from './side-thread-dialect.ts';
import { WalFile } from './wal-file.ts';

const BUSY_TIMEOUT_MS = 5000;
const SYNCHRONOUS_NORMAL = CompiledQuery.raw('pragma synchronous = normal');
const SYNCHRONOUS_FULL = CompiledQuery.raw('pragma synchronous = full');

/** Adds rows given as a JSON array of [span, bucket, name, n, last_at] to the counters. */
const ADD_TO_COUNTERS = `insert into counters (span, bucket, name, shard, n, last_at)
  select value ->> 0, value ->> 1, value ->> 2, 0, value ->> 3, value ->> 4 from json_each(?) where true
  on conflict (span, bucket, name, shard) do update set n = n + excluded.n,
    last_at = max(coalesce(last_at, excluded.last_at), coalesce(excluded.last_at, last_at))`;

class SqliteDialectOps implements Dialect {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly notifier = new InProcessNotifier();
  readonly leases: LocalLeases;
  readonly #sideThread: SideThread | null;
  readonly #wal: WalFile;

  constructor(location: string, leases: LocalLeases, sideThread: SideThread | null) {
    this.location = location;
    this.leases = leases;
    this.#sideThread = sideThread;
    this.#wal = new WalFile(location);
  }

  async migrate(db: Kysely<Database>): Promise<void> {
    await applyMigrations(db, sqliteMigrations);
  }

  eventTypesContainAny(patterns: readonly string[]): Expression<SqlBool> {
    return sql<SqlBool>`exists (select 1 from json_each(subscriptions.event_types) where json_each.value in (${sql.join(patterns)}))`;
  }

  relaxedTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    // The connection is held throughout, so nothing else commits while FULL is off.
    return db.connection().execute(async (connection) => {
      await connection.executeQuery(SYNCHRONOUS_NORMAL);
      try {
        return await connection.transaction().execute(work);
      } finally {
        await connection.executeQuery(SYNCHRONOUS_FULL);
      }
    });
  }

  async appendEvents(db: Kysely<Database>, items: readonly NewEvent[]): Promise<void> {
    // Committed as a relaxed transaction (appended to the WAL, no fsync), then the WAL file
    // is synced through the thread pool: as durable as synchronous=FULL, whose fsync would
    // hold the event loop for each commit (milliseconds on a cloud disk). A checkpoint that
    // copied these frames meanwhile synced the database file itself.
    await this.relaxedTransaction(db, async (trx) => {
      const changes = await appendEventRows(trx, items);
      await this.addToCounters(trx, changes.rows);
    });
    await this.#wal.sync();
  }

  async addToCounters(trx: Kysely<Database>, rows: readonly CounterRow[]): Promise<void> {
    if (rows.length === 0) return;
    const values = JSON.stringify(rows.map((r) => [r.span, r.bucket, r.name, r.n, r.lastAt]));
    await trx.executeQuery(CompiledQuery.raw(ADD_TO_COUNTERS, [values]));
  }

  async eraseOldVersions<T>(db: Kysely<Database>, _tables: readonly (keyof Database)[], change: () => Promise<T>): Promise<T> {
    // secure_delete zeroes what the change frees; VACUUM then rewrites the whole file (so no
    // page keeps an old row), and a truncating checkpoint copies that into the database file
    // and empties the WAL, where the pages as they were before may still be.
    await sql`pragma secure_delete = on`.execute(db);
    try {
      const result = await change();
      await sql`vacuum`.execute(db);
      await sql`pragma wal_checkpoint(truncate)`.execute(db);
      return result;
    } finally {
      await sql`pragma secure_delete = off`.execute(db);
    }
  }

  async close(): Promise<void> {
    await this.leases.close();
    await this.#sideThread?.stop();
    await this.#wal.close();
  }
}

export function openSqliteStore(file: string, secrets: SecretBox = new SecretBox()): Store {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const raw = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = FULL');
  raw.exec('PRAGMA foreign_keys = ON');
  const sideThread = file === ':memory:' ? null : new SideThread(raw, file, BUSY_TIMEOUT_MS);
  const main = new TypedErrorDialect(new SqliteDialect({ database: new NodeSqliteDatabase(raw) }), classifySqliteError);
  const db = new Kysely<Database>({ dialect: main });
  const reads = sideThread
    ? new Kysely<Database>({ dialect: new TypedErrorDialect(new SideThreadDialect(sideThread, db as Kysely<unknown>), classifySqliteError) })
    : db;
  const leases = new LocalLeases(db, file === ':memory:' ? null : new ExclusiveHold(file));
  return sqlStore({ db, reads, dialect: new SqliteDialectOps(file, leases, sideThread), secrets }, () => main.close());
}
