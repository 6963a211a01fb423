// The subscriptions a claim may serve: active, not deleted, their circuit closed or its
// cool-down over, with due work in the queue. Each dialect orders and counts them its own way
// (round robin in memory on SQLite; served-longest-ago first, rows locked, on PostgreSQL).
import type { CircuitState, Ordering } from '../../domain/index.ts';
import type { ClaimCandidate } from './claim-plan.ts';

/** The columns a claim reads of each candidate subscription. */
export const CANDIDATE_COLUMNS = 'id, max_in_flight, ordering, rate_limit_per_second, rate_tokens, rate_refilled_at, circuit_state';

/**
 * Which subscriptions a claim may serve, as SQL both dialects share (each completes the
 * statement with its order, and its parameter syntax for the claim's time: `now`). A fixed
 * text, so each dialect's claim statement is written once, not built per claim.
 */
export function eligibleWhere(now: string): string {
  return `active = true and deleted_at is null
    and (circuit_state = 'closed' or circuit_retry_at <= ${now})
    and exists (select 1 from queue where queue.subscription_id = subscriptions.id and queue.due_at <= ${now})`;
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
