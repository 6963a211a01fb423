// The databases a benchmark runs on: a temporary SQLite file, or a fresh PostgreSQL database
// (hookd_bench_<random>) that is dropped afterwards. hookd creates its own schema
// (`hookd migrate`); the benchmark then writes large volumes straight into those tables
// (a million queued deliveries, a million expired ones) with set-based SQL, far faster than
// through the API. Ids are UUID-shaped and built from the row number, so no row is sent
// from here one by one.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { localPostgresServer, type PostgresServer } from './cpu.ts';
import { onCleanup, runNode } from './processes.ts';
import { REPO_ROOT } from './services.ts';

export type StoreKind = 'sqlite' | 'postgres';

/** What a seeded backlog or history consists of. */
export interface SeedPlan {
  deliveries: number;
  status: 'queued' | 'succeeded';
  /** created_at of every row; queued deliveries are also due at this time. */
  createdAt: number;
  subscriptions: number;
  /** Events are shared: delivery i belongs to event i mod events. */
  events: number;
  targetUrl: string;
  payload: Buffer;
  /** One success attempt per delivery, as finished deliveries have in real life. */
  withAttempts: boolean;
}

export interface BenchDatabase {
  kind: StoreKind;
  /** DATABASE_URL for hookd. */
  url: string;
  /** The PostgreSQL server serving it, when it runs on this machine (its CPU is measured); undefined for SQLite. */
  postgresServer: PostgresServer | undefined;
  seed(plan: SeedPlan, onProgress: (rows: number) => void): Promise<void>;
  /** Finished deliveries created before `before`: what retention still has to delete. */
  countExpired(before: number): Promise<number>;
  /** Milliseconds the claim's searches for due work take (read-only: they lock nothing). */
  probeClaim(now: number, limit: number): Promise<number>;
  /** Closes the connection and removes the file or drops the database. */
  drop(): Promise<void>;
}

const SEED_CHUNK = 100_000;
/** The 4th group of a seeded id tells which table it belongs to. */
const ID_GROUP = { subscription: 'a000', event: '9000', delivery: '8000', attempt: 'b000' } as const;
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const REQUEST_HEADERS = '{"content-type":"application/json","user-agent":"hookd-bench"}';

// The two searches of hookd's claim (src/store/queue/candidates.ts, and the dialects'
// leases.ts), run read-only beside hookd to see whether finding due work slows down as the
// queue changes. A probe, not hookd's own timing: keep it in step with the claim. Each
// dialect orders the candidates its own way, and the order matters to SQLite's planner:
// `order by coalesce(last_claimed_at, 0) limit 1`, PostgreSQL's order, takes SQLite some
// 200 ms at a million queued rows (a temporary B-tree over the EXISTS, which then no longer
// stops at the first due row), while SQLite's own round robin (`id > ? order by id limit ?`)
// takes 0.1 ms.
const ELIGIBLE = `select id from subscriptions where active = true and deleted_at is null
  and (circuit_state = 'closed' or circuit_retry_at <= ?)
  and exists (select 1 from queue where queue.subscription_id = subscriptions.id and queue.due_at <= ?)`;
const CLAIM_CANDIDATES = {
  sqlite: `${ELIGIBLE} and id > ? order by id limit 1`,
  postgres: `${ELIGIBLE} order by coalesce(last_claimed_at, 0) limit 1`,
};
const CLAIM_PICK = 'select id from queue where subscription_id = ? and due_at <= ? order by due_at limit ?';
/** What seeded rows add to hookd's totals (src/store/counters.ts), so that status counts them. */
const ADD_TO_TOTAL = `insert into counters (span, bucket, name, shard, n) values (0, 0, ?, 0, ?)
  on conflict (span, bucket, name, shard) do update set n = counters.n + excluded.n`;

/** `?` placeholders as PostgreSQL's `$1, $2, …`. */
function numbered(text: string): string {
  let i = 0;
  return text.replace(/\?/g, () => `$${++i}`);
}

