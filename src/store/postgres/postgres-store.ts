// The production store: PostgreSQL through a pg pool, shared by any number of hookd
// processes. Workers claim with FOR UPDATE SKIP LOCKED, so they never wait on each other's
// rows; LISTEN/NOTIFY wakes idle workers and drops stale subscription caches at once.
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Store } from '../contracts.ts';
import type { Dialect } from '../dialect.ts';
import { TypedErrorDialect } from '../errors.ts';
import { applyMigrations } from '../migrate.ts';
import type { Database } from '../schema.ts';
import { SecretBox } from '../secret-box.ts';
import { TERMINAL } from '../sql-context.ts';
import { sqlStore } from '../sql-store.ts';
import { claimQuotas, writeClaimUpdates } from './claim.ts';
import { classifyPostgresError } from './errors.ts';
import { postgresMigrations } from './migrations.ts';
import { PostgresNotifier } from './notifier.ts';
import { writeOutcomes } from './record-attempts.ts';

const POOL_SIZE = 10;

// BIGINT (int8) columns hold millisecond times and counts, well within 2^53: parse as numbers.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

class PostgresDialectOps implements Dialect {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly notifier: PostgresNotifier;
  readonly skipLocked = true;
  readonly claimQuotas = claimQuotas;
  readonly writeClaimUpdates = writeClaimUpdates;
  readonly writeOutcomes = writeOutcomes;
  readonly #schema: string | undefined;

  constructor(location: string, notifier: PostgresNotifier, schema: string | undefined) {
    this.location = location;
    this.notifier = notifier;
    this.#schema = schema;
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

  finishedBefore(before: number, limit: number): RawBuilder<{ id: string }> {
    return sql<{ id: string }>`select id from deliveries where status in ${TERMINAL} and created_at < ${before} limit ${limit}`;
  }

  async nextDueAt(db: Kysely<Database>): Promise<number | null> {
    const result = await sql<{ at: number | null }>`
      select min(next_attempt_at) as at from deliveries where status in ('queued', 'delivering')`.execute(db);
    return result.rows[0]?.at ?? null;
  }

  close(): Promise<void> {
    return this.notifier.close();
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
  const pool = new pg.Pool({ ...clientConfig, max: POOL_SIZE });
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
  try {
    await notifier.start();
  } catch (error) {
    await pool.end();
    throw error;
  }
  const dialect = new TypedErrorDialect(new PostgresDialect({ pool }), classifyPostgresError);
  const db = new Kysely<Database>({ dialect });
  return sqlStore({ db, reads: db, dialect: new PostgresDialectOps(describe(url, schema), notifier, schema), secrets }, () => dialect.close());
}
