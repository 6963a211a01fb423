// The Store contract implemented once over Kysely for both databases. What differs between
// SQLite and PostgreSQL (claiming under concurrency, JSON containment, migrations,
// notifications) comes from the Dialect given to the constructor.
import { sql, type Expression, type ExpressionBuilder, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { planClaims, settleUpdates, type ClaimCandidate, type CandidateUpdate, type Quota } from '../delivery/claim-plan.ts';
import { patternsMatching } from '../routing/event-types.ts';
import type { Database } from './schema.ts';
import {
  fromApiKey, fromAttempt, fromDelivery, fromOperationalEvent, fromSubscription, toOperationalEvent, secretContext, toApiKey, toAttempt, toDelivery, toEvent, toSubscription,
} from './rows.ts';
import { SEALED_PREFIX, SecretBox } from './secret-box.ts';
import {
  DELIVERY_STATUSES,
  type ApiKey, type Attempt, type AttemptResult, type ClaimRequest, type ClaimedDelivery, type Delivery, type DeliveryQuery,
  type DeliveryStatus, type EventRecord, type NewEvent, type Notifier, type Page, type PendingFigures, type QueueFigures, type Store,
  type StoreKind, type Subscription, type SubscriptionQuery,
  type CircuitPolicy, type IdempotentResponse, type OperationalEvent, type OperationalNotice, type RequeueQuery,
} from './store.ts';
import { ATTEMPT_OUTCOMES, type AttemptOutcome, type AttemptStats, type AttemptSummary, type FailingSubscription, type StatsRange } from './store.ts';
import { toAttemptSummary } from './rows.ts';

export type SqlType = 'uuid' | 'text' | 'bigint' | 'float8';

export interface Dialect {
  readonly kind: StoreKind;
  readonly location: string;
  readonly notifier: Notifier;
  migrate(db: Kysely<Database>): Promise<void>;
  /** True when subscriptions.event_types holds any of the patterns. */
  eventTypesContainAny(patterns: readonly string[]): Expression<SqlBool>;
  /**
   * Runs a transaction whose commit need not reach the disk before it returns: claims and
   * attempt records. Losing the last of them to a power cut only makes deliveries be sent
   * again (at-least-once), never loses an event; ingestion commits stay fully durable.
   */
  relaxedTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Ids of at most `limit` finished deliveries created before `before`, for retention: found
   * through the partial index deliveries_retention, however many finished rows are newer.
   */
  finishedBefore(before: number, limit: number): RawBuilder<{ id: string }>;
  /** When the earliest unfinished delivery is due (an index lookup, however long the queue). */
  nextDueAt(db: Kysely<Database>): Promise<number | null>;
  /** A bound value with the type the database needs to compare it in a VALUES list. */
  typed(value: unknown, type: SqlType): RawBuilder<unknown>;
  /** Whether candidate rows can be locked with FOR UPDATE SKIP LOCKED (several claimers at once). */
  readonly skipLocked: boolean;
  /** Leases up to each quota's count of due deliveries of its subscription (FIFO: the head only, if due). */
  claimQuotas(trx: Kysely<Database>, quotas: readonly Quota[], request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /** Releases what the dialect holds besides the Kysely connection (listeners, timers). */
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;
// Status lists written as SQL literals, not bound parameters: SQLite uses a partial index
// only when the query's WHERE visibly implies the index's, which a parameter cannot.
const PENDING = sql<DeliveryStatus>`('queued', 'delivering')`;
export const TERMINAL = sql<DeliveryStatus>`('succeeded', 'failed', 'filtered', 'cancelled')`;
const DELIVERING = sql.lit('delivering');
export const DEFAULT_CIRCUIT: CircuitPolicy = { failureThreshold: 10, cooldownMs: 30_000 };
const SEAL_BATCH = 500;

function page<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, nextAfter: more ? items[items.length - 1]!.id : null };
}

export class SqlStore implements Store {
  readonly db: Kysely<Database>;
  /**
   * Where the read models' queries run (counts, statistics, lists): on SQLite a connection
   * in a worker thread, so that scanning a million rows does not stall the event loop; on
   * PostgreSQL the pool, as everything else.
   */
  readonly #reads: Kysely<Database>;
  readonly #dialect: Dialect;
  readonly #secrets: SecretBox;

  /** `secrets` seals subscription secrets at rest; without a key they are stored as given. */
  constructor(db: Kysely<Database>, dialect: Dialect, secrets: SecretBox = new SecretBox(), reads: Kysely<Database> = db) {
    this.db = db;
    this.#reads = reads;
    this.#dialect = dialect;
    this.#secrets = secrets;
  }

  get kind(): StoreKind {
    return this.#dialect.kind;
  }

  get location(): string {
    return this.#dialect.location;
  }

  get notifier(): Notifier {
    return this.#dialect.notifier;
  }

  migrate(): Promise<void> {
    return this.#dialect.migrate(this.db);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.#dialect.close();
    await this.db.destroy();
  }

  async createSubscription(subscription: Subscription): Promise<void> {
    await this.db.insertInto('subscriptions').values(fromSubscription(subscription, this.#secrets)).execute();
  }

  async getSubscription(id: string): Promise<Subscription | undefined> {
    const row = await this.db.selectFrom('subscriptions').selectAll()
      .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return row && toSubscription(row, this.#secrets);
  }

  async subscriptionKnown(id: string): Promise<boolean> {
    return (await this.db.selectFrom('subscriptions').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  async listSubscriptions(query: SubscriptionQuery): Promise<Page<Subscription>> {
    let q = this.db.selectFrom('subscriptions').selectAll().where('deleted_at', 'is', null);
    if (query.after) q = q.where('id', '>', query.after);
    if (query.eventType) q = q.where(this.#matchesEventType(query.eventType));
    const rows = await q.orderBy('id').limit(query.limit + 1).execute();
    return page(rows.map((row) => toSubscription(row, this.#secrets)), query.limit);
  }

  async subscriptionsForEventType(eventType: string): Promise<Subscription[]> {
    const rows = await this.db.selectFrom('subscriptions').selectAll()
      .where('deleted_at', 'is', null)
      .where('active', '=', true)
      .where('system', '=', false)
      .where(this.#matchesEventType(eventType))
      .orderBy('id')
      .execute();
    return rows.map((row) => toSubscription(row, this.#secrets));
  }

  #matchesEventType(eventType: string) {
    return (eb: ExpressionBuilder<Database, 'subscriptions'>) =>
      eb.or([eb('event_types', 'is', null), this.#dialect.eventTypesContainAny(patternsMatching(eventType))]);
  }

  async updateSubscription(subscription: Subscription, options: { resetHealth?: boolean } = {}): Promise<boolean> {
    const { id, created_at: _created, ...values } = fromSubscription(subscription, this.#secrets);
    const health = options.resetHealth
      ? { circuit_state: 'closed', consecutive_failures: 0, circuit_retry_at: null, failing_since: null }
      : {};
    const result = await this.db.updateTable('subscriptions').set({ ...values, ...health })
      .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (subscription.active) this.notifier.publish('deliveries-due', '');
    return result.numUpdatedRows > 0n;
  }

  async deleteSubscription(id: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('subscriptions').set({ deleted_at: now, active: false, updated_at: now })
        .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await trx.updateTable('deliveries')
        .set({ status: 'cancelled', next_attempt_at: null, lease_token: null, updated_at: now })
        .where('subscription_id', '=', id).where('status', 'in', PENDING).execute();
      return true;
    });
  }

  async countSubscriptions(): Promise<number> {
    const row = await this.db.selectFrom('subscriptions').select((eb) => eb.fn.countAll().as('n'))
      .where('deleted_at', 'is', null).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insertEvents(items: readonly NewEvent[]): Promise<void> {
    if (items.length === 0) return;
    await this.db.transaction().execute((trx) => insertEventRows(trx, items));
    if (items.some((item) => item.deliveries.some((d) => d.status === 'queued'))) {
      this.notifier.publish('deliveries-due', '');
    }
  }

  async deleteExpiredIdempotencyKeys(before: number, batchSize: number): Promise<number> {
    const expired = this.db.selectFrom('idempotency_keys').select('key').where('created_at', '<', before).limit(batchSize);
    const result = await this.db.deleteFrom('idempotency_keys')
      .where('created_at', '<', before).where('key', 'in', expired).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async findIdempotentResponse(scope: string, key: string, notBefore: number): Promise<IdempotentResponse | undefined> {
    const row = await this.db.selectFrom('idempotency_keys').selectAll()
      .where('scope', '=', scope).where('key', '=', key).where('created_at', '>=', notBefore).executeTakeFirst();
    return row && { scope: row.scope, key: row.key, requestHash: row.request_hash, response: row.response, createdAt: Number(row.created_at) };
  }

  async getEvent(id: string): Promise<EventRecord | undefined> {
    const row = await this.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEvent(row);
  }

  async claimDue(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    const { now, limit } = request;
    const claimed = await this.#dialect.relaxedTransaction(this.db, async (trx) => {
      // Subscriptions with due work that may send now, served longest ago first. On
      // PostgreSQL their rows stay locked until commit, so concurrent claimers work on other
      // subscriptions and per-subscription caps hold across processes.
      // Each with its deliveries in flight (leased and not expired), counted through the
      // partial index of delivering rows, in the same statement.
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
      if (this.#dialect.skipLocked) candidates = candidates.forUpdate().skipLocked();
      const rows = await candidates.execute();
      if (rows.length === 0) return [];
      const inFlight = new Map(rows.map((r) => [r.id, Number(r.in_flight ?? 0)]));
      const plan = planClaims(rows.map(toCandidate), inFlight, {
        now, limit, circuitCooldownMs: request.circuitCooldownMs ?? DEFAULT_CIRCUIT.cooldownMs, reserve: request.reserve,
      });
      if (plan.quotas.length === 0) return [];
      const leased = await this.#dialect.claimQuotas(trx, plan.quotas, request);
      const perSubscription = new Map<string, number>();
      for (const c of leased) perSubscription.set(c.delivery.subscriptionId, (perSubscription.get(c.delivery.subscriptionId) ?? 0) + 1);
      await writeClaimUpdates(trx, settleUpdates(plan.updates, perSubscription), this.#dialect.typed);
      return leased;
    });
    return claimed;
  }

  async recordAttempts(results: readonly AttemptResult[], circuit: CircuitPolicy = DEFAULT_CIRCUIT): Promise<boolean[]> {
    if (results.length === 0) return [];
    const written = await this.#dialect.relaxedTransaction(this.db, async (trx) => {
      // One statement per batch, fenced row by row: a row is written only while the lease
      // that sent the attempt still holds it. A delivery appears once per statement, so when
      // a batch holds two results for one delivery (a stale lease and its successor) they
      // are tried in turn, as if written one by one.
      const applied = new Array<boolean>(results.length).fill(false);
      for (const round of rounds(results)) {
        const typed = this.#dialect.typed;
        const values = sql.join(round.map(({ result: r }) => sql`(${typed(r.deliveryId, 'uuid')}, ${typed(r.leaseToken, 'text')}, ${typed(r.status, 'text')}, ${typed(r.nextAttemptAt, 'bigint')}, ${typed(r.attempt.createdAt, 'bigint')})`));
        const updated = await sql<{ id: string }>`
          with v (id, lease_token, status, next_attempt_at, attempted_at) as (values ${values})
          update deliveries set status = v.status, attempts = deliveries.attempts + 1, next_attempt_at = v.next_attempt_at,
            last_attempt_at = v.attempted_at, lease_token = null, manual_retry = ${false}, updated_at = v.attempted_at
          from v
          where deliveries.id = v.id and deliveries.lease_token = v.lease_token and deliveries.status = 'delivering'
          returning deliveries.id`.execute(trx);
        const writtenIds = new Set(updated.rows.map((row) => row.id));
        for (const { result, index } of round) applied[index] = writtenIds.has(result.deliveryId);
      }
      for (const [i, result] of results.entries()) {
        if (result.notice && applied[i]) await insertNotice(trx, result.notice);
      }
      const recorded = results.filter((_, i) => applied[i]);
      if (recorded.length > 0) {
        await trx.insertInto('attempts').values(recorded.map((r) => fromAttempt(r.attempt))).execute();
        await moveCircuits(trx, recorded, circuit);
      }
      return applied;
    });
    if (results.some((r, i) => written[i] && (r.status === 'queued' || r.notice?.delivery))) this.notifier.publish('deliveries-due', '');
    return written;
  }

  async releaseLeases(leases: readonly { deliveryId: string; leaseToken: string }[], now: number): Promise<number> {
    let released = 0;
    for (const lease of leases) {
      const result = await this.db.updateTable('deliveries')
        .set({ status: 'queued', next_attempt_at: now, lease_token: null, updated_at: now })
        .where('id', '=', lease.deliveryId).where('lease_token', '=', lease.leaseToken).where('status', '=', 'delivering')
        .executeTakeFirst();
      released += Number(result.numUpdatedRows);
    }
    if (released > 0) this.notifier.publish('deliveries-due', '');
    return released;
  }

  async disableSubscription(id: string, reason: string, now: number, notice: OperationalNotice | null): Promise<boolean> {
    const changed = await this.db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('subscriptions').set({ active: false, disabled_reason: reason, updated_at: now })
        .where('id', '=', id).where('active', '=', true).where('deleted_at', 'is', null).executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      if (notice) await insertNotice(trx, notice);
      return true;
    });
    if (changed) {
      this.notifier.publish('subscription-changed', id);
      if (notice?.delivery) this.notifier.publish('deliveries-due', '');
    }
    return changed;
  }

  async retryDelivery(id: string, now: number): Promise<Delivery | undefined> {
    const row = await this.db.updateTable('deliveries')
      .set({ status: 'queued', next_attempt_at: now, manual_retry: true, lease_token: null, updated_at: now })
      .where('id', '=', id).where('status', 'in', ['queued', 'failed', 'succeeded'])
      .returningAll().executeTakeFirst();
    if (row) {
      this.notifier.publish('deliveries-due', '');
      return toDelivery(row);
    }
    return this.getDelivery(id);
  }

  async requeueDeliveries(query: RequeueQuery, now: number, limit: number): Promise<number> {
    let batch = this.db.selectFrom('deliveries').select('id')
      .where('subscription_id', '=', query.subscriptionId).where('status', '=', query.status);
    if (query.since !== undefined) batch = batch.where('created_at', '>=', query.since);
    if (query.until !== undefined) batch = batch.where('created_at', '<', query.until);
    const result = await this.db.updateTable('deliveries')
      .set({ status: 'queued', next_attempt_at: now, manual_retry: true, lease_token: null, updated_at: now })
      .where('id', 'in', batch.limit(limit)).where('status', '=', query.status)
      .executeTakeFirst();
    const count = Number(result.numUpdatedRows);
    if (count > 0) this.notifier.publish('deliveries-due', '');
    return count;
  }

  async countDeliveries(query: Omit<DeliveryQuery, 'limit' | 'before'>): Promise<number> {
    let q = this.#reads.selectFrom('deliveries').select((eb) => eb.fn.countAll().as('n'));
    if (query.subscriptionId) q = q.where('subscription_id', '=', query.subscriptionId);
    if (query.status) q = q.where('status', '=', query.status);
    if (query.eventType) q = q.where('event_type', '=', query.eventType);
    if (query.since !== undefined) q = q.where('created_at', '>=', query.since);
    if (query.until !== undefined) q = q.where('created_at', '<', query.until);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async recentOperationalEvents(limit: number): Promise<OperationalEvent[]> {
    const rows = await this.db.selectFrom('operational_events').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toOperationalEvent);
  }

  async countOpenCircuits(): Promise<number> {
    const row = await this.db.selectFrom('subscriptions').select((eb) => eb.fn.countAll().as('n'))
      .where('deleted_at', 'is', null).where('circuit_state', '<>', 'closed').executeTakeFirstOrThrow();
    return Number(row.n);
  }

  nextDueAt(): Promise<number | null> {
    return this.#dialect.nextDueAt(this.db);
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    const row = await this.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDelivery(row);
  }

  async listDeliveries(query: DeliveryQuery): Promise<Page<Delivery>> {
    let q = this.#reads.selectFrom('deliveries').selectAll();
    if (query.before) q = q.where('id', '<', query.before);
    if (query.subscriptionId) q = q.where('subscription_id', '=', query.subscriptionId);
    if (query.status) q = q.where('status', '=', query.status);
    if (query.eventType) q = q.where('event_type', '=', query.eventType);
    if (query.since !== undefined) q = q.where('created_at', '>=', query.since);
    if (query.until !== undefined) q = q.where('created_at', '<', query.until);
    const rows = await q.orderBy('id', 'desc').limit(query.limit + 1).execute();
    return page(rows.map(toDelivery), query.limit);
  }

  async listAttempts(deliveryId: string): Promise<Attempt[]> {
    const rows = await this.db.selectFrom('attempts').selectAll()
      .where('delivery_id', '=', deliveryId).orderBy('attempt_number').orderBy('id').execute();
    return rows.map(toAttempt);
  }

  async deliveryCounts(): Promise<Record<DeliveryStatus, number>> {
    const rows = await this.#reads.selectFrom('deliveries').select(['status', (eb) => eb.fn.countAll().as('n')])
      .groupBy('status').execute();
    const counts = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>;
    for (const row of rows) counts[row.status as DeliveryStatus] = Number(row.n);
    return counts;
  }

  async pendingFigures(now: number): Promise<PendingFigures> {
    const pending = await this.#reads.selectFrom('deliveries')
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
      this.#reads.selectFrom('deliveries').select(['status', (eb) => eb.fn.countAll().as('n')])
        .where('status', 'in', ['succeeded', 'failed']).where('updated_at', '>=', now - HOUR_MS)
        .groupBy('status').execute(),
    ]);
    const finishedCount = (status: string) => Number(finished.find((r) => r.status === status)?.n ?? 0);
    return { ...pending, succeededLastHour: finishedCount('succeeded'), failedLastHour: finishedCount('failed') };
  }

  async deleteExpired(before: number, batchSize: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const deleted = await sql`delete from deliveries where id in (${this.#dialect.finishedBefore(before, batchSize)})`.execute(trx);
      const orphans = trx.selectFrom('events').select('id').where('created_at', '<', before)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('deliveries').select('id').whereRef('deliveries.event_id', '=', 'events.id'))))
        .limit(batchSize);
      await trx.deleteFrom('events').where('id', 'in', orphans).execute();
      const notices = trx.selectFrom('operational_events').select('id').where('created_at', '<', before).limit(batchSize);
      await trx.deleteFrom('operational_events').where('id', 'in', notices).execute();
      // Deleted subscriptions are kept while their deliveries' history is; then they go too.
      const gone = trx.selectFrom('subscriptions').select('id').where('deleted_at', '<', before)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('deliveries').select('id').whereRef('deliveries.subscription_id', '=', 'subscriptions.id'))))
        .limit(batchSize);
      await trx.deleteFrom('subscriptions').where('id', 'in', gone).execute();
      return Number(deleted.numAffectedRows ?? 0n);
    });
  }

  async createApiKey(key: ApiKey): Promise<boolean> {
    const result = await this.db.insertInto('api_keys').values(fromApiKey(key))
      .onConflict((oc) => oc.column('key_hash').doNothing()).executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async listApiKeys(): Promise<ApiKey[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toApiKey);
  }

  async revokeApiKey(id: string, now: number): Promise<boolean> {
    const result = await this.db.updateTable('api_keys').set({ revoked_at: now })
      .where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async touchApiKey(id: string, now: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  async prepareSecrets(): Promise<number> {
    const sample = await this.db.selectFrom('subscriptions').select(['id', 'secret'])
      .where('secret', 'like', `${SEALED_PREFIX}%`).limit(1).executeTakeFirst();
    if (sample) this.#secrets.open(sample.secret, secretContext(sample.id, 'secret'));
    if (!this.#secrets.encrypting) return 0;
    let sealed = 0;
    let after: string | undefined;
    for (;;) {
      let q = this.db.selectFrom('subscriptions').selectAll().where('secret', 'not like', `${SEALED_PREFIX}%`);
      if (after !== undefined) q = q.where('id', '>', after);
      const rows = await q.orderBy('id').limit(SEAL_BATCH).execute();
      for (const row of rows) {
        const { id, secret, previous_secret, headers } = fromSubscription(toSubscription(row, this.#secrets), this.#secrets);
        // Only the secret columns, and only while they are as read: a setting changed meanwhile
        // moved updated_at, and its own write sealed them already.
        const result = await this.db.updateTable('subscriptions').set({ secret, previous_secret, headers })
          .where('id', '=', id).where('updated_at', '=', Number(row.updated_at)).executeTakeFirst();
        if (result.numUpdatedRows > 0n) sealed++;
      }
      if (rows.length < SEAL_BATCH) return sealed;
      after = rows[rows.length - 1]!.id;
    }
  }

  // --- Read models of the web UI ---

  async countDeliveriesSince(since: number): Promise<number> {
    const row = await this.#reads.selectFrom('deliveries').select((eb) => eb.fn.countAll().as('n'))
      .where('created_at', '>=', since).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async attemptStats(range: StatsRange): Promise<AttemptStats> {
    const inRange = this.#reads.selectFrom('attempts').where('created_at', '>=', range.from).where('created_at', '<', range.to);
    // Nearest-rank percentiles with window functions, which SQLite and PostgreSQL share:
    // rank k of n holds the p-th percentile when k = ceil(p * n / 100), in integer arithmetic.
    const atRank = (percent: number) => sql<number | null>`max(case when rank = (${sql.lit(percent)} * n + 99) / 100 then duration_ms end)`;
    const bucket = sql<number>`created_at - created_at % ${range.bucketMs}`;
    const [outcomes, overall, buckets] = await Promise.all([
      inRange.select(['outcome', (eb) => eb.fn.countAll().as('n')]).groupBy('outcome').execute(),
      this.#reads.selectFrom(inRange.select([
        'duration_ms',
        sql<number>`row_number() over (order by duration_ms)`.as('rank'),
        sql<number>`count(*) over ()`.as('n'),
      ]).as('ranked')).select([atRank(50).as('p50'), atRank(95).as('p95')]).executeTakeFirst(),
      this.#reads.selectFrom(inRange.select([
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
    const rows = await this.#reads.selectFrom('attempts')
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
    const inactive = this.#reads.selectFrom('subscriptions').where('deleted_at', 'is', null).where('active', '=', false);
    const [rows, count] = await Promise.all([
      inactive.selectAll().orderBy('updated_at', 'desc').orderBy('id').limit(limit).execute(),
      inactive.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((row) => toSubscription(row, this.#secrets)), total: Number(count.n) };
  }

  #attemptSummaries() {
    return this.#reads.selectFrom('attempts')
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

type Trx = Kysely<Database>;

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

/** The claimed subscriptions' new state, in one statement: served now, tokens spent, probe out. */
async function writeClaimUpdates(trx: Trx, updates: readonly CandidateUpdate[], typed: Dialect['typed']): Promise<void> {
  if (updates.length === 0) return;
  const values = sql.join(updates.map((u) => sql`(${typed(u.subscriptionId, 'uuid')}, ${typed(u.lastClaimedAt, 'bigint')}, ${typed(u.rateTokens, 'float8')}, ${typed(u.rateRefilledAt, 'bigint')}, ${typed(u.halfOpenUntil, 'bigint')})`));
  await sql`
    with v (id, last_claimed_at, rate_tokens, rate_refilled_at, half_open_until) as (values ${values})
    update subscriptions set last_claimed_at = v.last_claimed_at,
      rate_tokens = coalesce(v.rate_tokens, subscriptions.rate_tokens),
      rate_refilled_at = coalesce(v.rate_refilled_at, subscriptions.rate_refilled_at),
      circuit_state = case when v.half_open_until is null then subscriptions.circuit_state else 'half_open' end,
      circuit_retry_at = coalesce(v.half_open_until, subscriptions.circuit_retry_at)
    from v where subscriptions.id = v.id`.execute(trx);
}

/**
 * The effect of a batch of attempts on their subscriptions' circuit breakers: a success
 * resets the count, and the failures after a subscription's last success add to it (opening
 * the circuit at the threshold). Healthy subscriptions, the common case, cost one statement
 * for the whole batch that writes nothing.
 */
async function moveCircuits(trx: Trx, recorded: readonly AttemptResult[], policy: CircuitPolicy): Promise<void> {
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
  for (const [subscriptionId, failures] of failuresAfterSuccess) {
    const trips = sql<boolean>`consecutive_failures + ${failures.count} >= ${policy.failureThreshold}`;
    await trx.updateTable('subscriptions').set((eb) => ({
      consecutive_failures: eb('consecutive_failures', '+', failures.count),
      failing_since: eb.fn.coalesce('failing_since', eb.val(failures.first)),
      circuit_state: eb.case().when(trips).then('open').else(eb.ref('circuit_state')).end(),
      circuit_retry_at: eb.case().when(trips).then(failures.last + policy.cooldownMs).else(eb.ref('circuit_retry_at')).end(),
    })).where('id', '=', subscriptionId).execute();
  }
}

async function insertEventRows(trx: Trx, items: readonly NewEvent[]): Promise<void> {
  await trx.insertInto('events').values(items.map(({ event }) => ({
    id: event.id, event_type: event.eventType, payload: event.payload, created_at: event.createdAt,
  }))).execute();
  const deliveries = items.flatMap((item) => item.deliveries.map(fromDelivery));
  // Chunked so that one statement stays within SQLite's bound-parameter limit.
  for (let i = 0; i < deliveries.length; i += 500) {
    await trx.insertInto('deliveries').values(deliveries.slice(i, i + 500)).execute();
  }
  const keys = items.flatMap((item) => (item.idempotency ? [item.idempotency] : []));
  if (keys.length > 0) {
    await trx.insertInto('idempotency_keys').values(keys.map((k) => ({
      scope: k.scope, key: k.key, request_hash: k.requestHash, response: k.response, created_at: k.createdAt,
    }))).execute();
  }
}

async function insertNotice(trx: Trx, notice: OperationalNotice): Promise<void> {
  await trx.insertInto('operational_events').values(fromOperationalEvent(notice.event)).execute();
  if (notice.delivery) await insertEventRows(trx, [notice.delivery]);
}
