// A worker process's presence on PostgreSQL: a session advisory lock, held on a connection
// of its own for as long as the process lives. When the process dies (kill -9 included) or
// loses its connection, PostgreSQL drops the lock at once, and every other worker sees that
// its leases and its in-flight slots no longer count: its deliveries are claimed again
// within a claim or two, not after the lease time. The two-key lock form keeps workers of
// different schemas (hookd deployments sharing a database) apart.
import { randomInt } from 'node:crypto';
import pg from 'pg';
import { sql, type RawBuilder } from 'kysely';

const RECONNECT_DELAY_MS = 500;

/** The lock namespace of one schema: a non-negative 31-bit hash of its name. */
export function lockNamespace(schema: string): number {
  let hash = 0x811c9dc5;
  for (const char of `hookd.worker:${schema}`) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash & 0x7fffffff;
}

/** The ids of the live workers of a namespace, as a subquery. */
export function liveWorkers(namespace: number): RawBuilder<{ id: number }> {
  return sql<{ id: number }>`select objid::bigint::int as id from pg_locks
    where locktype = 'advisory' and classid::bigint = ${namespace} and objsubid = 2 and granted`;
}

export class Presence {
  readonly #clientConfig: pg.ClientConfig;
  readonly #namespace: number;
  #client: pg.Client | null = null;
  #id: number | null = null;
  #joining: Promise<number> | null = null;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(clientConfig: pg.ClientConfig, namespace: number) {
    this.#clientConfig = clientConfig;
    this.#namespace = namespace;
  }

  get namespace(): number {
    return this.#namespace;
  }

  /** This process's worker id, taking one (and its lock) on first use. */
  join(): Promise<number> {
    if (this.#id !== null && this.#client) return Promise.resolve(this.#id);
    this.#joining ??= this.#connect().finally(() => {
      this.#joining = null;
    });
    return this.#joining;
  }

  async #connect(): Promise<number> {
    const client = new pg.Client(this.#clientConfig);
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      // Keep the id across reconnections: leases written under it count again once it is back.
      for (let tries = 0; ; tries++) {
        const id = this.#id ?? randomInt(1, 2 ** 31 - 1);
        const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::int, $2::int) as locked', [this.#namespace, id]);
        if (rows[0]?.locked) {
          this.#id = id;
          break;
        }
        this.#id = null;
        if (tries > 10) throw new Error('no free worker id');
      }
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      throw new Error('the store is closed');
    }
    this.#client = client;
    return this.#id!;
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => {});
    this.#rejoinLater();
  }

  /** Until the lock is back, other workers may take this one's deliveries; its late results are then refused. */
  #rejoinLater(): void {
    if (this.#closed) return;
    this.#retry = setTimeout(() => this.join().catch(() => this.#rejoinLater()), RECONNECT_DELAY_MS);
    this.#retry.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }
}
