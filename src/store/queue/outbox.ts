// The rows of the transactional outbox: an event, its deliveries and its idempotency key,
// written in the caller's transaction; and an operational notice with its own delivery.
import type { Kysely } from 'kysely';
import type { NewEvent, OperationalNotice } from '../../domain/index.ts';
import { fromDelivery, fromOperationalEvent } from '../rows.ts';
import type { Database } from '../schema.ts';

/** Deliveries per INSERT: one statement stays within SQLite's bound-parameter limit. */
const DELIVERIES_PER_STATEMENT = 500;

export async function insertEventRows(trx: Kysely<Database>, items: readonly NewEvent[]): Promise<void> {
  await trx.insertInto('events').values(items.map(({ event }) => ({
    id: event.id, event_type: event.eventType, payload: event.payload, created_at: event.createdAt,
  }))).execute();
  const deliveries = items.flatMap((item) => item.deliveries.map(fromDelivery));
  for (let i = 0; i < deliveries.length; i += DELIVERIES_PER_STATEMENT) {
    await trx.insertInto('deliveries').values(deliveries.slice(i, i + DELIVERIES_PER_STATEMENT)).execute();
  }
  const keys = items.flatMap((item) => (item.idempotency ? [item.idempotency] : []));
  if (keys.length > 0) {
    await trx.insertInto('idempotency_keys').values(keys.map((k) => ({
      scope: k.scope, key: k.key, request_hash: k.requestHash, response: k.response, created_at: k.createdAt,
    }))).execute();
  }
}

export async function insertNotice(trx: Kysely<Database>, notice: OperationalNotice): Promise<void> {
  await trx.insertInto('operational_events').values(fromOperationalEvent(notice.event)).execute();
  if (notice.delivery) await insertEventRows(trx, [notice.delivery]);
}

/** Whether committing these items made deliveries due. */
export function queuesWork(items: readonly NewEvent[]): boolean {
  return items.some((item) => item.deliveries.some((d) => d.status === 'queued'));
}
