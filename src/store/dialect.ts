// What differs between SQLite and PostgreSQL, as the role implementations above need it.
// Everything else is written once over Kysely. The queue's hot statements (claiming, writing
// outcomes) are small named units in sqlite/ and postgres/, reached through here.
import type { Expression, Kysely, RawBuilder, SqlBool } from 'kysely';
import type { ClaimRequest, ClaimedDelivery, StoreKind } from './contracts.ts';
import type { Notifier } from './notifier.ts';
import type { CandidateUpdate, Quota } from './queue/claim-plan.ts';
import type { Database } from './schema.ts';

/** One attempt's outcome as the delivery row takes it, fenced by its lease. */
export interface OutcomeRow {
  deliveryId: string;
  leaseToken: string;
  status: string;
  nextAttemptAt: number | null;
  attemptedAt: number;
}

export interface Dialect {
  readonly kind: StoreKind;
  readonly location: string;
  readonly notifier: Notifier;
  migrate(db: Kysely<Database>): Promise<void>;
  /** True when subscriptions.event_types holds any of the patterns. */
  eventTypesContainAny(patterns: readonly string[]): Expression<SqlBool>;
  /**
   * Runs a transaction whose commit need not reach the disk before it returns: claims and
   * attempt records. Losing the last of them to a power cut only makes deliveries be sent
   * again (at-least-once), never loses an event; ingestion commits stay fully durable.
   */
  relaxedTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Ids of at most `limit` finished deliveries created before `before`, for retention: found
   * through the partial index deliveries_retention, however many finished rows are newer.
   */
  finishedBefore(before: number, limit: number): RawBuilder<{ id: string }>;
  /** When the earliest unfinished delivery is due (an index lookup, however long the queue). */
  nextDueAt(db: Kysely<Database>): Promise<number | null>;
  /** Whether candidate rows can be locked with FOR UPDATE SKIP LOCKED (several claimers at once). */
  readonly skipLocked: boolean;
  /** Leases up to each quota's count of due deliveries of its subscription (FIFO: the head only, if due). */
  claimQuotas(trx: Kysely<Database>, quotas: readonly Quota[], request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /** The claimed subscriptions' new state, in one statement: served now, tokens spent, probe out. */
  writeClaimUpdates(trx: Kysely<Database>, updates: readonly CandidateUpdate[]): Promise<void>;
  /**
   * Writes outcomes to their delivery rows, each only while its lease holds; returns the ids
   * written. Each delivery appears at most once in `rows`.
   */
  writeOutcomes(trx: Kysely<Database>, rows: readonly OutcomeRow[]): Promise<Set<string>>;
  /** Releases what the dialect holds besides the Kysely connection (listeners, timers). */
  close(): Promise<void>;
}
