// The delivery log: each delivery, its attempts and its event, as the API and the UI read
// them; and an operator's requests to send finished deliveries again (retry, replay).
import type { Attempt, Delivery, EventRecord } from '../domain/index.ts';
import type { DeliveryFilter, DeliveryLog, DeliveryQuery, Page, RequeueQuery } from './contracts.ts';
import { toAttempt, toDelivery, toEvent } from './rows.ts';
import { page, type SqlContext } from './sql-context.ts';

/** Statuses from which a manual retry queues the delivery again (not filtered or cancelled, nothing to send). */
const RETRYABLE = ['queued', 'failed', 'succeeded'];

export class SqlDeliveryLog implements DeliveryLog {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    const row = await this.#ctx.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDelivery(row);
  }

  #filtered(filter: DeliveryFilter) {
    let q = this.#ctx.reads.selectFrom('deliveries');
    if (filter.subscriptionId) q = q.where('subscription_id', '=', filter.subscriptionId);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.eventType) q = q.where('event_type', '=', filter.eventType);
    if (filter.since !== undefined) q = q.where('created_at', '>=', filter.since);
    if (filter.until !== undefined) q = q.where('created_at', '<', filter.until);
    return q;
  }

  async listDeliveries(query: DeliveryQuery): Promise<Page<Delivery>> {
    let q = this.#filtered(query).selectAll();
    if (query.before) q = q.where('id', '<', query.before);
    const rows = await q.orderBy('id', 'desc').limit(query.limit + 1).execute();
    return page(rows.map(toDelivery), query.limit);
  }

  async countDeliveries(filter: DeliveryFilter): Promise<number> {
    const row = await this.#filtered(filter).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async listAttempts(deliveryId: string): Promise<Attempt[]> {
    const rows = await this.#ctx.db.selectFrom('attempts').selectAll()
      .where('delivery_id', '=', deliveryId).orderBy('attempt_number').orderBy('id').execute();
    return rows.map(toAttempt);
  }

  async getEvent(id: string): Promise<EventRecord | undefined> {
    const row = await this.#ctx.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEvent(row);
  }

  async retryDelivery(id: string, now: number): Promise<Delivery | undefined> {
    const row = await this.#ctx.db.updateTable('deliveries')
      .set({ status: 'queued', next_attempt_at: now, manual_retry: true, lease_token: null, updated_at: now })
      .where('id', '=', id).where('status', 'in', RETRYABLE)
      .returningAll().executeTakeFirst();
    if (!row) return this.getDelivery(id);
    this.#ctx.dialect.notifier.publish('deliveries-due', '');
    return toDelivery(row);
  }

  async requeueDeliveries(query: RequeueQuery, now: number, limit: number): Promise<number> {
    const { db } = this.#ctx;
    let batch = db.selectFrom('deliveries').select('id')
      .where('subscription_id', '=', query.subscriptionId).where('status', '=', query.status);
    if (query.since !== undefined) batch = batch.where('created_at', '>=', query.since);
    if (query.until !== undefined) batch = batch.where('created_at', '<', query.until);
    const result = await db.updateTable('deliveries')
      .set({ status: 'queued', next_attempt_at: now, manual_retry: true, lease_token: null, updated_at: now })
      .where('id', 'in', batch.limit(limit)).where('status', '=', query.status)
      .executeTakeFirst();
    const count = Number(result.numUpdatedRows);
    if (count > 0) this.#ctx.dialect.notifier.publish('deliveries-due', '');
    return count;
  }
}
