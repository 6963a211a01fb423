// The delivery log: each delivery, its attempts and its event, as the API and the UI read
// them, wherever the delivery is (in the queue while unfinished, in `deliveries` once
// finished); and an operator's requests to send finished deliveries again (retry, replay),
// which move them back into the queue.
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Attempt, Delivery, DeliveryStatus, EventRecord } from '../domain/index.ts';
import type { DeliveryFilter, DeliveryLog, DeliveryQuery, Page, RequeueQuery } from './contracts.ts';
import { CounterChanges } from './counters.ts';
import { fromFinishedRow, fromQueueRow, toAttempt, toEvent } from './rows.ts';
import type { Database } from './schema.ts';
import { page, type SqlContext } from './sql-context.ts';

const QUEUE_STATUSES: readonly DeliveryStatus[] = ['queued', 'delivering'];
/** The columns both tables answer with, the queue's status worked out from its lease. */
const COLUMNS = ['id', 'event_id', 'subscription_id', 'event_type', 'attempts', 'last_attempt_at', 'created_at', 'updated_at'] as const;

type Row = Record<string, unknown>;

function toDelivery(row: Row): Delivery {
  const status = row.status as DeliveryStatus;
  return QUEUE_STATUSES.includes(status) ? fromQueueRow(row, status === 'delivering') : fromFinishedRow(row);
}

