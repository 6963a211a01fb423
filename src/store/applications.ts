// Applications (tenants) as stored. Deleting one deletes its subscriptions the way deleting a
// subscription does (their unfinished deliveries are cancelled, their history kept), and
// revokes its API keys and portal sessions, all in one transaction; the application's row
// stays, marked deleted, so its history still names it until retention removes it.
import type { Application } from '../domain/index.ts';
import type { ApplicationQuery, Applications, Page } from './contracts.ts';
import { fromApplication, toApplication } from './rows.ts';
import { rerunOnContention } from './errors.ts';
import { page, type SqlContext } from './sql-context.ts';
import { deleteSubscriptions } from './subscriptions.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SqlApplications implements Applications {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  async create(application: Application): Promise<void> {
    await this.#ctx.db.insertInto('applications').values(fromApplication(application)).execute();
  }

  async find(idOrUid: string): Promise<Application | undefined> {
    // Uids never look like ids (APPLICATION_UID_PATTERN), so one lookup is enough.
    const row = await this.#ctx.db.selectFrom('applications').selectAll()
      .where(UUID.test(idOrUid) ? 'id' : 'uid', '=', UUID.test(idOrUid) ? idOrUid.toLowerCase() : idOrUid)
      .where('deleted_at', 'is', null).executeTakeFirst();
    return row && toApplication(row);
  }

  async known(id: string): Promise<boolean> {
    return (await this.#ctx.db.selectFrom('applications').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  async list(query: ApplicationQuery): Promise<Page<Application>> {
    let q = this.#ctx.db.selectFrom('applications').selectAll().where('deleted_at', 'is', null);
    if (query.id) q = q.where('id', '=', query.id);
    if (query.after) q = q.where('id', '>', query.after);
    const rows = await q.orderBy('id').limit(query.limit + 1).execute();
    return page(rows.map(toApplication), query.limit);
  }

  async update(application: Application): Promise<boolean> {
    const { id, created_at: _created, ...values } = fromApplication(application);
    const result = await this.#ctx.db.updateTable('applications').set(values)
      .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async delete(id: string, now: number): Promise<boolean> {
    // A worker recording an attempt locks a queue row, then its subscription; this locks the
    // subscriptions, then their queue rows: on PostgreSQL the two may deadlock, and one is
    // rolled back. Ours is then run again (it changes nothing twice).
    return rerunOnContention(() => this.#delete(id, now));
  }

  async #delete(id: string, now: number): Promise<boolean> {
    const { db, dialect } = this.#ctx;
    const deleted = await db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('applications').set({ deleted_at: now, updated_at: now })
        .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
      if (result.numUpdatedRows === 0n) return null;
      const subscriptions = await trx.selectFrom('subscriptions').select('id')
        .where('application_id', '=', id).where('deleted_at', 'is', null).execute();
      const ids = subscriptions.map((s) => s.id);
      await deleteSubscriptions(this.#ctx, trx, ids, now);
      await trx.updateTable('api_keys').set({ revoked_at: now }).where('application_id', '=', id).where('revoked_at', 'is', null).execute();
      await trx.updateTable('portal_sessions').set({ revoked_at: now }).where('application_id', '=', id).where('revoked_at', 'is', null).execute();
      return ids;
    });
    if (deleted === null) return false;
    for (const subscriptionId of deleted) dialect.notifier.publish('subscription-changed', subscriptionId);
    return true;
  }
}
