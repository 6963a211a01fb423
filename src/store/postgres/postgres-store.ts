// The production store: PostgreSQL through a pg pool, shared by any number of hookd
// processes. Workers claim with FOR UPDATE SKIP LOCKED, so they never wait on each other's
// rows; LISTEN/NOTIFY wakes idle workers and drops stale subscription caches at once.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import { applyMigrations } from '../migrate.ts';
import { InProcessNotifier } from '../in-process-notifier.ts';
import { toDelivery } from '../rows.ts';
import type { Database } from '../schema.ts';
import type { SecretBox } from '../secret-box.ts';
import { SqlStore, TERMINAL, type Dialect, type SqlType } from '../sql-store.ts';
import type { ClaimRequest, ClaimedDelivery, Listener, Notifier, Topic } from '../store.ts';
import type { Quota } from '../../delivery/claim-plan.ts';
import { postgresMigrations } from './migrations.ts';

const POOL_SIZE = 10;
const RECONNECT_DELAY_MS = 1000;
const TOPICS: readonly Topic[] = ['deliveries-due', 'subscription-changed'];

// BIGINT (int8) columns hold millisecond times and counts, well within 2^53: parse as numbers.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Publishes through NOTIFY and relays what other processes publish to local listeners. */
class PostgresNotifier implements Notifier {
  readonly #local = new InProcessNotifier();
  readonly #pool: pg.Pool;
  readonly #clientConfig: pg.ClientConfig;
  readonly #channelPrefix: string;
  readonly #origin = randomUUID();
  #client: pg.Client | null = null;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #wakeUpsInFlight = new Set<Topic>();
  readonly #wakeUpsPending = new Set<Topic>();

  constructor(pool: pg.Pool, clientConfig: pg.ClientConfig, schema: string | undefined) {
    this.#pool = pool;
    this.#clientConfig = clientConfig;
    this.#channelPrefix = schema ? `hookd_${schema}_` : 'hookd_';
  }

  #channel(topic: Topic): string {
    return this.#channelPrefix + topic.replace(/-/g, '_');
  }

  async start(): Promise<void> {
    const client = new pg.Client(this.#clientConfig);
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    client.on('notification', (message) => {
      const topic = TOPICS.find((t) => this.#channel(t) === message.channel);
      const [origin, payload = ''] = (message.payload ?? '').split('|', 2) as [string, string?];
      if (topic && origin !== this.#origin) this.#local.publish(topic, payload);
    });
    try {
      await client.connect();
      for (const topic of TOPICS) await client.query(`LISTEN "${this.#channel(topic)}"`);
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) await client.end().catch(() => {});
    else this.#client = client;
  }

  #reconnect(client: pg.Client): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => {});
    this.#retryLater();
  }

  /**
   * Until LISTEN is back, workers still poll and caches still expire by TTL. Every failed
   * attempt schedules the next, however long the database stays away; once back, local
   * workers look for due work at once, as notifications sent meanwhile were lost.
   */
  #retryLater(): void {
    this.#retry = setTimeout(() => {
      this.start().then(() => this.#local.publish('deliveries-due', ''), () => this.#retryLater());
    }, RECONNECT_DELAY_MS);
    this.#retry.unref();
  }

  publish(topic: Topic, payload: string): void {
    this.#local.publish(topic, payload);
    if (payload === '') this.#wakeUpOthers(topic);
    else this.#notify(topic, payload);
  }

  /**
   * A wake-up without payload only says "look again": while one is on its way, any number
   * published meanwhile become one more, sent after it. Under load that is one NOTIFY per
   * round trip instead of one per commit.
   */
  #wakeUpOthers(topic: Topic): void {
    if (this.#wakeUpsInFlight.has(topic)) {
      this.#wakeUpsPending.add(topic);
      return;
    }
    this.#wakeUpsInFlight.add(topic);
    this.#notify(topic, '').finally(() => {
      this.#wakeUpsInFlight.delete(topic);
      if (this.#wakeUpsPending.delete(topic) && !this.#closed) this.#wakeUpOthers(topic);
    });
  }

  #notify(topic: Topic, payload: string): Promise<unknown> {
    return this.#pool.query('select pg_notify($1, $2)', [this.#channel(topic), `${this.#origin}|${payload}`]).catch(() => {
      // Best effort: other processes fall back to polling and cache TTLs.
    });
  }

  subscribe(topic: Topic, listener: Listener): () => void {
    return this.#local.subscribe(topic, listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }
}

class PostgresDialectOps implements Dialect {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly notifier: PostgresNotifier;
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

  readonly skipLocked = true;

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

  typed(value: unknown, type: SqlType): RawBuilder<unknown> {
    return sql`${value}::${sql.raw(type)}`;
  }

  async claimQuotas(trx: Kysely<Database>, quotas: readonly Quota[], request: ClaimRequest): Promise<ClaimedDelivery[]> {
    const { now, leaseToken, leaseExpiresAt } = request;
    const values = sql.join(quotas.map((q) => sql`(${q.subscriptionId}::uuid, ${q.count}::int, ${q.fifo}::boolean)`));
    // (The picked ids go in as an array: joined as a relation, the planner hash-joins them
    // to a sequential scan of deliveries, 350 ms a claim at a million rows instead of 2.)
    // Parallel subscriptions take their earliest due rows, skipping rows another worker
    // holds; a FIFO subscription takes its head in ingestion order, and only if it is due
    // (the subscription row, locked by the caller, keeps FIFO claimers apart).
    const claimed = await sql<Record<string, unknown>>`
      with quota (subscription_id, k, fifo) as (values ${values}),
      picked as (
        select p.id from quota q cross join lateral (
          select d.id from deliveries d
          where d.subscription_id = q.subscription_id and d.status in ('queued', 'delivering')
            and d.next_attempt_at <= ${now} and not q.fifo
          order by d.next_attempt_at limit q.k
          for update of d skip locked) p
        union all
        select h.id from quota q cross join lateral (
          select d.id, d.next_attempt_at from deliveries d
          where d.subscription_id = q.subscription_id and d.status in ('queued', 'delivering') and q.fifo
          order by d.id limit 1) h
        where h.next_attempt_at <= ${now})
      update deliveries d set status = 'delivering', lease_token = ${leaseToken},
        next_attempt_at = ${leaseExpiresAt}, updated_at = ${now}
      from events e
      where d.id = any (array(select id from picked)) and e.id = d.event_id
      returning d.*, e.payload`.execute(trx);
    return claimed.rows.map((row) => ({ delivery: toDelivery(row), payload: row.payload as Uint8Array, leaseToken }));
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

export async function openPostgresStore(options: PostgresOptions): Promise<SqlStore> {
  const { url, schema, secrets } = options;
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new SqlStore(db, new PostgresDialectOps(describe(url, schema), notifier, schema), secrets);
}
