// The read models: the figures of /api/v1/status, the metrics scrape and the dashboard, and
// the attempts of the live feed. Figures come from the counters kept with the writes
// (counters.ts) and from the queue's indexes, so none reads every retained row: each answers
// in milliseconds however much is stored.
import { sql, type Kysely } from 'kysely';
import { ATTEMPT_OUTCOMES, DELIVERY_STATUSES, type AttemptOutcome, type DeliveryStatus, type OperationalEvent, type Subscription } from '../domain/index.ts';
import type { AttemptBucket, AttemptStats, AttemptSummary, FailingSubscription, PendingFigures, QueueFigures, ReadModels, StatsRange } from './contracts.ts';
import { MINUTE_MS, MINUTES_KEPT_MS, QUARTER_MS, counterName, latencyBucket } from './counters.ts';
import { toAttemptSummary, toDestination, toOperationalEvent, toSubscription } from './rows.ts';
import type { Database } from './schema.ts';
import type { SqlContext } from './sql-context.ts';

const HOUR_MS = 3_600_000;

interface TimedCount {
  bucket: number;
  name: string;
  n: number;
  lastAt: number | null;
}

/** Nearest-rank percentile of a histogram: the smallest bucket holding the rank. */
function percentile(histogram: ReadonlyMap<number, number>, total: number, percent: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil((percent * total) / 100);
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket)!;
    if (seen >= rank) return bucket;
  }
  return null;
}

