// Subscription records, and the one place that announces their changes: every create,
// update, disable and delete publishes 'subscription-changed' (to every hookd process on
// PostgreSQL), which is what drops cached copies (subscription-cache.ts).
import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { OperationalNotice, Subscription } from '../domain/index.ts';
import { patternsMatching } from '../routing/event-types.ts';
import type { Page, SubscriptionQuery, Subscriptions } from './contracts.ts';
import { insertNotice } from './queue/outbox.ts';
import { fromSubscription, toSubscription } from './rows.ts';
import type { Database } from './schema.ts';
import { CounterChanges } from './counters.ts';
import { rerunOnContention } from './errors.ts';
import { page, type SqlContext } from './sql-context.ts';

export class SqlSubscriptions implements Subscriptions {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  #changed(id: string): void {
    this.#ctx.dialect.notifier.publish('subscription-changed', id);
  }

  onChanged(listener: (id: string) => void): () => void {
    return this.#ctx.dialect.notifier.subscribe('subscription-changed', listener);
  }

  async create(subscription: Subscription): Promise<void> {
    await this.#ctx.db.insertInto('subscriptions').values(fromSubscription(subscription, this.#ctx.secrets)).execute();
    this.#changed(subscription.id);
  }

  async get(id: string): Promise<Subscription | undefined> {
    const row = await this.#ctx.db.selectFrom('subscriptions').selectAll()
      .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return row && toSubscription(row, this.#ctx.secrets);
  }

  async known(id: string): Promise<boolean> {
    return (await this.applicationOf(id)) !== undefined;
  }

  async applicationOf(id: string): Promise<string | undefined> {
    const row = await this.#ctx.db.selectFrom('subscriptions').select('application_id').where('id', '=', id).executeTakeFirst();
    return row?.application_id;
  }

  async list(query: SubscriptionQuery): Promise<Page<Subscription>> {
    let q = this.#ctx.db.selectFrom('subscriptions').selectAll().where('deleted_at', 'is', null);
    if (query.applicationId) q = q.where('application_id', '=', query.applicationId);
    if (query.after) q = q.where('id', '>', query.after);
    if (query.eventType) q = q.where(this.#matchesEventType(query.eventType));
    const rows = await q.orderBy('id').limit(query.limit + 1).execute();
    return page(rows.map((row) => toSubscription(row, this.#ctx.secrets)), query.limit);
  }

  async forEventType(applicationId: string, eventType: string): Promise<Subscription[]> {
    const rows = await this.#ctx.db.selectFrom('subscriptions').selectAll()
      .where('application_id', '=', applicationId)
      .where('deleted_at', 'is', null)
      .where('active', '=', true)
      .where('system', '=', false)
      .where(this.#matchesEventType(eventType))
      .orderBy('id')
      .execute();
    return rows.map((row) => toSubscription(row, this.#ctx.secrets));
  }

  #matchesEventType(eventType: string) {
    return (eb: ExpressionBuilder<Database, 'subscriptions'>) =>
      eb.or([eb('event_types', 'is', null), this.#ctx.dialect.eventTypesContainAny(patternsMatching(eventType))]);
  }

  async update(subscription: Subscription, options: { resetHealth?: boolean } = {}): Promise<boolean> {
    const { id, created_at: _created, ...values } = fromSubscription(subscription, this.#ctx.secrets);
    const health = options.resetHealth
      ? { circuit_state: 'closed', consecutive_failures: 0, circuit_retry_at: null, failing_since: null }
      : {};
    const result = await this.#ctx.db.updateTable('subscriptions').set({ ...values, ...health })
      .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    this.#changed(id);
    // Reactivated or relieved of a cap: its waiting deliveries may go now.
    if (subscription.active) this.#ctx.dialect.notifier.publish('deliveries-due', '');
    return true;
  }

  async delete(id: string, now: number): Promise<boolean> {
    // Like an application's deletion, it may deadlock with a worker recording an attempt.
    const deleted = await rerunOnContention(() => this.#ctx.db.transaction().execute(async (trx) => (await deleteSubscriptions(this.#ctx, trx, [id], now)) > 0));
    if (deleted) this.#changed(id);
    return deleted;
  }

  async disable(id: string, reason: string, now: number, notice: OperationalNotice | null): Promise<boolean> {
    const changed = await this.#ctx.db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('subscriptions').set({ active: false, disabled_reason: reason, updated_at: now })
        .where('id', '=', id).where('active', '=', true).where('deleted_at', 'is', null).executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      if (notice) {
        const changes = new CounterChanges();
        await insertNotice(trx, notice, changes);
        await this.#ctx.dialect.addToCounters(trx, changes.rows);
      }
      return true;
    });
    if (changed) {
      this.#changed(id);
      if (notice?.delivery) this.#ctx.dialect.notifier.publish('deliveries-due', '');
    }
    return changed;
  }

  async count(): Promise<number> {
    const row = await this.#ctx.db.selectFrom('subscriptions').select((eb) => eb.fn.countAll().as('n'))
      .where('deleted_at', 'is', null).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

/**
 * Deletes the live subscriptions among `ids`, in the caller's transaction; returns how many.
 * Their unfinished deliveries leave the queue for the delivery log, cancelled. A lease held on
 * one meanwhile finds no row to settle: its result is refused. The caller announces the changes.
 */
export async function deleteSubscriptions(ctx: SqlContext, trx: Kysely<Database>, ids: readonly string[], now: number): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await trx.updateTable('subscriptions').set({ deleted_at: now, active: false, updated_at: now })
    .where('id', 'in', ids).where('deleted_at', 'is', null).executeTakeFirst();
  if (result.numUpdatedRows === 0n) return 0;
  const cancelled = await trx.insertInto('deliveries')
    .columns(['id', 'event_id', 'subscription_id', 'event_type', 'status', 'attempts', 'last_attempt_at', 'created_at', 'updated_at'])
    .expression(trx.selectFrom('queue')
      .select(['id', 'event_id', 'subscription_id', 'event_type', sql.lit('cancelled').as('status'), 'attempts', 'last_attempt_at', 'created_at', sql.val(now).as('updated_at')])
      .where('subscription_id', 'in', ids))
    .executeTakeFirst();
  await trx.deleteFrom('queue').where('subscription_id', 'in', ids).execute();
  await ctx.dialect.addToCounters(trx, new CounterChanges().moved('queued', 'cancelled', Number(cancelled.numInsertedOrUpdatedRows ?? 0n)).rows);
  return Number(result.numUpdatedRows);
}
