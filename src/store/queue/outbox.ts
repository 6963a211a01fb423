// The rows of the transactional outbox, written in the caller's transaction: each event, its
// deliveries (queued ones into the queue, filtered ones straight into the delivery log), its
// idempotency key, and the counters they change; and an operational notice with its own
// delivery.
import type { Kysely } from 'kysely';
import type { NewEvent, OperationalNotice } from '../../domain/index.ts';
import { CounterChanges, counterName } from '../counters.ts';
import { finishedRow, fromOperationalEvent, queueRow } from '../rows.ts';
import type { Database } from '../schema.ts';

/** Rows per INSERT: one statement stays within SQLite's bound-parameter limit. */
const ROWS_PER_STATEMENT = 500;

async function insertChunked(trx: Kysely<Database>, table: 'queue' | 'deliveries', rows: readonly object[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    await trx.insertInto(table).values(rows.slice(i, i + ROWS_PER_STATEMENT) as never).execute();
  }
}

/** The rows an outbox write inserts, and the counter changes they make. */
export function outboxRows(items: readonly NewEvent[], changes = new CounterChanges()) {
  const deliveries = items.flatMap((item) => item.deliveries);
  const queued = deliveries.filter((d) => d.status === 'queued' || d.status === 'delivering');
  const finished = deliveries.filter((d) => d.status !== 'queued' && d.status !== 'delivering');
  const keys = items.flatMap((item) => (item.idempotency ? [item.idempotency] : []));
  for (const d of deliveries) {
    changes.moved(null, d.status);
    changes.timed(counterName.created, d.createdAt);
  }
  const keyRows = keys.map((k) => ({ scope: k.scope, key: k.key, request_hash: k.requestHash, response: k.response, created_at: k.createdAt }));
  return { queued: queued.map(queueRow), finished: finished.map(finishedRow), keys: keyRows, changes };
}

/** Inserts the events with their deliveries and keys; returns the counter changes they make. */
export async function insertEventRows(trx: Kysely<Database>, items: readonly NewEvent[], changes = new CounterChanges()): Promise<CounterChanges> {
  await trx.insertInto('events').values(items.map(({ event }) => ({
    id: event.id, application_id: event.applicationId, event_type: event.eventType, payload: event.payload, created_at: event.createdAt,
    traceparent: event.trace?.traceparent ?? null, tracestate: event.trace?.tracestate ?? null,
  }))).execute();
  const rows = outboxRows(items, changes);
  if (rows.queued.length > 0) await insertChunked(trx, 'queue', rows.queued);
  if (rows.finished.length > 0) await insertChunked(trx, 'deliveries', rows.finished);
  if (rows.keys.length > 0) await trx.insertInto('idempotency_keys').values(rows.keys).execute();
  return changes;
}

export async function insertNotice(trx: Kysely<Database>, notice: OperationalNotice, changes: CounterChanges): Promise<void> {
  await trx.insertInto('operational_events').values(fromOperationalEvent(notice.event)).execute();
  if (notice.delivery) await insertEventRows(trx, [notice.delivery], changes);
}

/** Whether committing these items made deliveries due. */
export function queuesWork(items: readonly NewEvent[]): boolean {
  return items.some((item) => item.deliveries.some((d) => d.status === 'queued'));
}
