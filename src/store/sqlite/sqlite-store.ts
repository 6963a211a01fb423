// The embedded store: one SQLite file through node:sqlite, no other process needed.
// WAL lets readers (status, UI) run beside the writer; synchronous=FULL makes every commit
// durable before hookd answers 202, at a cost that group commit (one transaction for many
// concurrent ingests) keeps small. Claims and attempt records commit with NORMAL (see
// relaxedTransaction): in WAL mode that is still safe against a crash of hookd, and a power
// cut can at worst undo the last of them, so a delivery is sent again. WAL checkpoints and
// the read models' queries run on a worker thread (side-thread.ts).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, SqliteDialect, sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Store } from '../contracts.ts';
import type { Dialect } from '../dialect.ts';
import { TypedErrorDialect } from '../errors.ts';
import { applyMigrations } from '../migrate.ts';
import { InProcessNotifier } from '../notifier.ts';
import type { Database } from '../schema.ts';
import { SecretBox } from '../secret-box.ts';
import { TERMINAL } from '../sql-context.ts';
import { sqlStore } from '../sql-store.ts';
import { claimQuotas, writeClaimUpdates } from './claim.ts';
import { classifySqliteError } from './errors.ts';
import { sqliteMigrations } from './migrations.ts';
import { NodeSqliteDatabase } from './node-sqlite-driver.ts';
import { writeOutcomes } from './record-attempts.ts';
import { SideThread } from './side-thread.ts';
import { SideThreadDialect } from './side-thread-dialect.ts';

const BUSY_TIMEOUT_MS = 5000;

// SQLite plans without statistics, and for these two queries it would pick deliveries_status
// and read every finished (or every pending) row: 100 ms and more at a million rows, on the
// main thread, at each retention pass or idle moment. They name the partial index that
// answers them at once. (Exported for test/sqlite-plans.test.ts.)

/** Retention: old finished deliveries, through deliveries_retention. */
export function finishedBeforeQuery(before: number, limit: number): RawBuilder<{ id: string }> {
  return sql<{ id: string }>`select id from deliveries indexed by deliveries_retention
    where status in ${TERMINAL} and created_at < ${before} limit ${limit}`;
}

/** When the earliest unfinished delivery is due, through deliveries_due. */
export function earliestDueQuery(): RawBuilder<{ at: number | null }> {
  return sql<{ at: number | null }>`select min(next_attempt_at) as at from deliveries indexed by deliveries_due
    where status in ('queued', 'delivering')`;
}

class SqliteDialectOps implements Dialect {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly notifier = new InProcessNotifier();
  readonly skipLocked = false;
  readonly claimQuotas = claimQuotas;
  readonly writeClaimUpdates = writeClaimUpdates;
  readonly writeOutcomes = writeOutcomes;
  readonly #sideThread: SideThread | null;

  constructor(location: string, sideThread: SideThread | null) {
    this.location = location;
    this.#sideThread = sideThread;
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
      await sql`pragma synchronous = normal`.execute(connection);
      try {
        return await connection.transaction().execute(work);
      } finally {
        await sql`pragma synchronous = full`.execute(connection);
      }
    });
  }

  finishedBefore(before: number, limit: number): RawBuilder<{ id: string }> {
    return finishedBeforeQuery(before, limit);
  }

  async nextDueAt(db: Kysely<Database>): Promise<number | null> {
    const result = await earliestDueQuery().execute(db);
    return result.rows[0]?.at ?? null;
  }

  async close(): Promise<void> {
    await this.#sideThread?.stop();
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
  return sqlStore({ db, reads, dialect: new SqliteDialectOps(file, sideThread), secrets }, () => main.close());
}
