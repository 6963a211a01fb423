// What every role implementation works with: the Kysely handles, the dialect, the secret box;
// and the few SQL fragments and helpers they share.
import { sql, type Kysely } from 'kysely';
import type { DeliveryStatus } from '../domain/index.ts';
import type { Page } from './contracts.ts';
import type { Dialect } from './dialect.ts';
import type { Database } from './schema.ts';
import type { SecretBox } from './secret-box.ts';

export interface SqlContext {
  readonly db: Kysely<Database>;
  /**
   * Where the read models' queries run (counts, statistics, lists): on SQLite a connection
   * in a worker thread, so that scanning a million rows does not stall the event loop; on
   * PostgreSQL the pool, as everything else.
   */
  readonly reads: Kysely<Database>;
  readonly dialect: Dialect;
  /** Seals subscription secrets at rest; without a key they are stored as given. */
  readonly secrets: SecretBox;
}

// Status lists written as SQL literals, not bound parameters: SQLite uses a partial index
// only when the query's WHERE visibly implies the index's, which a parameter cannot.
export const PENDING = sql<DeliveryStatus>`('queued', 'delivering')`;
export const TERMINAL = sql<DeliveryStatus>`('succeeded', 'failed', 'filtered', 'cancelled')`;

/** A page of `limit` rows from a query that read `limit + 1`. */
export function page<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, nextAfter: more ? items[items.length - 1]!.id : null };
}
