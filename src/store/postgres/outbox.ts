// The transactional outbox on PostgreSQL in one statement: events, their deliveries (queued,
// or filtered straight into the delivery log), idempotency keys and the counters they change, as data-modifying CTEs over
// array parameters. One statement is one transaction (no BEGIN and COMMIT round trips), and
// its commit waits for the WAL flush (synchronous_commit stays on): durable before the 202.
import { randomInt } from 'node:crypto';
import { CompiledQuery, type Kysely } from 'kysely';
import type { NewEvent } from '../../domain/index.ts';
import { rerunOnContention } from '../errors.ts';
import { outboxRows } from '../queue/outbox.ts';
import type { Database } from '../schema.ts';

const APPEND = `
  with events_in as (
    insert into events (id, event_type, payload, created_at, traceparent, tracestate, application_id)
    select * from unnest($1::uuid[], $2::text[], $3::bytea[], $4::bigint[], $34::text[], $35::text[], $36::uuid[])),
  queued as (
    insert into queue (id, event_id, subscription_id, event_type, attempts, due_at, last_attempt_at, manual_retry, created_at, updated_at)
    select * from unnest($5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::int[], $10::bigint[], $11::bigint[], $12::boolean[],
                         $13::bigint[], $14::bigint[])),
  finished as (
    insert into deliveries (id, event_id, subscription_id, event_type, status, attempts, last_attempt_at, created_at, updated_at)
    select * from unnest($15::uuid[], $16::uuid[], $17::uuid[], $18::text[], $19::text[], $20::int[], $21::bigint[], $22::bigint[], $23::bigint[])),
  keys as (
    insert into idempotency_keys (scope, key, request_hash, response, created_at)
    select * from unnest($24::text[], $25::text[], $26::text[], $27::text[], $28::bigint[])),
  counted as (
    insert into counters (span, bucket, name, shard, n, last_at)
    select span, bucket, name, $33, n, null from unnest($29::bigint[], $30::bigint[], $31::text[], $32::bigint[]) as c (span, bucket, name, n)
    order by span, bucket, name
    on conflict (span, bucket, name, shard) do update set n = counters.n + excluded.n)
  select 1`;

/** Writers spread each counter over this many rows, so that concurrent transactions seldom wait on one row. */
const COUNTER_SHARDS = 8;

/**
 * The counter shard a transaction adds to. Ingest adds to shards of its own (0–7), every other
 * writer to the rest (8–15): an ingest statement takes its counter rows before its foreign-key
 * checks wait on the subscription rows, while an attempt's settlement or a subscription's
 * deletion holds those rows and then adds to counters. Sharing a counter row, the two
 * deadlocked (and the ingest answered 503) when two processes worked on one subscription.
 */
export function counterShard(writer: 'ingest' | 'other'): number {
  return randomInt(COUNTER_SHARDS) + (writer === 'ingest' ? 0 : COUNTER_SHARDS);
}

export async function appendEvents(db: Kysely<Database>, items: readonly NewEvent[]): Promise<void> {
  const { queued: q, finished: f, keys, changes } = outboxRows(items);
  const counters = changes.rows;
  const append = CompiledQuery.raw(APPEND, [
    items.map((i) => i.event.id), items.map((i) => i.event.eventType), items.map((i) => Buffer.from(i.event.payload)), items.map((i) => i.event.createdAt),
    q.map((r) => r.id), q.map((r) => r.event_id), q.map((r) => r.subscription_id), q.map((r) => r.event_type), q.map((r) => r.attempts),
    q.map((r) => r.due_at), q.map((r) => r.last_attempt_at), q.map((r) => r.manual_retry), q.map((r) => r.created_at), q.map((r) => r.updated_at),
    f.map((r) => r.id), f.map((r) => r.event_id), f.map((r) => r.subscription_id), f.map((r) => r.event_type), f.map((r) => r.status),
    f.map((r) => r.attempts), f.map((r) => r.last_attempt_at), f.map((r) => r.created_at), f.map((r) => r.updated_at),
    keys.map((k) => k.scope), keys.map((k) => k.key), keys.map((k) => k.request_hash), keys.map((k) => k.response), keys.map((k) => k.created_at),
    counters.map((c) => c.span), counters.map((c) => c.bucket), counters.map((c) => c.name), counters.map((c) => c.n), counterShard('ingest'),
    items.map((i) => i.event.trace?.traceparent ?? null), items.map((i) => i.event.trace?.tracestate ?? null),
    items.map((i) => i.event.applicationId),
  ]);
  // The statement is its own transaction: when PostgreSQL chose it as a deadlock's victim (or
  // a serialization failure's), nothing of it was written and it can simply run again.
  await rerunOnContention(() => db.executeQuery(append));
}
