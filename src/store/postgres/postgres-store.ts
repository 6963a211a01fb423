// The production store: PostgreSQL through a pg pool, shared by any number of hookd
// processes. Workers claim with FOR UPDATE SKIP LOCKED, so they never wait on each other's
// rows; LISTEN/NOTIFY wakes idle workers and drops stale subscription caches at once.
import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, sql, type Expression, type SqlBool } from 'kysely';
import type { NewEvent } from '../../domain/index.ts';
import type { Store } from '../contracts.ts';
import type { CounterRow } from '../counters.ts';
import type { Dialect } from '../dialect.ts';
import { TypedErrorDialect } from '../errors.ts';
import { applyMigrations } from '../migrate.ts';
import type { Database } from '../schema.ts';
import { SecretBox } from '../secret-box.ts';
import { sqlStore } from '../sql-store.ts';
import { classifyPostgresError } from './errors.ts';
import { postgresMigrations } from './migrations.ts';
import { PostgresNotifier } from './notifier.ts';
import { WorkerLeases } from './leases.ts';
import { appendEvents, counterShard } from './outbox.ts';
import { Presence, lockNamespace } from './presence.ts';

const POOL_SIZE = 10;
/** How long a pooled session may sit in an open transaction before PostgreSQL ends it. */
const IDLE_IN_TRANSACTION_MS = 10_000;
/** How long erasing old row versions waits for transactions that might still see them. */
const ERASE_WAIT_MS = 30_000;

// BIGINT (int8) columns hold millisecond times and counts, well within 2^53: parse as numbers.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

// $1 spans, $2 buckets, $3 names, $4 counts, $5 latest times, $6 shard. Rows come sorted, so
// two transactions adding to the same counters lock them in the same order.
const ADD_TO_COUNTERS = `
  insert into counters (span, bucket, name, shard, n, last_at)
  select span, bucket, name, $6, n, last_at from unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[])
    as v (span, bucket, name, n, last_at)
  on conflict (span, bucket, name, shard) do update set n = counters.n + excluded.n, last_at = greatest(counters.last_at, excluded.last_at)`;

class PostgresDialectOps implements Dialect {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly notifier: PostgresNotifier;
  readonly leases: WorkerLeases;
  readonly #schema: string | undefined;

  constructor(location: string, notifier: PostgresNotifier, schema: string | undefined, db: Kysely<Database>, presence: Presence) {
    this.location = location;
    this.notifier = notifier;
    this.#schema = schema;
    this.leases = new WorkerLeases(db, presence, (on, work) => this.relaxedTransaction(on, work));
  }