export class SqlDeliveryLog implements DeliveryLog {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  /** Queue rows with their status: delivering while a lease holds, else queued. */
  #queueRows(db: Kysely<Database>, now: number) {
    const leased = this.#ctx.dialect.leases.leasedRows(now);
    return db.selectFrom('queue').select([
      ...COLUMNS,
      sql<string>`case when ${leased} then 'delivering' else 'queued' end`.as('status'),
      'due_at', 'manual_retry',
    ]);
  }

  #finishedRows(db: Kysely<Database>) {
    return db.selectFrom('deliveries').select([...COLUMNS, 'status', sql<number | null>`cast(null as bigint)`.as('due_at'), sql<boolean>`false`.as('manual_retry')]);
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    const { db } = this.#ctx;
    const queued = await this.#queueRows(db, Date.now()).where('id', '=', id).executeTakeFirst();
    if (queued) return fromQueueRow(queued, queued.status === 'delivering');
    const finished = await db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return finished && fromFinishedRow(finished);
  }

  /**
   * The two sides of a listing, each filtered and (when `limit` is given) cut to its newest
   * rows through its own index, so merging them reads no more than it returns.
   */
  #sides(filter: DeliveryFilter & { before?: string }, limit: number | undefined) {
    const { reads, dialect } = this.#ctx;
    const now = Date.now();
    const narrow = <Q extends SelectQueryBuilder<Database, 'queue' | 'deliveries', Row>>(q: Q): Q => {
      let out = q;
      if (filter.applicationId) {
        // Through the subscriptions: deliveries carry no application of their own, so the queue's rows stay as lean as they were.
        const ofApplication = reads.selectFrom('subscriptions').select('id').where('application_id', '=', filter.applicationId);
        out = out.where('subscription_id', 'in', ofApplication) as Q;
      }
      if (filter.subscriptionId) out = out.where('subscription_id', '=', filter.subscriptionId) as Q;
      if (filter.eventType) out = out.where('event_type', '=', filter.eventType) as Q;
      if (filter.since !== undefined) out = out.where('created_at', '>=', filter.since) as Q;
      if (filter.until !== undefined) out = out.where('created_at', '<', filter.until) as Q;
      if (filter.before) out = out.where('id', '<', filter.before) as Q;
      if (limit !== undefined) out = out.orderBy('id', 'desc').limit(limit) as Q;
      return out;
    };
    const sides: SelectQueryBuilder<Database, 'queue' | 'deliveries', Row>[] = [];
    const status = filter.status;
    if (status === undefined || QUEUE_STATUSES.includes(status)) {
      let queue = this.#queueRows(reads, now) as unknown as SelectQueryBuilder<Database, 'queue' | 'deliveries', Row>;
      if (status !== undefined) {
        const leased = dialect.leases.leasedRows(now);
        queue = queue.where(status === 'delivering' ? leased : sql<boolean>`not (${leased})`);
      }
      sides.push(narrow(queue));
    }
    if (status === undefined || !QUEUE_STATUSES.includes(status)) {
      let finished = this.#finishedRows(reads) as unknown as SelectQueryBuilder<Database, 'queue' | 'deliveries', Row>;
      if (status !== undefined) finished = finished.where('status', '=', status);
      sides.push(narrow(finished));
    }
    return sides;
  }

  async listDeliveries(query: DeliveryQuery): Promise<Page<Delivery>> {
    const { reads } = this.#ctx;
    const [first, second] = this.#sides(query, query.limit + 1).map((side, i) => reads.selectFrom(side.as(`side${i}`)).selectAll());
    const both = second ? first!.unionAll(second) : first!;
    const rows = await reads.selectFrom(both.as('d')).selectAll().orderBy('id', 'desc').limit(query.limit + 1).execute();
    return page(rows.map(toDelivery), query.limit);
  }

  async countDeliveries(filter: DeliveryFilter): Promise<number> {
    const { reads } = this.#ctx;
    // Both sides in one statement, so one snapshot: a delivery that finishes meanwhile is not
    // seen in the queue by one count and in the history by the other.
    const counts = this.#sides(filter, undefined)
      .map((side, i) => reads.selectFrom(side.as(`side${i}`)).select((eb) => eb.fn.countAll().as('n')).as(`n${i}`));
    const row: Record<string, unknown> = await reads.selectNoFrom(counts).executeTakeFirstOrThrow();
    return Object.values(row).reduce<number>((sum, n) => sum + Number(n), 0);
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
    const { db, dialect } = this.#ctx;
    const queued = await db.transaction().execute(async (trx) => {
      const inQueue = await this.#queueRows(trx, now).where('id', '=', id).executeTakeFirst();
      if (inQueue) {
        // One being sent right now is left to its attempt.
        if (inQueue.status === 'delivering') return false;
        await trx.updateTable('queue').set({ due_at: now, manual_retry: true, updated_at: now }).where('id', '=', id).execute();
        return true;
      }
      const moved = await moveToQueue(trx, trx.selectFrom('deliveries').select('id').where('id', '=', id).where('status', 'in', ['failed', 'succeeded']), now);
      if (moved.n === 0) return false;
      await dialect.addToCounters(trx, moved.changes.rows);
      return true;
    });
    if (queued) dialect.notifier.publish('deliveries-due', '');
    const delivery = await this.getDelivery(id);
    // Queued is what the retry did, whatever a worker has made of it since (it may be
    // being sent already): answering with a later state would say the retry was refused.
    return queued && delivery ? { ...delivery, status: 'queued' } : delivery;
  }

  async requeueDeliveries(query: RequeueQuery, now: number, limit: number): Promise<number> {
    const { db, dialect } = this.#ctx;
    const count = await db.transaction().execute(async (trx) => {
      let batch = trx.selectFrom('deliveries').select('id')
        .where('subscription_id', '=', query.subscriptionId).where('status', '=', query.status);
      if (query.since !== undefined) batch = batch.where('created_at', '>=', query.since);
      if (query.until !== undefined) batch = batch.where('created_at', '<', query.until);
      const moved = await moveToQueue(trx, batch.limit(limit), now);
      await dialect.addToCounters(trx, moved.changes.rows);
      return moved.n;
    });
    if (count > 0) dialect.notifier.publish('deliveries-due', '');
    return count;
  }
}

/**
 * Moves the finished deliveries that `ids` selects back into the queue, due now, for a
 * manual attempt: their history (attempts so far) goes with them.
 */
async function moveToQueue(trx: Kysely<Database>, ids: SelectQueryBuilder<Database, 'deliveries', { id: string }>, now: number): Promise<{ n: number; changes: CounterChanges }> {
  const rows = await trx.deleteFrom('deliveries').where('id', 'in', ids).returningAll().execute();
  const changes = new CounterChanges();
  if (rows.length === 0) return { n: 0, changes };
  await trx.insertInto('queue').values(rows.map((row) => ({
    id: row.id, event_id: row.event_id, subscription_id: row.subscription_id, event_type: row.event_type, attempts: row.attempts,
    due_at: now, last_attempt_at: row.last_attempt_at, manual_retry: true, created_at: row.created_at, updated_at: now,
  }))).execute();
  for (const row of rows) changes.moved(row.status as DeliveryStatus, 'queued');
  return { n: rows.length, changes };
}
