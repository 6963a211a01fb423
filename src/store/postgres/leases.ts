// Leases on PostgreSQL, where any number of worker processes share the queue. A lease is
// written into its queue row, in columns no index covers (a HOT update), and holds while its
// worker is present (presence.ts) and its expiry is ahead. Each worker keeps what it has in
// flight per subscription in that subscription's row (slots), which claims lock anyway, so
// max_in_flight holds across processes and a dead worker's slots stop counting with it.
// The statements are fixed texts with array parameters, the same whatever the batch size.
import { CompiledQuery, sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { AttemptResult, ClaimRequest, ClaimedDelivery, Lease } from '../contracts.ts';
import type { Dialect, LeaseKeeper, QueueRecord } from '../dialect.ts';
import { fromQueueRow, traceContextOf } from '../rows.ts';
import type { Database } from '../schema.ts';
import { CANDIDATE_COLUMNS, eligibleWhere, toCandidate } from '../queue/candidates.ts';
import { planClaims } from '../queue/claim-plan.ts';
import { HeldLeases } from '../queue/held-leases.ts';
import { liveWorkers, type Presence } from './presence.ts';

/** A queue row may be leased when it has no lease, or its lease expired, or its worker is gone. */
const FREE = (alias: string) => `(${alias}.lease_token is null or ${alias}.lease_expires_at <= $2 or ${alias}.leased_by not in (select id from live))`;

const LIVE = `live as (select objid::bigint::int as id from pg_locks where locktype = 'advisory' and classid::bigint = $1 and objsubid = 2 and granted)`;

// Leases each quota's due deliveries and writes what goes with claiming them into the
// subscriptions' rows (locked by the candidates' select): served now, tokens spent for what
// was taken, a circuit's probe out, and this worker's slots, dropping those of workers gone.
// $1 namespace, $2 now, $3–$5 quotas (subscription, count, fifo), $6 lease token, $7 worker,
// $8 lease expiry, $9–$12 the plan's updates (subscription, tokens before the claim, refilled
// at, half-open until). This worker's slot count moves by what it took, read under the row
// lock: a count computed beforehand in memory could be overwritten by an attempt's settlement
// committed meanwhile, and undercount what is out (max_in_flight broken across processes).
const CLAIM = `
  with ${LIVE},
  quota as (select * from unnest($3::uuid[], $4::int[], $5::boolean[]) as q (subscription_id, k, fifo)),
  picked as (
    select p.id from quota q cross join lateral (
      select d.id from queue d
      where d.subscription_id = q.subscription_id and d.due_at <= $2 and not q.fifo and ${FREE('d')}
      order by d.due_at limit q.k
      for update of d skip locked) p
    union all
    select h.id from quota q cross join lateral (
      select d.id, d.due_at, d.lease_token, d.lease_expires_at, d.leased_by from queue d
      where d.subscription_id = q.subscription_id and q.fifo
      order by d.id limit 1) h
    where h.due_at <= $2 and ${FREE('h')}),
  leased as (
    update queue d set lease_token = $6, leased_by = $7, lease_expires_at = $8
    from events e
    where d.id = any (array(select id from picked)) and e.id = d.event_id
    returning d.*, e.payload, e.traceparent, e.tracestate),
  taken as (select subscription_id, count(*)::int as n from leased group by subscription_id),
  served as (
    update subscriptions s set last_claimed_at = $2,
      rate_tokens = case when u.tokens is null then s.rate_tokens else u.tokens - coalesce(t.n, 0) end,
      rate_refilled_at = coalesce(u.refilled_at, s.rate_refilled_at),
      circuit_state = case when u.half_open_until is not null and t.n > 0 then 'half_open' else s.circuit_state end,
      circuit_retry_at = case when u.half_open_until is not null and t.n > 0 then u.half_open_until else s.circuit_retry_at end,
      slots = (select coalesce(jsonb_object_agg(key, value), '{}'::jsonb) from jsonb_each(s.slots)
               where key <> ($7::int)::text and key::int in (select id from live))
        || case when coalesce((s.slots -> ($7::int)::text ->> 0)::int, 0) + coalesce(t.n, 0) > 0
             then jsonb_build_object(($7::int)::text, jsonb_build_array(
               coalesce((s.slots -> ($7::int)::text ->> 0)::int, 0) + coalesce(t.n, 0),
               greatest($8::bigint, coalesce((s.slots -> ($7::int)::text ->> 1)::bigint, 0))))
             else '{}'::jsonb end
    from unnest($9::uuid[], $10::float8[], $11::bigint[], $12::bigint[]) as u (id, tokens, refilled_at, half_open_until)
      left join taken t on t.subscription_id = u.id
    where s.id = u.id)
  select * from leased`;

// Subscriptions with due work that may send now, served longest ago first, each with what the
// present workers have in flight for it ($1 namespace, $2 now, $3 how many). Their rows stay
// locked until commit, so concurrent claimers work on other subscriptions and caps hold
// across processes.
const CANDIDATES = `
  with ${LIVE}
  select ${CANDIDATE_COLUMNS},
    (select coalesce(sum((slot.value ->> 0)::int), 0) from jsonb_each(subscriptions.slots) slot
      where (slot.value ->> 1)::bigint > $2 and slot.key::int in (select id from live)) as in_flight
  from subscriptions where ${eligibleWhere('$2')}
  order by coalesce(last_claimed_at, 0) limit $3
  for update of subscriptions skip locked`;

// This worker's slots after some of its attempts ended ($1 worker; $2, $3: subscriptions, in
// id order so that settlements lock their rows in one order, and how many of its leases ended).
const SET_SLOTS = `
  update subscriptions s set slots = case when coalesce((s.slots -> $1::text ->> 0)::int, 0) - w.ended > 0
      then s.slots || jsonb_build_object($1::text, jsonb_build_array(
        (s.slots -> $1::text ->> 0)::int - w.ended, coalesce((s.slots -> $1::text ->> 1)::bigint, 0)))
      else s.slots - $1::text end
  from unnest($2::uuid[], $3::int[]) as w (id, ended) where s.id = w.id`;

// Attempt results in one statement: each written only while its lease holds; the finished
// leave the queue for the delivery log, the others are rescheduled; every attempt is logged
// and this worker's slots follow. $1 worker, $2–$15 the results, $16–$17 the slots.
const RECORD = `
  with v as (
    select * from unnest($2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::uuid[], $7::int[], $8::text[], $9::int[],
                         $10::text[], $11::int[], $12::text[], $13::jsonb[], $14::text[], $15::bigint[])
      as v (id, token, status, due_at, attempt_id, attempt_number, outcome, status_code, error_details, duration_ms,
            response_body, request_headers, trigger, at)),
  slots as (
    update subscriptions s set slots = case when coalesce((s.slots -> $1::text ->> 0)::int, 0) - w.ended > 0
        then s.slots || jsonb_build_object($1::text, jsonb_build_array(
          (s.slots -> $1::text ->> 0)::int - w.ended, coalesce((s.slots -> $1::text ->> 1)::bigint, 0)))
        else s.slots - $1::text end
    from unnest($16::uuid[], $17::int[]) as w (id, ended) where s.id = w.id),
  taken as (
    delete from queue q using v where v.status <> 'queued' and q.id = v.id and q.lease_token = v.token
    returning q.*, v.token as settled_token),
  rescheduled as (
    update queue q set attempts = q.attempts + 1, due_at = v.due_at, last_attempt_at = v.at, manual_retry = false, updated_at = v.at,
      lease_token = null, leased_by = null, lease_expires_at = null
    from v where v.status = 'queued' and q.id = v.id and q.lease_token = v.token
    returning q.*, v.token as settled_token),
  settled as (
    select id, event_id, subscription_id, event_type, attempts, due_at, last_attempt_at, manual_retry, created_at, updated_at, settled_token from taken
    union all
    select id, event_id, subscription_id, event_type, attempts, due_at, last_attempt_at, manual_retry, created_at, updated_at, settled_token from rescheduled),
  history as (
    insert into deliveries (id, event_id, subscription_id, event_type, status, attempts, last_attempt_at, created_at, updated_at)
    select t.id, t.event_id, t.subscription_id, t.event_type, v.status, t.attempts + 1, v.at, t.created_at, v.at
    from taken t join v on v.id = t.id and v.token = t.settled_token),
  logged as (
    insert into attempts (id, delivery_id, subscription_id, event_type, attempt_number, outcome, status_code, error_details,
                          duration_ms, response_body, request_headers, trigger, created_at)
    select v.attempt_id, v.id, s.subscription_id, s.event_type, v.attempt_number, v.outcome, v.status_code, v.error_details,
      v.duration_ms, v.response_body, v.request_headers, v.trigger, v.at
    from settled s join v on v.id = s.id and v.token = s.settled_token)
  select * from settled`;

const RELEASE = `
  update queue q set lease_token = null, leased_by = null, lease_expires_at = null
  from unnest($1::uuid[], $2::text[]) as v (id, token)
  where q.id = v.id and q.lease_token = v.token
  returning q.id`;

const IN_FLIGHT = `
  with ${LIVE}
  select coalesce(sum((slot.value ->> 0)::int), 0)::int as n
  from subscriptions s cross join lateral jsonb_each(s.slots) slot
  where (slot.value ->> 1)::bigint > $2 and slot.key::int in (select id from live)`;

const NEXT_DUE = `
  with ${LIVE}
  select min(case when s.circuit_state = 'closed' then d.due_at else greatest(d.due_at, coalesce(s.circuit_retry_at, 0)) end) as at
  from subscriptions s cross join lateral (
    select due_at from queue q where q.subscription_id = s.id and ${FREE('q')}
    order by due_at limit 1) d
  where s.active and s.deleted_at is null`;

export class WorkerLeases implements LeaseKeeper {
  readonly #db: Kysely<Database>;
  readonly #presence: Presence;
  readonly #relaxed: Dialect['relaxedTransaction'];
  readonly #held = new HeldLeases();

  constructor(db: Kysely<Database>, presence: Presence, relaxed: Dialect['relaxedTransaction']) {
    this.#db = db;
    this.#presence = presence;
    this.#relaxed = relaxed;
  }

  async join(): Promise<void> {
    await this.#presence.join();
  }

  async claim(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    const me = await this.#presence.join();
    const namespace = this.#presence.namespace;
    const { now, limit, leaseToken, leaseExpiresAt } = request;
    const claimed = await this.#relaxed(this.#db, async (trx) => {
      const rows = (await trx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(CANDIDATES, [namespace, now, limit]))).rows;
      if (rows.length === 0) return [];
      const inFlight = new Map(rows.map((r) => [r.id as string, Number(r.in_flight)]));
      const plan = planClaims(rows.map(toCandidate), inFlight, { now, limit, circuitCooldownMs: request.circuitCooldownMs, reserve: request.reserve });
      if (plan.quotas.length === 0) return [];
      const { quotas, updates } = plan;
      const leased = (await trx.executeQuery<QueueRecord>(CompiledQuery.raw(CLAIM, [
        namespace, now, quotas.map((q) => q.subscriptionId), quotas.map((q) => q.count), quotas.map((q) => q.fifo), leaseToken, me, leaseExpiresAt,
        updates.map((u) => u.subscriptionId), updates.map((u) => u.rateTokens), updates.map((u) => u.rateRefilledAt),
        updates.map((u) => u.halfOpenUntil),
      ]))).rows;
      for (const row of leased) this.#held.hold(row.id as string, row.subscription_id as string, leaseToken, leaseExpiresAt);
      return leased;
    });
    return claimed.map((row) => ({ delivery: fromQueueRow(row, true), payload: row.payload as Uint8Array, trace: traceContextOf(row), leaseToken }));
  }

  async record(trx: Kysely<Database>, results: readonly AttemptResult[]): Promise<Map<number, QueueRecord>> {
    const me = await this.#presence.join();
    const [subscriptions, ended] = this.#endedBySubscription(results.filter((r) => this.#held.holds(r.deliveryId, r.leaseToken)));
    const column = <T>(pick: (r: AttemptResult) => T) => results.map(pick);
    const { rows } = await trx.executeQuery<QueueRecord>(CompiledQuery.raw(RECORD, [
      String(me),
      column((r) => r.deliveryId), column((r) => r.leaseToken), column((r) => r.status), column((r) => r.nextAttemptAt),
      column((r) => r.attempt.id), column((r) => r.attempt.attemptNumber), column((r) => r.attempt.outcome), column((r) => r.attempt.statusCode),
      column((r) => r.attempt.errorDetails), column((r) => r.attempt.durationMs), column((r) => r.attempt.responseBody),
      column((r) => JSON.stringify(r.attempt.requestHeaders)), column((r) => r.attempt.trigger), column((r) => r.attempt.createdAt),
      subscriptions, ended,
    ]));
    const byLease = new Map(rows.map((row) => [`${row.id as string}|${row.settled_token as string}`, row]));
    const taken = new Map<number, QueueRecord>();
    for (const [index, result] of results.entries()) {
      const row = byLease.get(`${result.deliveryId}|${result.leaseToken}`);
      if (row) taken.set(index, row);
    }
    return taken;
  }

  /** How many of this worker's leases `ending` gives up per subscription, in subscription id order. */
  #endedBySubscription(ending: readonly { deliveryId: string; leaseToken: string }[]): [string[], number[]] {
    const ended = new Map<string, number>();
    for (const e of ending) {
      const id = this.#held.subscriptionOf(e.deliveryId)!;
      ended.set(id, (ended.get(id) ?? 0) + 1);
    }
    const ids = [...ended.keys()].sort();
    return [ids, ids.map((id) => ended.get(id)!)];
  }

  ended(results: readonly AttemptResult[]): void {
    for (const result of results) this.#held.drop(result.deliveryId, result.leaseToken);
  }

  async release(leases: readonly Lease[]): Promise<number> {
    const mine = leases.filter((lease) => this.#held.holds(lease.deliveryId, lease.leaseToken));
    if (mine.length === 0) return 0;
    const me = await this.#presence.join();
    const released = await this.#db.transaction().execute(async (trx) => {
      const [subscriptions, ended] = this.#endedBySubscription(mine);
      await trx.executeQuery(CompiledQuery.raw(SET_SLOTS, [String(me), subscriptions, ended]));
      const { rows } = await trx.executeQuery(CompiledQuery.raw(RELEASE, [mine.map((l) => l.deliveryId), mine.map((l) => l.leaseToken)]));
      return rows.length;
    });
    for (const lease of mine) this.#held.drop(lease.deliveryId, lease.leaseToken);
    return released;
  }

  leasedRows(now: number): Expression<SqlBool> {
    return sql<SqlBool>`(queue.lease_token is not null and queue.lease_expires_at > ${now}
      and queue.leased_by in (${liveWorkers(this.#presence.namespace)}))`;
  }

  async inFlight(now: number): Promise<number> {
    const result = await this.#db.executeQuery<{ n: number }>(CompiledQuery.raw(IN_FLIGHT, [this.#presence.namespace, now]));
    return Number(result.rows[0]?.n ?? 0);
  }

  async nextDueAt(now: number): Promise<number | null> {
    const result = await this.#db.executeQuery<{ at: number | null }>(CompiledQuery.raw(NEXT_DUE, [this.#presence.namespace, now]));
    const at = result.rows[0]?.at;
    return at == null ? null : Number(at);
  }

  async close(): Promise<void> {
    await this.#presence.close();
  }
}