  async migrate(db: Kysely<Database>): Promise<void> {
    // Processes starting together against a new database (or schema) take turns: one session
    // lock around creating the schema and migrating, so none sees the other's work half done.
    await db.connection().execute(async (connection) => {
      await sql`select pg_advisory_lock(hashtext('hookd.migrate'))`.execute(connection);
      try {
        if (this.#schema) await sql`create schema if not exists ${sql.id(this.#schema)}`.execute(connection);
        // Named explicitly (the current schema when none is given), so hookd tables in another
        // schema of the same database are never mistaken for these.
        const schema = this.#schema ?? (await sql<{ schema: string }>`select current_schema() as schema`.execute(connection)).rows[0]?.schema;
        await applyMigrations(connection, postgresMigrations, schema);
      } finally {
        await sql`select pg_advisory_unlock(hashtext('hookd.migrate'))`.execute(connection);
      }
    });
  }

  eventTypesContainAny(patterns: readonly string[]): Expression<SqlBool> {
    return sql<SqlBool>`subscriptions.event_types ?| ${sql.val([...patterns])}::text[]`;
  }


  relaxedTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    // Asynchronous commit: no WAL flush wait. A server crash may lose the last few hundred
    // milliseconds of claims and attempt records (deliveries are then sent again), never data
    // integrity; ingestion keeps synchronous commits. The setting travels with the COMMIT in
    // one simple-protocol message: a round trip less than Kysely's transaction plus a SET.
    return db.connection().execute(async (connection) => {
      await sql`begin`.execute(connection);
      let result: T;
      try {
        result = await work(connection);
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => {});
        throw error;
      }
      await sql.raw('set local synchronous_commit = off; commit').execute(connection);
      return result;
    });
  }

  appendEvents(db: Kysely<Database>, items: readonly NewEvent[]): Promise<void> {
    return appendEvents(db, items);
  }

  async addToCounters(trx: Kysely<Database>, rows: readonly CounterRow[]): Promise<void> {
    if (rows.length === 0) return;
    const sorted = [...rows].sort((x, y) => x.span - y.span || x.bucket - y.bucket || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    await trx.executeQuery(CompiledQuery.raw(ADD_TO_COUNTERS, [
      sorted.map((r) => r.span), sorted.map((r) => r.bucket), sorted.map((r) => r.name), sorted.map((r) => r.n), sorted.map((r) => r.lastAt),
      counterShard('other'),
    ]));
  }

  async eraseOldVersions<T>(db: Kysely<Database>, tables: readonly (keyof Database)[], change: () => Promise<T>): Promise<T> {
    const result = await change();
    // After the change committed (VACUUM cannot run in a transaction): VACUUM FULL writes the
    // live rows into new files and drops the old ones with every dead version in them. It must
    // keep the versions another session's snapshot may still see, so it waits (a while, not
    // forever) until no session's xmin precedes the transactions begun by the change's commit.
    // Time alone does not tell: a transaction begun after the commit can hold an older xmin
    // (its snapshot saw an older transaction still running), and keeps the versions too.
    const next = (await sql<{ xid: string }>`select (pg_snapshot_xmax(pg_current_snapshot())::text::bigint % 4294967296)::text as xid`.execute(db)).rows[0]!.xid;
    const deadline = Date.now() + ERASE_WAIT_MS;
    while (Date.now() < deadline) {
      const older = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and backend_xmin is not null
          and age(backend_xmin) > age(${next}::xid)`.execute(db);
      if (older.rows[0]!.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const table of tables) await sql`vacuum full ${sql.table(table)}`.execute(db);
    return result;
  }

  async close(): Promise<void> {
    await this.leases.close();
    await this.notifier.close();
  }
}

function describe(url: string, schema: string | undefined): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString().replace(/:@/, '@') + (schema ? ` (schema ${schema})` : '');
}

export interface PostgresOptions {
  url: string;
  /** Keeps all tables in this schema (created if missing); tests give each file its own. */
  schema?: string;
  secrets?: SecretBox;
}

export async function openPostgresStore(options: PostgresOptions): Promise<Store> {
  const { url, schema, secrets = new SecretBox() } = options;
  if (schema && !/^[a-z_][a-z0-9_]{0,40}$/.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  const clientConfig: pg.ClientConfig = {
    connectionString: url,
    types,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  };
  // A process stopped mid-transaction (SIGSTOP, a frozen VM, a debugger) would keep the rows
  // it locked, a claim's subscription rows among them, and every other worker would skip that
  // subscription for as long as the stall lasts. PostgreSQL ends such a session instead; hookd's
  // transactions never wait on anything but their own statements, so they are never idle that long.
  const pool = new pg.Pool({ ...clientConfig, max: POOL_SIZE, idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  pool.on('connect', (client) => {
    // The pool listens for errors only on idle clients. A connection lost while checked out
    // (between the statements of a transaction, e.g. when PostgreSQL restarts) would emit an
    // unhandled 'error' and crash the process; instead its next statement fails, and the
    // pool discards the client when it is released.
    client.on('error', () => {});
  });
  const notifier = new PostgresNotifier(pool, clientConfig, schema);
  // Workers of one schema see each other's presence, and only theirs: the schema named here,
  // or the one the connection settings make current (a search_path in the URL).
  let current: string;
  try {
    await notifier.start();
    current = schema ?? (await pool.query<{ schema: string | null }>('select current_schema() as schema')).rows[0]?.schema ?? 'public';
  } catch (error) {
    await notifier.close();
    await pool.end();
    throw error;
  }
  const dialect = new TypedErrorDialect(new PostgresDialect({ pool }), classifyPostgresError);
  const db = new Kysely<Database>({ dialect });
  const presence = new Presence(clientConfig, lockNamespace(current));
  const ops = new PostgresDialectOps(describe(url, schema), notifier, schema, db, presence);
  return sqlStore({ db, reads: db, dialect: ops, secrets }, () => dialect.close());
}
