// The read models: figures for /api/v1/status, the metrics scrape and the dashboard, and
// the attempts of the live feed. The heavy ones run on the reads connection (on SQLite a
// worker thread, sql-context.ts).
import { sql } from 'kysely';
import { ATTEMPT_OUTCOMES, DELIVERY_STATUSES, type AttemptOutcome, type DeliveryStatus, type OperationalEvent, type Subscription } from '../domain/index.ts';
import type { AttemptStats, AttemptSummary, FailingSubscription, PendingFigures, QueueFigures, ReadModels, StatsRange } from './contracts.ts';
import { toAttemptSummary, toOperationalEvent, toSubscription } from './rows.ts';
import { PENDING, type SqlContext } from './sql-context.ts';

const HOUR_MS = 3_600_000;

export class SqlReadModels implements ReadModels {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  async deliveryCounts(): Promise<Record<DeliveryStatus, number>> {
    const rows = await this.#ctx.reads.selectFrom('deliveries').select(['status', (eb) => eb.fn.countAll().as('n')])
      .groupBy('status').execute();
    const counts = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>;
    for (const row of rows) counts[row.status as DeliveryStatus] = Number(row.n);
    return counts;
  }
  async pendingFigures(now: number): Promise<PendingFigures> {
    const pending = await this.#ctx.reads.selectFrom('deliveries')
      .select((eb) => [
        eb.fn.countAll().as('depth'),
        eb.fn.sum(eb.case().when('status', '=', 'queued').then(eb.case().when('next_attempt_at', '<=', now).then(1).else(0).end()).else(0).end()).as('due'),
        eb.fn.sum(eb.case().when('status', '=', 'delivering').then(1).else(0).end()).as('in_flight'),
        eb.fn.min(eb.case().when('status', '=', 'queued').then(eb.case().when('next_attempt_at', '<=', now).then(eb.ref('next_attempt_at')).end()).end()).as('oldest_due'),
      ])
      .where('status', 'in', PENDING)
      .executeTakeFirstOrThrow();
    const oldestDue = pending.oldest_due == null ? null : Number(pending.oldest_due);
    return {
      depth: Number(pending.depth),
      dueNow: Number(pending.due ?? 0),
      inFlight: Number(pending.in_flight ?? 0),
      oldestDueAgeMs: oldestDue === null ? 0 : Math.max(0, now - oldestDue),
    };
  }
  async queueFigures(now: number): Promise<QueueFigures> {
    // The last hour's finished deliveries are found among all finished ones (no index on
    // updated_at, which every state change writes): a read of every retained row, so only
    // the status endpoints ask for it, not each metrics scrape.
    const [pending, finished] = await Promise.all([
      this.pendingFigures(now),
      this.#ctx.reads.selectFrom('deliveries').select(['status', (eb) => eb.fn.countAll().as('n')])
        .where('status', 'in', ['succeeded', 'failed']).where('updated_at', '>=', now - HOUR_MS)
        .groupBy('status').execute(),
    ]);
    const finishedCount = (status: string) => Number(finished.find((r) => r.status === status)?.n ?? 0);
    return { ...pending, succeededLastHour: finishedCount('succeeded'), failedLastHour: finishedCount('failed') };
  }
  async countOpenCircuits(): Promise<number> {
    const row = await this.#ctx.db.selectFrom('subscriptions').select((eb) => eb.fn.countAll().as('n'))
      .where('deleted_at', 'is', null).where('circuit_state', '<>', 'closed').executeTakeFirstOrThrow();
    return Number(row.n);
  }
  async recentOperationalEvents(limit: number): Promise<OperationalEvent[]> {
    const rows = await this.#ctx.db.selectFrom('operational_events').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toOperationalEvent);
  }
  async countDeliveriesSince(since: number): Promise<number> {
    const row = await this.#ctx.reads.selectFrom('deliveries').select((eb) => eb.fn.countAll().as('n'))
      .where('created_at', '>=', since).executeTakeFirstOrThrow();
    return Number(row.n);
  }
  async attemptStats(range: StatsRange): Promise<AttemptStats> {
    const inRange = this.#ctx.reads.selectFrom('attempts').where('created_at', '>=', range.from).where('created_at', '<', range.to);
    // Nearest-rank percentiles with window functions, which SQLite and PostgreSQL share:
    // rank k of n holds the p-th percentile when k = ceil(p * n / 100), in integer arithmetic.
    const atRank = (percent: number) => sql<number | null>`max(case when rank = (${sql.lit(percent)} * n + 99) / 100 then duration_ms end)`;
    const bucket = sql<number>`created_at - created_at % ${range.bucketMs}`;
    const [outcomes, overall, buckets] = await Promise.all([
      inRange.select(['outcome', (eb) => eb.fn.countAll().as('n')]).groupBy('outcome').execute(),
      this.#ctx.reads.selectFrom(inRange.select([
        'duration_ms',
        sql<number>`row_number() over (order by duration_ms)`.as('rank'),
        sql<number>`count(*) over ()`.as('n'),
      ]).as('ranked')).select([atRank(50).as('p50'), atRank(95).as('p95')]).executeTakeFirst(),
      this.#ctx.reads.selectFrom(inRange.select([
        bucket.as('bucket'),
        'duration_ms',
        'outcome',
        sql<number>`row_number() over (partition by ${bucket} order by duration_ms)`.as('rank'),
        sql<number>`count(*) over (partition by ${bucket})`.as('n'),
      ]).as('ranked')).select((eb) => [
        'bucket',
        eb.fn.countAll().as('attempts'),
        eb.fn.sum(eb.case().when('outcome', '=', 'success').then(0).else(1).end()).as('failures'),
        atRank(95).as('p95'),
      ]).groupBy('bucket').orderBy('bucket').execute(),
    ]);
    const byOutcome = Object.fromEntries(ATTEMPT_OUTCOMES.map((o) => [o, 0])) as Record<AttemptOutcome, number>;
    for (const row of outcomes) byOutcome[row.outcome as AttemptOutcome] = Number(row.n);
    const orNull = (value: unknown) => (value == null ? null : Number(value));
    return {
      byOutcome,
      p50Ms: orNull(overall?.p50),
      p95Ms: orNull(overall?.p95),
      buckets: buckets.map((row) => ({
        start: Number(row.bucket),
        attempts: Number(row.attempts),
        failures: Number(row.failures),
        p95Ms: orNull(row.p95),
      })),
    };
  }
  async failingSubscriptions(from: number, to: number, limit: number): Promise<FailingSubscription[]> {
    // Only failed attempts are joined to their deliveries: a few, when things go well.
    const rows = await this.#ctx.reads.selectFrom('attempts')
      .innerJoin('deliveries', 'deliveries.id', 'attempts.delivery_id')
      .innerJoin('subscriptions', 'subscriptions.id', 'deliveries.subscription_id')
      .select((eb) => [
        'subscriptions.id as id',
        'subscriptions.target_url as target_url',
        eb.fn.countAll().as('failures'),
        eb.fn.max('attempts.created_at').as('last_failure_at'),
      ])
      .where('attempts.created_at', '>=', from).where('attempts.created_at', '<', to)
      .where('attempts.outcome', '<>', 'success')
      .where('subscriptions.deleted_at', 'is', null)
      .groupBy(['subscriptions.id', 'subscriptions.target_url'])
      .orderBy('failures', 'desc').orderBy('subscriptions.id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      id: row.id,
      targetUrl: row.target_url,
      failures: Number(row.failures),
      lastFailureAt: Number(row.last_failure_at),
    }));
  }
  async inactiveSubscriptions(limit: number): Promise<{ items: Subscription[]; total: number }> {
    const inactive = this.#ctx.reads.selectFrom('subscriptions').where('deleted_at', 'is', null).where('active', '=', false);
    const [rows, count] = await Promise.all([
      inactive.selectAll().orderBy('updated_at', 'desc').orderBy('id').limit(limit).execute(),
      inactive.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((row) => toSubscription(row, this.#ctx.secrets)), total: Number(count.n) };
  }
  #attemptSummaries() {
    return this.#ctx.reads.selectFrom('attempts')
      .innerJoin('deliveries', 'deliveries.id', 'attempts.delivery_id')
      .select([
        'attempts.id', 'attempts.delivery_id', 'deliveries.subscription_id', 'deliveries.event_type',
        'attempts.attempt_number', 'attempts.outcome', 'attempts.status_code', 'attempts.duration_ms',
        'attempts.trigger', 'attempts.created_at',
      ]);
  }

  async attemptsAfter(after: string | null, limit: number): Promise<AttemptSummary[]> {
    let q = this.#attemptSummaries();
    if (after !== null) q = q.where('attempts.id', '>', after);
    const rows = await q.orderBy('attempts.id').limit(limit).execute();
    return rows.map(toAttemptSummary);
  }

  async latestAttempts(limit: number): Promise<AttemptSummary[]> {
    const rows = await this.#attemptSummaries().orderBy('attempts.id', 'desc').limit(limit).execute();
    return rows.map(toAttemptSummary).reverse();
  }
}
