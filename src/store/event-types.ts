// The event-type catalog, and the one place that announces its changes: every create, update
// and delete publishes 'event-type-changed' (to every hookd process on PostgreSQL), which is
// what drops the ingest path's compiled validators (ingest/event-schemas.ts).
import type { EventType } from '../domain/index.ts';
import type { EventTypeQuery, EventTypes, Page } from './contracts.ts';
import { fromEventType, toEventType } from './rows.ts';
import type { SqlContext } from './sql-context.ts';

export class SqlEventTypes implements EventTypes {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  #changed(name: string): void {
    this.#ctx.dialect.notifier.publish('event-type-changed', name);
  }

  onChanged(listener: (name: string) => void): () => void {
    return this.#ctx.dialect.notifier.subscribe('event-type-changed', listener);
  }

  async create(eventType: EventType): Promise<boolean> {
    const result = await this.#ctx.db.insertInto('event_types').values(fromEventType(eventType))
      .onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
    const created = Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    if (created) this.#changed(eventType.name);
    return created;
  }

  async get(name: string): Promise<EventType | undefined> {
    const row = await this.#ctx.db.selectFrom('event_types').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toEventType(row);
  }

  async list(query: EventTypeQuery): Promise<Page<EventType>> {
    let q = this.#ctx.db.selectFrom('event_types').selectAll();
    if (query.after !== undefined) q = q.where('name', '>', query.after);
    const rows = await q.orderBy('name').limit(query.limit + 1).execute();
    const more = rows.length > query.limit;
    const items = rows.slice(0, query.limit).map(toEventType);
    return { items, nextAfter: more ? items[items.length - 1]!.name : null };
  }

  async update(eventType: EventType): Promise<boolean> {
    const { name, created_at: _created, ...values } = fromEventType(eventType);
    const result = await this.#ctx.db.updateTable('event_types').set(values).where('name', '=', name).executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    this.#changed(name);
    return true;
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.#ctx.db.deleteFrom('event_types').where('name', '=', name).executeTakeFirst();
    if (result.numDeletedRows === 0n) return false;
    this.#changed(name);
    return true;
  }

  async validating(): Promise<EventType[]> {
    const rows = await this.#ctx.db.selectFrom('event_types').selectAll().where('validate', '=', true).orderBy('name').execute();
    return rows.map(toEventType);
  }
}
