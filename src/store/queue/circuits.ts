// The circuit breakers' half of recording attempts: a success closes its subscription's
// circuit and forgets its failures; the failures after a subscription's last success add to
// its count, opening the circuit at the threshold. (Claiming, in claim-plan.ts, lets a probe
// through an open circuit once its cool-down is over.)
import { sql, type Kysely } from 'kysely';
import type { CircuitPolicy } from '../../domain/index.ts';
import type { AttemptResult } from '../contracts.ts';
import type { Database } from '../schema.ts';

/**
 * The effect of a batch of recorded attempts on their subscriptions' circuits. Healthy
 * subscriptions, the common case, cost one statement for the whole batch that writes nothing.
 * Returns, for each subscription whose last attempt in the batch failed, since when it has
 * been failing (what auto-disable decides on).
 */
export async function moveCircuits(trx: Kysely<Database>, recorded: readonly AttemptResult[], policy: CircuitPolicy): Promise<Map<string, number>> {
  const succeeded = new Set<string>();
  const failuresAfterSuccess = new Map<string, { count: number; first: number; last: number }>();
  for (const r of recorded) {
    if (r.attempt.outcome === 'success') {
      succeeded.add(r.subscriptionId);
      failuresAfterSuccess.delete(r.subscriptionId);
    } else {
      const seen = failuresAfterSuccess.get(r.subscriptionId);
      failuresAfterSuccess.set(r.subscriptionId, { count: (seen?.count ?? 0) + 1, first: seen?.first ?? r.attempt.createdAt, last: r.attempt.createdAt });
    }
  }
  if (succeeded.size > 0) {
    await trx.updateTable('subscriptions')
      .set({ consecutive_failures: 0, failing_since: null, circuit_state: 'closed', circuit_retry_at: null })
      .where('id', 'in', [...succeeded])
      .where((eb) => eb.or([eb('consecutive_failures', '<>', 0), eb('circuit_state', '<>', 'closed'), eb('failing_since', 'is not', null)]))
      .execute();
  }
  const failingSince = new Map<string, number>();
  for (const [subscriptionId, failures] of failuresAfterSuccess) {
    const trips = sql<boolean>`consecutive_failures + ${failures.count} >= ${policy.failureThreshold}`;
    const row = await trx.updateTable('subscriptions').set((eb) => ({
      consecutive_failures: eb('consecutive_failures', '+', failures.count),
      failing_since: eb.fn.coalesce('failing_since', eb.val(failures.first)),
      circuit_state: eb.case().when(trips).then('open').else(eb.ref('circuit_state')).end(),
      circuit_retry_at: eb.case().when(trips).then(failures.last + policy.cooldownMs).else(eb.ref('circuit_retry_at')).end(),
    })).where('id', '=', subscriptionId).returning('failing_since').executeTakeFirst();
    if (row?.failing_since != null) failingSince.set(subscriptionId, Number(row.failing_since));
  }
  return failingSince;
}
