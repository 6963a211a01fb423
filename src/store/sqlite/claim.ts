// Claiming on SQLite. One writer at a time: the claim's transaction already keeps other
// claimers out, so each quota is a plain UPDATE … RETURNING of its subscription's due rows.
import { sql, type Kysely } from 'kysely';
import type { ClaimRequest, ClaimedDelivery } from '../contracts.ts';
import type { CandidateUpdate, Quota } from '../queue/claim-plan.ts';
import { toDelivery } from '../rows.ts';
import type { Database } from '../schema.ts';

/** Leases up to each quota's count of due deliveries (FIFO: the head only, if due), with their payloads. */
export async function claimQuotas(trx: Kysely<Database>, quotas: readonly Quota[], request: ClaimRequest): Promise<ClaimedDelivery[]> {
  const { now, leaseToken, leaseExpiresAt } = request;
  const rows: Record<string, unknown>[] = [];
  for (const quota of quotas) {
    const pick = quota.fifo
      ? sql`select id from deliveries where subscription_id = ${quota.subscriptionId} and status in ('queued', 'delivering')
            order by id limit 1`
      : sql`select id from deliveries where subscription_id = ${quota.subscriptionId} and status in ('queued', 'delivering')
            and next_attempt_at <= ${now} order by next_attempt_at limit ${quota.count}`;
    const claimed = await sql<Record<string, unknown>>`
      update deliveries set status = 'delivering', lease_token = ${leaseToken},
        next_attempt_at = ${leaseExpiresAt}, updated_at = ${now}
      where id in (${pick}) and next_attempt_at <= ${now}
      returning *`.execute(trx);
    rows.push(...claimed.rows);
  }
  if (rows.length === 0) return [];
  const eventIds = [...new Set(rows.map((row) => row.event_id as string))];
  const events = await trx.selectFrom('events').select(['id', 'payload']).where('id', 'in', eventIds).execute();
  const payloads = new Map(events.map((e) => [e.id, e.payload]));
  return rows.map((row) => ({ delivery: toDelivery(row), payload: payloads.get(row.event_id as string)!, leaseToken }));
}

/** The claimed subscriptions' new state, in one statement: served now, tokens spent, probe out. */
export async function writeClaimUpdates(trx: Kysely<Database>, updates: readonly CandidateUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  const values = sql.join(updates.map((u) => sql`(${u.subscriptionId}, ${u.lastClaimedAt}, ${u.rateTokens}, ${u.rateRefilledAt}, ${u.halfOpenUntil})`));
  await sql`
    with v (id, last_claimed_at, rate_tokens, rate_refilled_at, half_open_until) as (values ${values})
    update subscriptions set last_claimed_at = v.last_claimed_at,
      rate_tokens = coalesce(v.rate_tokens, subscriptions.rate_tokens),
      rate_refilled_at = coalesce(v.rate_refilled_at, subscriptions.rate_refilled_at),
      circuit_state = case when v.half_open_until is null then subscriptions.circuit_state else 'half_open' end,
      circuit_retry_at = coalesce(v.half_open_until, subscriptions.circuit_retry_at)
    from v where subscriptions.id = v.id`.execute(trx);
}
