// The hot path's inserts on SQLite, each a fixed text prepared once and reused. A batch's rows
// travel as one JSON array of arrays that `json_each` unpacks, so every batch size runs the
// same statement; Kysely's multi-row VALUES is a new text, built and prepared, for each size
// (and churned the driver's statement cache). Events go one row per call instead, their
// payloads bound as blobs: through JSON they would be copied twice, as hex.
import { CompiledQuery, type Kysely } from 'kysely';
import type { NewEvent } from '../../domain/index.ts';
import type { CounterChanges } from '../counters.ts';
import { outboxRows } from '../queue/outbox.ts';
import type { Database } from '../schema.ts';

type Row = Readonly<Record<string, unknown>>;

/** An insert of whole rows, in the given columns, from one JSON array. */
function jsonInsert(table: keyof Database, columns: readonly string[]) {
  const text = `insert into ${table} (${columns.join(', ')}) select ${columns.map((_, i) => `value ->> ${i}`).join(', ')} from json_each(?)`;
  return async (trx: Kysely<Database>, rows: readonly Row[]): Promise<void> => {
    if (rows.length === 0) return;
    const values = JSON.stringify(rows.map((row) => columns.map((column) => row[column] ?? null)));
    await trx.executeQuery(CompiledQuery.raw(text, [values]));
  };
}

export const insertQueueRows = jsonInsert('queue',
  ['id', 'event_id', 'subscription_id', 'event_type', 'attempts', 'due_at', 'last_attempt_at', 'manual_retry', 'created_at', 'updated_at']);

export const insertDeliveryRows = jsonInsert('deliveries',
  ['id', 'event_id', 'subscription_id', 'event_type', 'status', 'attempts', 'last_attempt_at', 'created_at', 'updated_at']);

export const insertAttemptRows = jsonInsert('attempts',
  ['id', 'delivery_id', 'subscription_id', 'event_type', 'attempt_number', 'outcome', 'status_code', 'error_details',
    'duration_ms', 'response_body', 'request_headers', 'trigger', 'created_at']);

const insertKeyRows = jsonInsert('idempotency_keys', ['scope', 'key', 'request_hash', 'response', 'created_at']);

const INSERT_EVENT = `insert into events (id, application_id, event_type, payload, created_at, traceparent, tracestate)
  values (?, ?, ?, ?, ?, ?, ?)`;

/** The outbox write on SQLite: the events, their deliveries and keys; returns the counter changes they make. */
export async function appendEventRows(trx: Kysely<Database>, items: readonly NewEvent[]): Promise<CounterChanges> {
  for (const { event } of items) {
    await trx.executeQuery(CompiledQuery.raw(INSERT_EVENT, [
      event.id, event.applicationId, event.eventType, event.payload, event.createdAt, event.trace?.traceparent ?? null, event.trace?.tracestate ?? null,
    ]));
  }
  const { queued, finished, keys, changes } = outboxRows(items);
  await insertQueueRows(trx, queued);
  await insertDeliveryRows(trx, finished);
  await insertKeyRows(trx, keys);
  return changes;
}
