// Leases on SQLite, held in memory. One process holds the database (exclusive.ts), so its
// memory knows every lease there is: claiming writes nothing (the rows are only read), the
// subscriptions' turns and token buckets live here too, and after a restart nothing is
// leased, so every unfinished delivery is due at once. Only a circuit's probe is written (the
// API shows the circuit). The outcome statements are plain SQL, prepared once.
import { CompiledQuery, sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { AttemptResult, ClaimRequest, ClaimedDelivery, Lease } from '../contracts.ts';
import type { LeaseKeeper, QueueRecord } from '../dialect.ts';
import { fromQueueRow, traceContextOf } from '../rows.ts';
import type { Database } from '../schema.ts';
import { CANDIDATE_COLUMNS, eligibleWhere, toCandidate } from '../queue/candidates.ts';
import { planClaims, settleUpdates, type ClaimCandidate } from '../queue/claim-plan.ts';
import { HeldLeases } from '../queue/held-leases.ts';
import { settledRows } from '../queue/settled.ts';
import { insertAttemptRows, insertDeliveryRows } from './batch-inserts.ts';
import type { ExclusiveHold } from './exclusive.ts';

const TAKE_FINISHED = 'delete from queue where id in (select value from json_each(?)) returning *';
const RESCHEDULE = `update queue set attempts = attempts + 1, due_at = ?, last_attempt_at = ?, manual_retry = 0, updated_at = ?
  where id = ? returning *`;
export const DUE_ROWS = `select * from queue where subscription_id = ? and due_at <= ? and id not in (select value from json_each(?))
  order by due_at limit ?`;
export const FIFO_HEAD = 'select * from queue where subscription_id = ? order by id limit 1';
export const NEXT_DUE = `select min(case when n.circuit_state = 'closed' then n.due else max(n.due, coalesce(n.circuit_retry_at, 0)) end) as at
  from (select s.circuit_state, s.circuit_retry_at,
          (select due_at from queue q where q.subscription_id = s.id and q.id not in (select value from json_each(?))
           order by due_at limit 1) as due
        from subscriptions s where s.active = 1 and s.deleted_at is null) n`;

// Round robin over the eligible subscriptions (?1 now, ?2 the last one served, ?3 how many):
// those after the last one served, then from the start. One statement: SQLite reads the
// second arm only when the first did not fill the limit, and a claim at light load (one
// subscription, the cursor on it) no longer pays for two searches.
const CANDIDATES = `select * from (select ${CANDIDATE_COLUMNS} from subscriptions where ${eligibleWhere('?1')} and id > ?2 order by id limit ?3)
  union all
  select * from (select ${CANDIDATE_COLUMNS} from subscriptions where ${eligibleWhere('?1')} and id <= ?2 order by id limit ?3)
  limit ?3`;
/** What claimed deliveries need of their events: the payload and the trace context. */
const PAYLOADS = 'select id, payload, traceparent, tracestate from events where id in (select value from json_each(?))';

interface Bucket {
  tokens: number;
  refilledAt: number;
}

export class LocalLeases implements LeaseKeeper {
  readonly #db: Kysely<Database>;
  readonly #hold: ExclusiveHold | null;
  readonly #held = new HeldLeases();
  /** Token buckets of rate-limited subscriptions. */
  readonly #buckets = new Map<string, Bucket>();
  /** Round robin: the next claim starts after the subscription served last. */
  #cursor = '';

  constructor(db: Kysely<Database>, hold: ExclusiveHold | null) {
    this.#db = db;
    this.#hold = hold;
  }

  async join(): Promise<void> {
    this.#hold?.take();
  }

  async claim(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    await this.join();
    const { now, limit, leaseToken, leaseExpiresAt } = request;
    const candidates = await this.#candidates(now, limit);
    if (candidates.length === 0) return [];
    const plan = planClaims(candidates, this.#held.inFlightBySubscription(now), { now, limit, circuitCooldownMs: request.circuitCooldownMs, reserve: request.reserve });
    if (plan.quotas.length === 0) return [];
    const rows: QueueRecord[] = [];
    for (const quota of plan.quotas) {
      if (quota.fifo) {
        const head = (await this.#db.executeQuery<QueueRecord>(CompiledQuery.raw(FIFO_HEAD, [quota.subscriptionId]))).rows[0];
        const leased = head !== undefined && this.#held.leasedIds(now, quota.subscriptionId).includes(head.id as string);
        if (head && !leased && Number(head.due_at) <= now) rows.push(head);
      } else {
        const exclude = JSON.stringify(this.#held.leasedIds(now, quota.subscriptionId));
        rows.push(...(await this.#db.executeQuery<QueueRecord>(CompiledQuery.raw(DUE_ROWS, [quota.subscriptionId, now, exclude, quota.count]))).rows);
      }
    }
    const perSubscription = new Map<string, number>();
    for (const row of rows) {
      const subscriptionId = row.subscription_id as string;
      perSubscription.set(subscriptionId, (perSubscription.get(subscriptionId) ?? 0) + 1);
      this.#held.hold(row.id as string, subscriptionId, leaseToken, leaseExpiresAt);
    }
    const probes: { id: string; until: number }[] = [];
    for (const update of settleUpdates(plan.updates, perSubscription)) {
      if (update.rateTokens !== null && update.rateRefilledAt !== null) this.#buckets.set(update.subscriptionId, { tokens: update.rateTokens, refilledAt: update.rateRefilledAt });
      if (update.halfOpenUntil !== null) probes.push({ id: update.subscriptionId, until: update.halfOpenUntil });
    }
    for (const probe of probes) {
      await this.#db.updateTable('subscriptions').set({ circuit_state: 'half_open', circuit_retry_at: probe.until }).where('id', '=', probe.id).execute();
    }
    const eventIds = JSON.stringify([...new Set(rows.map((row) => row.event_id as string))]);
    const events = new Map((await this.#db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(PAYLOADS, [eventIds]))).rows.map((e) => [e.id as string, e]));
    return rows.map((row) => {
      const event = events.get(row.event_id as string)!;
      return { delivery: fromQueueRow(row, true), payload: event.payload as Uint8Array, trace: traceContextOf(event), leaseToken };
    });
  }

  /** Up to `limit` subscriptions with due work, taking turns: those after the last one served first. */
  async #candidates(now: number, limit: number): Promise<ClaimCandidate[]> {
    const { rows } = await this.#db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(CANDIDATES, [now, this.#cursor, limit]));
    if (rows.length > 0) this.#cursor = rows[rows.length - 1]!.id as string;
    return rows.map((row) => {
      const bucket = this.#buckets.get(row.id as string);
      return { ...toCandidate(row), rateTokens: bucket?.tokens ?? null, rateRefilledAt: bucket?.refilledAt ?? null };
    });
  }

  async record(trx: Kysely<Database>, results: readonly AttemptResult[]): Promise<Map<number, QueueRecord>> {
    const taken = new Map<number, QueueRecord>();
    // Only results whose lease this process holds; one result per delivery can hold it.
    const held = new Map<string, number>();
    for (const [index, result] of results.entries()) {
      if (this.#held.holds(result.deliveryId, result.leaseToken)) held.set(result.deliveryId, index);
    }
    const finished: string[] = [];
    for (const [deliveryId, index] of held) {
      const result = results[index]!;
      if (result.status !== 'queued') {
        finished.push(deliveryId);
        continue;
      }
      const at = result.attempt.createdAt;
      const row = (await trx.executeQuery<QueueRecord>(CompiledQuery.raw(RESCHEDULE, [result.nextAttemptAt, at, at, deliveryId]))).rows[0];
      // Gone meanwhile: its subscription was deleted and the delivery cancelled.
      if (row) taken.set(index, row);
    }
    if (finished.length > 0) {
      const { rows } = await trx.executeQuery<QueueRecord>(CompiledQuery.raw(TAKE_FINISHED, [JSON.stringify(finished)]));
      for (const row of rows) taken.set(held.get(row.id as string)!, row);
    }
    const attempts = [];
    const history = [];
    for (const [index, row] of taken) {
      const { attemptRow, finished: finishedRow } = settledRows(results[index]!, row);
      attempts.push(attemptRow);
      if (finishedRow) history.push(finishedRow);
    }
    await insertAttemptRows(trx, attempts);
    await insertDeliveryRows(trx, history);
    return taken;
  }

  ended(results: readonly AttemptResult[]): void {
    for (const result of results) this.#held.drop(result.deliveryId, result.leaseToken);
  }

  async release(leases: readonly Lease[]): Promise<number> {
    // The rows were never changed by the claim: dropping the lease makes them due as they are.
    return leases.filter((lease) => this.#held.drop(lease.deliveryId, lease.leaseToken)).length;
  }

  leasedRows(now: number): Expression<SqlBool> {
    return sql<SqlBool>`queue.id in (select value from json_each(${JSON.stringify(this.#held.leasedIds(now))}))`;
  }

  async inFlight(now: number): Promise<number> {
    return this.#held.leasedIds(now).length;
  }

  async nextDueAt(now: number): Promise<number | null> {
    const result = await this.#db.executeQuery<{ at: number | null }>(CompiledQuery.raw(NEXT_DUE, [JSON.stringify(this.#held.leasedIds(now))]));
    return result.rows[0]?.at ?? null;
  }

  async close(): Promise<void> {
    this.#hold?.release();
  }
}
