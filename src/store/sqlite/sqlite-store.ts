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
import { applyMigrations } from '../migrate.ts';
import { InProcessNotifier } from '../in-process-notifier.ts';
import { toDelivery } from '../rows.ts';
import type { Database } from '../schema.ts';
import type { SecretBox } from '../secret-box.ts';
import { SqlStore, TERMINAL, type Dialect } from '../sql-store.ts';
import type { ClaimRequest, ClaimedDelivery } from '../store.ts';
import type { Quota } from '../../delivery/claim-plan.ts';
import { SideThread } from './side-thread.ts';
import { SideThreadDialect } from './side-thread-dialect.ts';
import { NodeSqliteDatabase } from './node-sqlite-driver.ts';
import { sqliteMigrations } from './migrations.ts';

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

  readonly skipLocked = false;

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

  typed(value: unknown): RawBuilder<unknown> {
    return sql`${value}`;
  }

  async claimQuotas(trx: Kysely<Database>, quotas: readonly Quota[], request: ClaimRequest): Promise<ClaimedDelivery[]> {
    const { now, leaseToken, leaseExpiresAt } = request;
    const rows: Record<string, unknown>[] = [];
    // SQLite has one writer at a time: the claim transaction already excludes other claimers.
    for (const quota of quotas) {
      const pick = quota.fifo
        ? sql`select id from deliveries where subscription_id = ${quota.subscriptionId} and status in ('queued', 'delivering')
              order by id limit 1`
        : sql`select id from deliveries where subscription_id = ${quota.subscriptionId} and status in ('queued', 'delivering')
              and next_attempt_at <= ${now} order by next_attempt_at limit ${quota.count}`;
      const claimed = await sql<Record<string, unknown>>`
        update deliveries set status = 'delivering', lease_token = ${leaseToken},
          next_attempt_at = ${leaseExpiresAt}, updated_at = ${now}
        where id in (${pick}) and next_attempt_at <= ${now}
        returning *`.execute(trx);
      rows.push(...claimed.rows);
    }
    if (rows.length === 0) return [];
    const eventIds = [...new Set(rows.map((row) => row.event_id as string))];
    const events = await trx.selectFrom('events').select(['id', 'payload']).where('id', 'in', eventIds).execute();
    const payloads = new Map(events.map((e) => [e.id, e.payload]));
    return rows.map((row) => ({ delivery: toDelivery(row), payload: payloads.get(row.event_id as string)!, leaseToken }));
  }

  async close(): Promise<void> {
    await this.#sideThread?.stop();
  }
}

export function openSqliteStore(file: string, secrets?: SecretBox): SqlStore {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const raw = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = FULL');
  raw.exec('PRAGMA foreign_keys = ON');
  const sideThread = file === ':memory:' ? null : new SideThread(raw, file, BUSY_TIMEOUT_MS);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new NodeSqliteDatabase(raw) }) });
  const reads = sideThread ? new Kysely<Database>({ dialect: new SideThreadDialect(sideThread, db as Kysely<unknown>) }) : db;
  return new SqlStore(db, new SqliteDialectOps(file, sideThread), secrets, reads);
}
