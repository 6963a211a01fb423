// What differs between SQLite and PostgreSQL, as the role implementations above need it.
// Everything else is written once over Kysely. The biggest difference is the queue's
// leases (LeaseKeeper): SQLite has one process, which keeps them in memory; PostgreSQL has
// any number, which write them into the queue rows.
import type { Expression, Kysely, SqlBool } from 'kysely';
import type { NewEvent } from '../domain/index.ts';
import type { AttemptResult, ClaimRequest, ClaimedDelivery, Lease, StoreKind } from './contracts.ts';
import type { CounterRow } from './counters.ts';
import type { Notifier } from './notifier.ts';
import type { Database } from './schema.ts';

/** A queue row as the database returns it. */
export type QueueRecord = Record<string, unknown>;

/**
 * The leases of the queue: who is sending what. Each dialect claims, fences outcomes and
 * releases in its own way, and tells the readers which queue rows are being sent.
 */
export interface LeaseKeeper {
  /** See Queue.join. */
  join(): Promise<void>;
  /**
   * Leases up to `limit` due deliveries, shared fairly between subscriptions within their
   * caps, rate limits and circuits (queue/claim-plan.ts), with their payloads.
   */
  claim(request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /**
   * In the caller's transaction, for each result whose lease still holds: records its
   * attempt, and takes its delivery out of the queue into the delivery log (finished) or
   * reschedules it (queued again). Returns the queue rows of the results written, by index;
   * results whose lease was lost are left out, and change nothing.
   */
  record(trx: Kysely<Database>, results: readonly AttemptResult[]): Promise<Map<number, QueueRecord>>;
  /** After the settling transaction committed (or failed): the attempts are over, their slots free. */
  ended(results: readonly AttemptResult[]): void;
  /** Gives these leases up, their deliveries due at `now`; returns how many were held. */
  release(leases: readonly Lease[], now: number): Promise<number>;
  /** A condition on `queue` rows: true for those being sent now (a lease that holds). */
  leasedRows(now: number): Expression<SqlBool>;
  /** How many deliveries are being sent now, by every process. */
  inFlight(now: number): Promise<number>;
  /** When the earliest delivery that may be sent (not leased, its subscription active, its circuit not open) is due. */
  nextDueAt(now: number): Promise<number | null>;
  close(): Promise<void>;
}

export interface Dialect {
  readonly kind: StoreKind;
  readonly location: string;
  readonly notifier: Notifier;
  readonly leases: LeaseKeeper;
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
   * The transactional outbox: writes the events with their deliveries, idempotency keys and
   * counters, all or nothing, and resolves once that is on disk (the API answers 202 then).
   */
  appendEvents(db: Kysely<Database>, items: readonly NewEvent[]): Promise<void>;
  /** Adds these changes to the counters (store/counters.ts), in the caller's transaction. */
  addToCounters(trx: Kysely<Database>, rows: readonly CounterRow[]): Promise<void>;
  /**
   * Runs `change`, which rewrites rows of `tables` (sealing secrets stored in plain text), then
   * erases the old versions of those rows the database still keeps in its files: freed SQLite
   * pages and WAL frames, dead PostgreSQL tuples. Older backups and WAL archives keep them.
   */
  eraseOldVersions<T>(db: Kysely<Database>, tables: readonly (keyof Database)[], change: () => Promise<T>): Promise<T>;
  /** Releases what the dialect holds besides the Kysely connection (listeners, timers, locks). */
  close(): Promise<void>;
}