export class SqlReadModels implements ReadModels {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  async #totals(): Promise<Map<string, number>> {
    const rows = await this.#ctx.reads.selectFrom('counters').select(['name', (eb) => eb.fn.sum<number>('n').as('n')])
      .where('span', '=', 0).where('bucket', '=', 0).groupBy('name').execute();
    return new Map(rows.map((row) => [row.name, Number(row.n)]));
  }

  /** Timed counters of [from, to), in the span that suits the range, their shards summed; only those with a given prefix. */
  async #timed(from: number, to: number, prefix: string, span: number): Promise<TimedCount[]> {
    const rows = await this.#ctx.reads.selectFrom('counters')
      .select(['bucket', 'name', (eb) => eb.fn.sum<number>('n').as('n'), (eb) => eb.fn.max('last_at').as('last_at')])
      .where('span', '=', span).where('bucket', '>=', from - (from % span)).where('bucket', '<', to)
      .where('name', '>=', prefix).where('name', '<', `${prefix}\uffff`)
      .groupBy(['bucket', 'name']).execute();
    return rows.map((row) => ({ bucket: Number(row.bucket), name: row.name, n: Number(row.n), lastAt: row.last_at == null ? null : Number(row.last_at) }));
  }

  async deliveryCounts(): Promise<Record<DeliveryStatus, number>> {
    const now = Date.now();
    const [totals, inFlight] = await Promise.all([this.#totals(), this.#ctx.dialect.leases.inFlight(now)]);
    const counts = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, totals.get(counterName.deliveries(s)) ?? 0])) as Record<DeliveryStatus, number>;
    // The queued total counts every unfinished delivery; those leased now are being delivered.
    counts.delivering = Math.min(inFlight, counts.queued);
    counts.queued -= counts.delivering;
    return counts;
  }

  async pendingFigures(now: number): Promise<PendingFigures> {
    const { reads, dialect } = this.#ctx;
    const leased = dialect.leases.leasedRows(now);
    const [totals, inFlight, later, oldest] = await Promise.all([
      this.#totals(),
      dialect.leases.inFlight(now),
      // Both read each subscription's part of queue_due: not yet due (retries waiting for
      // their time, few however long the queue), and the earliest due row not leased.
      sql<{ n: number | null }>`select sum((select count(*) from queue where queue.subscription_id = s.id and queue.due_at > ${now})) as n
        from subscriptions s`.execute(reads),
      sql<{ at: number | null }>`select min((select due_at from queue where queue.subscription_id = s.id and queue.due_at <= ${now}
          and not (${leased}) order by due_at limit 1)) as at
        from subscriptions s`.execute(reads),
    ]);
    const depth = totals.get(counterName.deliveries('queued')) ?? 0;
    const flying = Math.min(inFlight, depth);
    return {
      depth,
      dueNow: Math.max(0, depth - flying - Number(later.rows[0]?.n ?? 0)),
      inFlight: flying,
      oldestDueAgeMs: oldest.rows[0]?.at == null ? 0 : Math.max(0, now - Number(oldest.rows[0].at)),
    };
  }

  async queueFigures(now: number): Promise<QueueFigures> {
    const [pending, finished] = await Promise.all([
      this.pendingFigures(now),
      this.#timed(now - HOUR_MS, now + 1, 'finished:', MINUTE_MS),
    ]);
    const lastHour = (status: 'succeeded' | 'failed') => finished
      .filter((c) => c.name === counterName.finished(status) && c.bucket + MINUTE_MS > now - HOUR_MS)
      .reduce((sum, c) => sum + c.n, 0);
    return { ...pending, succeededLastHour: lastHour('succeeded'), failedLastHour: lastHour('failed') };
  }

  async applicationQueueFigures(applicationId: string, now: number): Promise<PendingFigures> {
    const { reads, dialect } = this.#ctx;
    const leased = dialect.leases.leasedRows(now);
    // Each subscription's part of the queue, through queue_due: small for one application.
    const row = await reads.selectFrom('queue')
      .select([
        (eb) => eb.fn.countAll<number>().as('depth'),
        sql<number>`sum(case when ${leased} then 1 else 0 end)`.as('in_flight'),
        sql<number>`sum(case when queue.due_at <= ${now} and not (${leased}) then 1 else 0 end)`.as('due_now'),
        sql<number | null>`min(case when queue.due_at <= ${now} and not (${leased}) then queue.due_at end)`.as('oldest'),
      ])
      .where('subscription_id', 'in', ofApplication(reads, applicationId))
      .executeTakeFirstOrThrow();
    return {
      depth: Number(row.depth),
      dueNow: Number(row.due_now ?? 0),
      inFlight: Number(row.in_flight ?? 0),
      oldestDueAgeMs: row.oldest == null ? 0 : Math.max(0, now - Number(row.oldest)),
    };
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

  async countDeliveriesSince(since: number, applicationId?: string): Promise<number> {
    if (applicationId !== undefined) return this.#countApplicationDeliveriesSince(since, applicationId);
    // Minutes are kept for two hours; further back, quarter hours (counted from the one holding `since`).
    const span = Date.now() - since > MINUTES_KEPT_MS ? QUARTER_MS : MINUTE_MS;
    const counts = await this.#timed(since, Number.MAX_SAFE_INTEGER, counterName.created, span);
    return counts.filter((c) => c.name === counterName.created).reduce((sum, c) => sum + c.n, 0);
  }

  async #countApplicationDeliveriesSince(since: number, applicationId: string): Promise<number> {
    const { reads } = this.#ctx;
    // One statement, so one snapshot: a delivery finishing meanwhile moves from the queue to the
    // history in one transaction, and two separate counts could see it in both.
    const count = (table: 'queue' | 'deliveries') => reads.selectFrom(table).select((eb) => eb.fn.countAll().as('n'))
      .where('subscription_id', 'in', ofApplication(reads, applicationId)).where('created_at', '>=', since);
    const row = await reads.selectNoFrom([count('queue').as('pending'), count('deliveries').as('finished')]).executeTakeFirstOrThrow();
    return Number(row.pending) + Number(row.finished);
  }

  /**
   * One application's attempts of a range as the counters would give them: read from its
   * subscriptions' attempt rows (attempts_subscription), since the counters are kept for all
   * applications together.
   */
  async #applicationCounts(range: StatsRange, applicationId: string, span: number): Promise<TimedCount[][]> {
    const { reads } = this.#ctx;
    const rows = await reads.selectFrom('attempts').select(['created_at', 'outcome', 'duration_ms'])
      .where('subscription_id', 'in', ofApplication(reads, applicationId))
      .where('created_at', '>=', range.from).where('created_at', '<', range.to).execute();
    const outcomes = new Map<string, TimedCount>();
    const latencies = new Map<string, TimedCount>();
    const add = (map: Map<string, TimedCount>, bucket: number, name: string) => {
      const key = `${bucket}|${name}`;
      const entry = map.get(key);
      if (entry) entry.n++;
      else map.set(key, { bucket, name, n: 1, lastAt: null });
    };
    for (const row of rows) {
      const at = Number(row.created_at);
      const bucket = at - (at % span);
      add(outcomes, bucket, counterName.attempts(row.outcome as AttemptOutcome));
      add(latencies, bucket, counterName.latency(latencyBucket(Number(row.duration_ms))));
    }
    return [[...outcomes.values()], [...latencies.values()]];
  }

  async attemptStats(range: StatsRange, applicationId?: string): Promise<AttemptStats> {
    const span = range.bucketMs >= QUARTER_MS ? QUARTER_MS : MINUTE_MS;
    const [outcomes = [], latencies = []] = applicationId !== undefined
      ? await this.#applicationCounts(range, applicationId, span)
      : await Promise.all([
        this.#timed(range.from, range.to, 'attempts:', span),
        this.#timed(range.from, range.to, 'latency:', span),
      ]);
    const byOutcome = Object.fromEntries(ATTEMPT_OUTCOMES.map((o) => [o, 0])) as Record<AttemptOutcome, number>;
    const perBucket = new Map<number, { attempts: number; failures: number; histogram: Map<number, number> }>();
    const chartBucket = (at: number) => {
      const start = at - (at % range.bucketMs);
      let entry = perBucket.get(start);
      if (!entry) perBucket.set(start, entry = { attempts: 0, failures: 0, histogram: new Map() });
      return entry;
    };
    for (const c of outcomes) {
      const outcome = c.name.slice('attempts:'.length) as AttemptOutcome;
      if (!(outcome in byOutcome)) continue;
      byOutcome[outcome] += c.n;
      const entry = chartBucket(c.bucket);
      entry.attempts += c.n;
      if (outcome !== 'success') entry.failures += c.n;
    }
    const overall = new Map<number, number>();
    for (const c of latencies) {
      const ms = Number(c.name.slice('latency:'.length));
      overall.set(ms, (overall.get(ms) ?? 0) + c.n);
      const histogram = chartBucket(c.bucket).histogram;
      histogram.set(ms, (histogram.get(ms) ?? 0) + c.n);
    }
    const total = Object.values(byOutcome).reduce((sum, n) => sum + n, 0);
    const buckets: AttemptBucket[] = [...perBucket.entries()]
      .filter(([, entry]) => entry.attempts > 0)
      .sort(([a], [b]) => a - b)
      .map(([start, entry]) => ({ start, attempts: entry.attempts, failures: entry.failures, p95Ms: percentile(entry.histogram, entry.attempts, 95) }));
    return { byOutcome, p50Ms: percentile(overall, total, 50), p95Ms: percentile(overall, total, 95), buckets };
  }

  /** Where a subscription's deliveries go (see toSubscription). */
  #whereTo(row: { id: string; target_url: string; destination: unknown }): Pick<FailingSubscription, 'targetUrl' | 'destination'> {
    const destination = toDestination(row.id, row.destination, this.#ctx.secrets);
    return { targetUrl: destination ? null : row.target_url, destination };
  }

  async failingSubscriptions(from: number, to: number, limit: number, applicationId?: string): Promise<FailingSubscription[]> {
    const span = to - from > MINUTES_KEPT_MS ? QUARTER_MS : MINUTE_MS;
    const counts = await this.#timed(from, to, 'failures:', span);
    const bySubscription = new Map<string, { failures: number; last: number }>();
    for (const c of counts) {
      const id = c.name.slice('failures:'.length);
      const seen = bySubscription.get(id) ?? { failures: 0, last: 0 };
      bySubscription.set(id, { failures: seen.failures + c.n, last: Math.max(seen.last, c.lastAt ?? 0) });
    }
    if (bySubscription.size === 0) return [];
    let liveQuery = this.#ctx.reads.selectFrom('subscriptions').select(['id', 'target_url', 'destination'])
      .where('id', 'in', [...bySubscription.keys()]).where('deleted_at', 'is', null);
    if (applicationId !== undefined) liveQuery = liveQuery.where('application_id', '=', applicationId);
    const live = await liveQuery.execute();
    return live
      .map((s) => ({ id: s.id, ...this.#whereTo(s), failures: bySubscription.get(s.id)!.failures, lastFailureAt: bySubscription.get(s.id)!.last }))
      .sort((a, b) => b.failures - a.failures || (a.id < b.id ? -1 : 1))
      .slice(0, limit);
  }

  async inactiveSubscriptions(limit: number, applicationId?: string): Promise<{ items: Subscription[]; total: number }> {
    let inactive = this.#ctx.reads.selectFrom('subscriptions').where('deleted_at', 'is', null).where('active', '=', false);
    if (applicationId !== undefined) inactive = inactive.where('application_id', '=', applicationId);
    const [rows, count] = await Promise.all([
      inactive.selectAll().orderBy('updated_at', 'desc').orderBy('id').limit(limit).execute(),
      inactive.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((row) => toSubscription(row, this.#ctx.secrets)), total: Number(count.n) };
  }

  /** Attempts with their subscription's application. */
  #attempts(applicationId: string | undefined) {
    let q = this.#ctx.reads.selectFrom('attempts')
      .innerJoin('subscriptions', 'subscriptions.id', 'attempts.subscription_id')
      .selectAll('attempts').select('subscriptions.application_id');
    if (applicationId !== undefined) q = q.where('subscriptions.application_id', '=', applicationId);
    return q;
  }

  async attemptsAfter(after: string | null, limit: number, applicationId?: string): Promise<AttemptSummary[]> {
    let q = this.#attempts(applicationId);
    if (after !== null) q = q.where('attempts.id', '>', after);
    const rows = await q.orderBy('attempts.id').limit(limit).execute();
    return rows.map(toAttemptSummary);
  }

  async latestAttempts(limit: number, applicationId?: string): Promise<AttemptSummary[]> {
    const rows = await this.#attempts(applicationId).orderBy('attempts.id', 'desc').limit(limit).execute();
    return rows.map(toAttemptSummary).reverse();
  }
}

/** The ids of an application's subscriptions, deleted ones included (their history is its history). */
function ofApplication(db: Kysely<Database>, applicationId: string) {
  return db.selectFrom('subscriptions').select('id').where('application_id', '=', applicationId);
}
