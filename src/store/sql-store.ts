// The Store contract implemented once over Kysely for both databases. What differs between
// SQLite and PostgreSQL (claiming under concurrency, JSON containment, migrations,
// notifications) comes from the Dialect given to the constructor.
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { patternsMatching } from '../routing/event-types.ts';
import type { Database } from './schema.ts';
import { fromAttempt, fromDelivery, fromSubscription, toAttempt, toDelivery, toEvent, toSubscription } from './rows.ts';
import {
  DELIVERY_STATUSES, TERMINAL_STATUSES,
  type Attempt, type AttemptResult, type ClaimRequest, type ClaimedDelivery, type Delivery, type DeliveryQuery,
  type DeliveryStatus, type EventRecord, type NewEvent, type Notifier, type Page, type QueueFigures, type Store,
  type StoreKind, type Subscription, type SubscriptionQuery,
} from './store.ts';

export interface Dialect {
  readonly kind: StoreKind;
  readonly location: string;
  readonly notifier: Notifier;
  migrate(db: Kysely<Database>): Promise<void>;
  /** True when subscriptions.event_types holds any of the patterns. */
  eventTypesContainAny(patterns: readonly string[]): Expression<SqlBool>;
  claimDue(db: Kysely<Database>, request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /** Releases what the dialect holds besides the Kysely connection (listeners, timers). */
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;

function page<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, nextAfter: more ? items[items.length - 1]!.id : null };
}

