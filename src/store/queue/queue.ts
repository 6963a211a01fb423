// The queue: due deliveries, leased to workers in fair batches, and the attempts' outcomes
// written back under the lease (fenced: a worker whose lease expired and was taken over
// cannot overwrite the newer result). The database is the queue; on PostgreSQL any number of
// hookd processes claim from it at once.
import { sql } from 'kysely';
import type { CircuitPolicy, NewEvent } from '../../domain/index.ts';
import type { AttemptResult, ClaimRequest, ClaimedDelivery, Lease, Queue, RecordedAttempt } from '../contracts.ts';
import { fromAttempt } from '../rows.ts';
import { PENDING, type SqlContext } from '../sql-context.ts';
import { planClaims, settleUpdates, type ClaimCandidate } from './claim-plan.ts';
import { moveCircuits } from './circuits.ts';
import { insertEventRows, insertNotice, queuesWork } from './outbox.ts';

const DELIVERING = sql.lit('delivering');

export class SqlQueue implements Queue {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  #due(): void {
    this.#ctx.dialect.notifier.publish('deliveries-due', '');
  }

  onDue(listener: () => void): () => void {
    return this.#ctx.dialect.notifier.subscribe('deliveries-due', () => listener());
  }

  async enqueue(items: readonly NewEvent[]): Promise<void> {
    if (items.length === 0) return;
    await this.#ctx.db.transaction().execute((trx) => insertEventRows(trx, items));
    if (queuesWork(items)) this.#due();
  }

  async claimDue(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    const { now, limit } = request;
    const { db, dialect } = this.#ctx;
    return dialect.relaxedTransaction(db, async (trx) => {
      // Subscriptions with due work that may send now, served longest ago first, each with
      // its deliveries in flight (leased and not expired) counted in the same statement. On
      // PostgreSQL their rows stay locked until commit, so concurrent claimers work on other
      // subscriptions and per-subscription caps hold across processes.
      let candidates = trx.selectFrom('subscriptions')
        .select(['id', 'max_in_flight', 'ordering', 'rate_limit_per_second', 'rate_tokens', 'rate_refilled_at', 'circuit_state'])
        .select((eb) => eb.selectFrom('deliveries').select((inner) => inner.fn.countAll().as('n'))
          .whereRef('deliveries.subscription_id', '=', 'subscriptions.id')
          .where('deliveries.status', '=', DELIVERING)
          .where('deliveries.next_attempt_at', '>', now)
          .as('in_flight'))
        .where('active', '=', true)
        .where('deleted_at', 'is', null)
        .where((eb) => eb.or([eb('circuit_state', '=', 'closed'), eb('circuit_retry_at', '<=', now)]))
        .where((eb) => eb.exists(eb.selectFrom('deliveries').select('deliveries.id')
          .whereRef('deliveries.subscription_id', '=', 'subscriptions.id')
          .where('deliveries.status', 'in', PENDING)
          .where('deliveries.next_attempt_at', '<=', now)))
        .orderBy(sql`coalesce(last_claimed_at, 0)`)
        .limit(limit);
      if (dialect.skipLocked) candidates = candidates.forUpdate().skipLocked();
      const rows = await candidates.execute();
      if (rows.length === 0) return [];
      const inFlight = new Map(rows.map((r) => [r.id, Number(r.in_flight ?? 0)]));
      const plan = planClaims(rows.map(toCandidate), inFlight, { now, limit, circuitCooldownMs: request.circuitCooldownMs });
      if (plan.quotas.length === 0) return [];
      const leased = await dialect.claimQuotas(trx, plan.quotas, request);
      const perSubscription = new Map<string, number>();
      for (const c of leased) perSubscription.set(c.delivery.subscriptionId, (perSubscription.get(c.delivery.subscriptionId) ?? 0) + 1);
      await dialect.writeClaimUpdates(trx, settleUpdates(plan.updates, perSubscription));
      return leased;
    });
  }

  async recordAttempts(results: readonly AttemptResult[], circuit: CircuitPolicy): Promise<RecordedAttempt[]> {
    if (results.length === 0) return [];
    const { db, dialect } = this.#ctx;
    const written = await dialect.relaxedTransaction(db, async (trx) => {
      // One statement per round, fenced row by row: a row is written only while the lease
      // that sent the attempt still holds it. When a batch holds two results for one
      // delivery (a stale lease and its successor) they go in successive rounds, as if
      // written one by one.
      const applied = new Array<boolean>(results.length).fill(false);
      for (const round of rounds(results)) {
        const writtenIds = await dialect.writeOutcomes(trx, round.map(({ result: r }) => ({
          deliveryId: r.deliveryId, leaseToken: r.leaseToken, status: r.status, nextAttemptAt: r.nextAttemptAt, attemptedAt: r.attempt.createdAt,
        })));
        for (const { result, index } of round) applied[index] = writtenIds.has(result.deliveryId);
      }
      for (const [i, result] of results.entries()) {
        if (result.notice && applied[i]) await insertNotice(trx, result.notice);
      }
      const recorded = results.filter((_, i) => applied[i]);
      if (recorded.length === 0) return results.map(() => ({ written: false, failingSince: null }));
      await trx.insertInto('attempts').values(recorded.map((r) => fromAttempt(r.attempt))).execute();
      const failingSince = await moveCircuits(trx, recorded, circuit);
      return results.map((r, i) => ({
        written: applied[i]!,
        failingSince: applied[i] && r.attempt.outcome !== 'success' ? failingSince.get(r.subscriptionId) ?? null : null,
      }));
    });
    if (results.some((r, i) => written[i]!.written && (r.status === 'queued' || r.notice?.delivery))) this.#due();
    return written;
  }

  async releaseLeases(leases: readonly Lease[], now: number): Promise<number> {
    let released = 0;
    for (const lease of leases) {
      const result = await this.#ctx.db.updateTable('deliveries')
        .set({ status: 'queued', next_attempt_at: now, lease_token: null, updated_at: now })
        .where('id', '=', lease.deliveryId).where('lease_token', '=', lease.leaseToken).where('status', '=', 'delivering')
        .executeTakeFirst();
      released += Number(result.numUpdatedRows);
    }
    if (released > 0) this.#due();
    return released;
  }

  nextDueAt(): Promise<number | null> {
    return this.#ctx.dialect.nextDueAt(this.#ctx.db);
  }
}

/** Splits results into rounds in which each delivery appears at most once, keeping their order. */
function rounds(results: readonly AttemptResult[]): { result: AttemptResult; index: number }[][] {
  const out: { result: AttemptResult; index: number }[][] = [];
  const seen = new Map<string, number>();
  results.forEach((result, index) => {
    const round = seen.get(result.deliveryId) ?? 0;
    seen.set(result.deliveryId, round + 1);
    (out[round] ??= []).push({ result, index });
  });
  return out;
}

function toCandidate(row: Record<string, unknown>): ClaimCandidate {
  return {
    id: row.id as string,
    maxInFlight: Number(row.max_in_flight),
    ordering: row.ordering as ClaimCandidate['ordering'],
    rateLimitPerSecond: row.rate_limit_per_second == null ? null : Number(row.rate_limit_per_second),
    rateTokens: row.rate_tokens == null ? null : Number(row.rate_tokens),
    rateRefilledAt: row.rate_refilled_at == null ? null : Number(row.rate_refilled_at),
    circuitState: row.circuit_state as ClaimCandidate['circuitState'],
  };
}