export const POSTGRES_ADMIN_URL = process.env.HOOKD_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function adminQuery(text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

async function migrate(url: string): Promise<void> {
  await runNode({ name: 'hookd migrate', cwd: REPO_ROOT, args: ['src/main.ts', 'migrate'], env: { DATABASE_URL: url, LOG_LEVEL: 'warn' } });
}

function chunks(total: number, each: (from: number, to: number) => Promise<void> | void, onProgress: (rows: number) => void) {
  return (async () => {
    for (let from = 0; from < total; from += SEED_CHUNK) {
      const to = Math.min(total, from + SEED_CHUNK);
      await each(from, to);
      onProgress(to);
    }
  })();
}

class SqliteDatabase implements BenchDatabase {
  readonly kind = 'sqlite' as const;
  readonly url: string;
  readonly postgresServer = undefined;
  /** Opened when first used: most scenarios never touch the file beside hookd. */
  #db: DatabaseSync | null = null;
  readonly drop: () => Promise<void>;

  constructor(dir: string) {
    this.url = path.join(dir, 'hookd.db');
    this.drop = onCleanup(() => {
      if (this.#db?.isOpen) this.#db.close();
      rmSync(dir, { recursive: true, force: true });
    });
  }

  get #connection(): DatabaseSync {
    if (!this.#db) {
      this.#db = new DatabaseSync(this.url, { timeout: 5000 });
      this.#db.exec('PRAGMA journal_mode = WAL');
    }
    return this.#db;
  }

  static async create(withSchema: boolean): Promise<SqliteDatabase> {
    const dir = mkdtempSync(path.join(tmpdir(), 'hookd-bench-'));
    try {
      if (withSchema) await migrate(path.join(dir, 'hookd.db'));
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return new SqliteDatabase(dir);
  }

  async seed(plan: SeedPlan, onProgress: (rows: number) => void): Promise<void> {
    const id = (group: string, n: string) => `printf('00000000-0000-7000-${group}-%012x', ${n})`;
    const series = (from: number, to: number) => `with recursive n(i) as (select ${from} union all select i + 1 from n where i + 1 < ${to})`;
    const db = this.#connection;
    db.exec('begin');
    db.prepare(`${series(0, plan.subscriptions)} insert into subscriptions (id, target_url, secret, created_at, updated_at)
      select ${id(ID_GROUP.subscription, 'i')}, ?, ?, ?, ? from n`).run(plan.targetUrl, SECRET, plan.createdAt, plan.createdAt);
    db.prepare(`${series(0, plan.events)} insert into events (id, event_type, payload, created_at)
      select ${id(ID_GROUP.event, 'i')}, 'bench.seeded', ?, ? from n`).run(plan.payload, plan.createdAt);
    db.exec('commit');
    const finished = plan.status !== 'queued';
    await chunks(plan.deliveries, (from, to) => {
      db.exec('begin');
      const keys = `${id(ID_GROUP.delivery, 'i')}, ${id(ID_GROUP.event, `i % ${plan.events}`)}, ${id(ID_GROUP.subscription, `i % ${plan.subscriptions}`)}`;
      if (finished) {
        db.prepare(`${series(from, to)} insert into deliveries
          (id, event_id, subscription_id, event_type, status, attempts, last_attempt_at, created_at, updated_at)
          select ${keys}, 'bench.seeded', ?, 1, ?, ?, ? from n`).run(plan.status, plan.createdAt, plan.createdAt, plan.createdAt);
      } else {
        db.prepare(`${series(from, to)} insert into queue
          (id, event_id, subscription_id, event_type, attempts, due_at, last_attempt_at, manual_retry, created_at, updated_at)
          select ${keys}, 'bench.seeded', 0, ?, null, 0, ?, ? from n`).run(plan.createdAt, plan.createdAt, plan.createdAt);
      }
      if (plan.withAttempts) {
        db.prepare(`${series(from, to)} insert into attempts
          (id, delivery_id, subscription_id, event_type, attempt_number, outcome, status_code, duration_ms, request_headers, trigger, created_at)
          select ${id(ID_GROUP.attempt, 'i')}, ${id(ID_GROUP.delivery, 'i')}, ${id(ID_GROUP.subscription, `i % ${plan.subscriptions}`)}, 'bench.seeded',
            1, 'success', 200, 3, ?, 'scheduled', ? from n`)
          .run(REQUEST_HEADERS, plan.createdAt);
      }
      db.prepare(ADD_TO_TOTAL).run(`deliveries:${plan.status}`, to - from);
      db.exec('commit');
    }, onProgress);
  }

  async countExpired(before: number): Promise<number> {
    const row = this.#connection.prepare(`select count(*) as n from deliveries where created_at < ?`).get(before);
    return Number(row?.n ?? 0);
  }

  async probeClaim(now: number, limit: number): Promise<number> {
    const started = performance.now();
    const db = this.#connection;
    const candidate = db.prepare(CLAIM_CANDIDATES.sqlite).get(now, now, '');
    if (candidate) db.prepare(CLAIM_PICK).all(candidate.id as string, now, limit);
    return performance.now() - started;
  }
}

class PostgresDatabase implements BenchDatabase {
  readonly kind = 'postgres' as const;
  readonly url: string;
  readonly postgresServer: PostgresServer | undefined;
  readonly #client: pg.Client;
  readonly drop: () => Promise<void>;

  constructor(url: string, client: pg.Client, server: PostgresServer | null, drop: () => Promise<void>) {
    this.url = url;
    this.postgresServer = server ?? undefined;
    this.#client = client;
    this.drop = drop;
  }

  /** A new database on the server at POSTGRES_ADMIN_URL; dropped at the end of the run. */
  static async create(withSchema: boolean): Promise<PostgresDatabase> {
    const name = `hookd_bench_${randomBytes(5).toString('hex')}`;
    await adminQuery(`create database ${name}`);
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    const client = new pg.Client({ connectionString: url.toString() });
    const drop = onCleanup(async () => {
      await client.end().catch(() => {});
      await adminQuery(`drop database if exists ${name} with (force)`);
    });
    if (withSchema) await migrate(url.toString());
    await client.connect();
    const backend = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    return new PostgresDatabase(url.toString(), client, localPostgresServer(backend.rows[0]!.pid, name), drop);
  }

  /** Whether a PostgreSQL server answers at POSTGRES_ADMIN_URL. */
  static async available(): Promise<boolean> {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      return false;
    }
  }

  async seed(plan: SeedPlan, onProgress: (rows: number) => void): Promise<void> {
    const id = (group: string, n: string) => `('00000000-0000-7000-${group}-' || lpad(to_hex(${n}), 12, '0'))::uuid`;
    const client = this.#client;
    await client.query(`insert into subscriptions (id, target_url, secret, created_at, updated_at)
      select ${id(ID_GROUP.subscription, 'i')}, $1, $2, $3, $3 from generate_series(0, $4 - 1) i`,
    [plan.targetUrl, SECRET, plan.createdAt, plan.subscriptions]);
    await client.query(`insert into events (id, event_type, payload, created_at)
      select ${id(ID_GROUP.event, 'i')}, 'bench.seeded', $1, $2 from generate_series(0, $3 - 1) i`,
    [plan.payload, plan.createdAt, plan.events]);
    const finished = plan.status !== 'queued';
    await chunks(plan.deliveries, async (from, to) => {
      const keys = `${id(ID_GROUP.delivery, 'i')}, ${id(ID_GROUP.event, `i % ${plan.events}`)}, ${id(ID_GROUP.subscription, `i % ${plan.subscriptions}`)}`;
      if (finished) {
        await client.query(`insert into deliveries
          (id, event_id, subscription_id, event_type, status, attempts, last_attempt_at, created_at, updated_at)
          select ${keys}, 'bench.seeded', $1, 1, $2, $2, $2 from generate_series($3::bigint, $4::bigint - 1) i`,
        [plan.status, plan.createdAt, from, to]);
      } else {
        await client.query(`insert into queue
          (id, event_id, subscription_id, event_type, attempts, due_at, last_attempt_at, manual_retry, created_at, updated_at)
          select ${keys}, 'bench.seeded', 0, $1, null, false, $1, $1 from generate_series($2::bigint, $3::bigint - 1) i`,
        [plan.createdAt, from, to]);
      }
      if (plan.withAttempts) {
        await client.query(`insert into attempts
          (id, delivery_id, subscription_id, event_type, attempt_number, outcome, status_code, duration_ms, request_headers, trigger, created_at)
          select ${id(ID_GROUP.attempt, 'i')}, ${id(ID_GROUP.delivery, 'i')}, ${id(ID_GROUP.subscription, `i % ${plan.subscriptions}`)}, 'bench.seeded',
            1, 'success', 200, 3, $1::jsonb, 'scheduled', $2
          from generate_series($3::bigint, $4::bigint - 1) i`,
        [REQUEST_HEADERS, plan.createdAt, from, to]);
      }
      await client.query(numbered(ADD_TO_TOTAL), [`deliveries:${plan.status}`, to - from]);
    }, onProgress);
    // Rows that accumulated in production would have been vacuumed and analyzed by
    // autovacuum long since; without this, autovacuum's first pass over the million fresh
    // rows lands in the middle of the measurement.
    await client.query('vacuum analyze');
  }

  async countExpired(before: number): Promise<number> {
    const result = await this.#client.query<{ n: string }>(`select count(*) as n from deliveries where created_at < $1`, [before]);
    return Number(result.rows[0]?.n ?? 0);
  }

  async probeClaim(now: number, limit: number): Promise<number> {
    const started = performance.now();
    const candidate = await this.#client.query<{ id: string }>(numbered(CLAIM_CANDIDATES.postgres), [now, now]);
    const id = candidate.rows[0]?.id;
    if (id) await this.#client.query(numbered(CLAIM_PICK), [id, now, limit]);
    return performance.now() - started;
  }
}

/**
 * A fresh database. With `schema: 'by hookd'` it is left empty for hookd to migrate when it
 * starts (one Node start fewer), for scenarios that write nothing into it themselves.
 */
export function createDatabase(kind: StoreKind, { schema = 'now' }: { schema?: 'now' | 'by hookd' } = {}): Promise<BenchDatabase> {
  const withSchema = schema === 'now';
  return kind === 'sqlite' ? SqliteDatabase.create(withSchema) : PostgresDatabase.create(withSchema);
}

export const postgresAvailable = (): Promise<boolean> => PostgresDatabase.available();