export class SqlStore implements Store {
  readonly db: Kysely<Database>;
  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.db = db;
    this.#dialect = dialect;
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
    await this.db.insertInto('subscriptions').values(fromSubscription(subscription)).execute();
  }

  async getSubscription(id: string): Promise<Subscription | undefined> {
    const row = await this.db.selectFrom('subscriptions').selectAll()
      .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return row && toSubscription(row);
  }

  async listSubscriptions(query: SubscriptionQuery): Promise<Page<Subscription>> {
    let q = this.db.selectFrom('subscriptions').selectAll().where('deleted_at', 'is', null);
    if (query.after) q = q.where('id', '>', query.after);
    if (query.eventType) q = q.where(this.#matchesEventType(query.eventType));
    const rows = await q.orderBy('id').limit(query.limit + 1).execute();
    return page(rows.map(toSubscription), query.limit);
  }

  async subscriptionsForEventType(eventType: string): Promise<Subscription[]> {
    const rows = await this.db.selectFrom('subscriptions').selectAll()
      .where('deleted_at', 'is', null)
      .where('active', '=', true)
      .where(this.#matchesEventType(eventType))
      .orderBy('id')
      .execute();
    return rows.map(toSubscription);
  }

  #matchesEventType(eventType: string) {
    return (eb: ExpressionBuilder<Database, 'subscriptions'>) =>
      eb.or([eb('event_types', 'is', null), this.#dialect.eventTypesContainAny(patternsMatching(eventType))]);
  }

  async updateSubscription(subscription: Subscription): Promise<boolean> {
    const { id, created_at: _created, ...values } = fromSubscription(subscription);
    const result = await this.db.updateTable('subscriptions').set(values)
      .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteSubscription(id: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('subscriptions').set({ deleted_at: now, active: false, updated_at: now })
        .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await trx.updateTable('deliveries')
        .set({ status: 'cancelled', next_attempt_at: null, lease_token: null, updated_at: now })
        .where('subscription_id', '=', id).where('status', 'in', ['queued', 'delivering']).execute();
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
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('events').values(items.map(({ event }) => ({
        id: event.id, event_type: event.eventType, payload: event.payload, created_at: event.createdAt,
      }))).execute();
      const deliveries = items.flatMap((item) => item.deliveries.map(fromDelivery));
      // Chunked so that one statement stays within SQLite's bound-parameter limit.
      for (let i = 0; i < deliveries.length; i += 500) {
        await trx.insertInto('deliveries').values(deliveries.slice(i, i + 500)).execute();
      }
    });
    if (items.some((item) => item.deliveries.some((d) => d.status === 'queued'))) {
      this.notifier.publish('deliveries-due', '');
    }
  }

  async getEvent(id: string): Promise<EventRecord | undefined> {
    const row = await this.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEvent(row);
  }

  claimDue(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    return this.#dialect.claimDue(this.db, request);
  }

  async recordAttempts(results: readonly AttemptResult[]): Promise<boolean[]> {
    if (results.length === 0) return [];
    const written = await this.db.transaction().execute(async (trx) => {
      const applied: boolean[] = [];
      for (const result of results) {
        const update = await trx.updateTable('deliveries')
          .set((eb) => ({
            status: result.status,
            attempts: eb('attempts', '+', 1),
            next_attempt_at: result.nextAttemptAt,
            last_attempt_at: result.attempt.createdAt,
            lease_token: null,
            updated_at: result.attempt.createdAt,
          }))
          .where('id', '=', result.deliveryId)
          .where('lease_token', '=', result.leaseToken)
          .where('status', '=', 'delivering')
          .executeTakeFirst();
        applied.push(update.numUpdatedRows > 0n);
      }
      const attempts = results.filter((_, i) => applied[i]).map((r) => fromAttempt(r.attempt));
      if (attempts.length > 0) await trx.insertInto('attempts').values(attempts).execute();
      return applied;
    });
    if (results.some((r, i) => written[i] && r.status === 'queued')) this.notifier.publish('deliveries-due', '');
    return written;
  }

  async nextDueAt(): Promise<number | null> {
    const row = await this.db.selectFrom('deliveries').select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('status', 'in', ['queued', 'delivering']).executeTakeFirst();
    return row?.at == null ? null : Number(row.at);
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    const row = await this.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDelivery(row);
  }

  async listDeliveries(query: DeliveryQuery): Promise<Page<Delivery>> {
    let q = this.db.selectFrom('deliveries').selectAll();
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
    const rows = await this.db.selectFrom('deliveries').select(['status', (eb) => eb.fn.countAll().as('n')])
      .groupBy('status').execute();
    const counts = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>;
    for (const row of rows) counts[row.status as DeliveryStatus] = Number(row.n);
    return counts;
  }

  async queueFigures(now: number): Promise<QueueFigures> {
    const pending = await this.db.selectFrom('deliveries')
      .select((eb) => [
        eb.fn.countAll().as('depth'),
        eb.fn.sum(eb.case().when('status', '=', 'queued').then(eb.case().when('next_attempt_at', '<=', now).then(1).else(0).end()).else(0).end()).as('due'),
        eb.fn.sum(eb.case().when('status', '=', 'delivering').then(1).else(0).end()).as('in_flight'),
        eb.fn.min(eb.case().when('status', '=', 'queued').then(eb.case().when('next_attempt_at', '<=', now).then(eb.ref('next_attempt_at')).end()).end()).as('oldest_due'),
      ])
      .where('status', 'in', ['queued', 'delivering'])
      .executeTakeFirstOrThrow();
    const finished = await this.db.selectFrom('deliveries').select(['status', (eb) => eb.fn.countAll().as('n')])
      .where('status', 'in', ['succeeded', 'failed']).where('updated_at', '>=', now - HOUR_MS)
      .groupBy('status').execute();
    const finishedCount = (status: string) => Number(finished.find((r) => r.status === status)?.n ?? 0);
    const oldestDue = pending.oldest_due == null ? null : Number(pending.oldest_due);
    return {
      depth: Number(pending.depth),
      dueNow: Number(pending.due ?? 0),
      inFlight: Number(pending.in_flight ?? 0),
      oldestDueAgeMs: oldestDue === null ? 0 : Math.max(0, now - oldestDue),
      succeededLastHour: finishedCount('succeeded'),
      failedLastHour: finishedCount('failed'),
    };
  }

  async deleteExpired(before: number, batchSize: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const expired = trx.selectFrom('deliveries').select('id')
        .where('status', 'in', TERMINAL_STATUSES as DeliveryStatus[]).where('created_at', '<', before).limit(batchSize);
      const deleted = await trx.deleteFrom('deliveries').where('id', 'in', expired).executeTakeFirst();
      const orphans = trx.selectFrom('events').select('id').where('created_at', '<', before)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('deliveries').select('id').whereRef('deliveries.event_id', '=', 'events.id'))))
        .limit(batchSize);
      await trx.deleteFrom('events').where('id', 'in', orphans).execute();
      // Deleted subscriptions are kept while their deliveries' history is; then they go too.
      const gone = trx.selectFrom('subscriptions').select('id').where('deleted_at', '<', before)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('deliveries').select('id').whereRef('deliveries.subscription_id', '=', 'subscriptions.id'))))
        .limit(batchSize);
      await trx.deleteFrom('subscriptions').where('id', 'in', gone).execute();
      return Number(deleted.numDeletedRows);
    });
  }
}
