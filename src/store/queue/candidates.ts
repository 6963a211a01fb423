// The subscriptions a claim may serve: active, not deleted, their circuit closed or its
// cool-down over, with due work in the queue. Each dialect orders and counts them its own way
// (round robin in memory on SQLite; served-longest-ago first, rows locked, on PostgreSQL).
import type { Kysely } from 'kysely';
import type { CircuitState, Ordering, TraceContext } from '../../domain/index.ts';
import { traceContextOf } from '../rows.ts';
import type { Database } from '../schema.ts';
import type { ClaimCandidate } from './claim-plan.ts';

export function eligibleSubscriptions(db: Kysely<Database>, now: number) {
  return db.selectFrom('subscriptions')
    .select(['id', 'max_in_flight', 'ordering', 'rate_limit_per_second', 'rate_tokens', 'rate_refilled_at', 'circuit_state'])
    .where('active', '=', true)
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('circuit_state', '=', 'closed'), eb('circuit_retry_at', '<=', now)]))
    .where((eb) => eb.exists(eb.selectFrom('queue').select('queue.id')
      .whereRef('queue.subscription_id', '=', 'subscriptions.id')
      .where('queue.due_at', '<=', now)));
}

export function toCandidate(row: Record<string, unknown>): ClaimCandidate {
  return {
    id: row.id as string,
    maxInFlight: Number(row.max_in_flight),
    ordering: row.ordering as Ordering,
    rateLimitPerSecond: row.rate_limit_per_second == null ? null : Number(row.rate_limit_per_second),
    rateTokens: row.rate_tokens == null ? null : Number(row.rate_tokens),
    rateRefilledAt: row.rate_refilled_at == null ? null : Number(row.rate_refilled_at),
    circuitState: row.circuit_state as CircuitState,
  };
}

/** What a claimed delivery needs of its event: the payload and the trace context, by event id. */
export async function payloadsOf(db: Kysely<Database>, eventIds: readonly string[]): Promise<Map<string, { payload: Uint8Array; trace: TraceContext | null }>> {
  if (eventIds.length === 0) return new Map();
  const rows = await db.selectFrom('events').select(['id', 'payload', 'traceparent', 'tracestate']).where('id', 'in', [...new Set(eventIds)]).execute();
  return new Map(rows.map((e) => [e.id, { payload: e.payload, trace: traceContextOf(e) }]));
}
