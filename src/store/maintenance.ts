// Keeping the database in order: its schema, a health check, secrets at rest, and the
// deletion of expired history (run by retention/).
import { sql } from 'kysely';
import type { DeliveryStatus } from '../domain/index.ts';
import type { Maintenance } from './contracts.ts';
import { CounterChanges, KEEP_MS } from './counters.ts';
import { fromSubscription, toSubscription } from './rows.ts';
import { SEALED_PREFIX } from './secret-box.ts';
import type { SqlContext } from './sql-context.ts';

const SEAL_BATCH = 500;

export class SqlMaintenance implements Maintenance {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  migrate(): Promise<void> {
    return this.#ctx.dialect.migrate(this.#ctx.db);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#ctx.db);
  }

  async prepareSecrets(): Promise<number> {
    await this.#openSealedValues();
    if (!this.#ctx.secrets.encrypting) return 0;
    const plain = await this.#ctx.db.selectFrom('subscriptions').select('id').where('secret', 'not like', `${SEALED_PREFIX}%`).limit(1).executeTakeFirst();
    if (!plain) return 0;
    // The plain values must not survive in the database's files beside their sealed versions.
    return this.#ctx.dialect.eraseOldVersions(this.#ctx.db, ['subscriptions'], () => this.#sealPlainSecrets());
  }

  /**
   * Opens every value that looks sealed, in any column that may hold one, so that one that
   * cannot be opened (no key, another key, or a plain value that merely looks sealed) stops the
   * start with a message naming it, instead of failing the requests that read it.
   */
  async #openSealedValues(): Promise<void> {
    let after: string | undefined;
    for (;;) {
      let q = this.#ctx.db.selectFrom('subscriptions').selectAll().where((eb) => eb.or([
        eb('secret', 'like', `${SEALED_PREFIX}%`),
        eb('previous_secret', 'like', `${SEALED_PREFIX}%`),
        eb(sql<string>`cast(headers as text)`, 'like', `%"${SEALED_PREFIX}%`),
      ]));
      if (after !== undefined) q = q.where('id', '>', after);
      const rows = await q.orderBy('id').limit(SEAL_BATCH).execute();
      for (const row of rows) toSubscription(row, this.#ctx.secrets);
      if (rows.length < SEAL_BATCH) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  async #sealPlainSecrets(): Promise<number> {
    let sealed = 0;
    let after: string | undefined;
    for (;;) {
      let q = this.#ctx.db.selectFrom('subscriptions').selectAll().where('secret', 'not like', `${SEALED_PREFIX}%`);
      if (after !== undefined) q = q.where('id', '>', after);
      const rows = await q.orderBy('id').limit(SEAL_BATCH).execute();
      for (const row of rows) {
        const { id, secret, previous_secret, headers, destination } = fromSubscription(toSubscription(row, this.#ctx.secrets), this.#ctx.secrets);
        // Only the secret columns, and only while they are as read: a setting changed meanwhile
        // moved updated_at, and its own write sealed them already.
        const result = await this.#ctx.db.updateTable('subscriptions').set({ secret, previous_secret, headers, destination })
          .where('id', '=', id).where('updated_at', '=', Number(row.updated_at)).executeTakeFirst();
        if (result.numUpdatedRows > 0n) sealed++;
      }
      if (rows.length < SEAL_BATCH) return sealed;
      after = rows[rows.length - 1]!.id;
    }
  }

  async deleteExpired(before: number, batchSize: number): Promise<number> {
    const { db, dialect } = this.#ctx;
    return db.transaction().execute(async (trx) => {
      // Finished deliveries first, with their attempts and what they counted. Only when none
      // is left to delete do their events go: an event and its deliveries are created at the
      // same moment, so by then no finished delivery of an old event remains, and the queue
      // (queue_event) says which old events unfinished deliveries still need.
      const expired = trx.selectFrom('deliveries').select('id').where('created_at', '<', before).limit(batchSize);
      const deleted = await trx.deleteFrom('deliveries').where('id', 'in', expired).returning(['id', 'status']).execute();
      if (deleted.length > 0) {
        await trx.deleteFrom('attempts').where('delivery_id', 'in', deleted.map((d) => d.id)).execute();
        const changes = new CounterChanges();
        for (const d of deleted) changes.moved(d.status as DeliveryStatus, null);
        await dialect.addToCounters(trx, changes.rows);
      }
      if (deleted.length === batchSize) return deleted.length;
      const orphans = trx.selectFrom('events').select('id').where('created_at', '<', before)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('queue').select('queue.id').whereRef('queue.event_id', '=', 'events.id'))))
        .limit(batchSize);
      await trx.deleteFrom('events').where('id', 'in', orphans).execute();
      const notices = trx.selectFrom('operational_events').select('id').where('created_at', '<', before).limit(batchSize);
      await trx.deleteFrom('operational_events').where('id', 'in', notices).execute();
      // Deleted subscriptions are kept while their deliveries' history is; then they go too.
      const gone = trx.selectFrom('subscriptions').select('id').where('deleted_at', '<', before)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('deliveries').select('id').whereRef('deliveries.subscription_id', '=', 'subscriptions.id'))))
        .limit(batchSize);
      await trx.deleteFrom('subscriptions').where('id', 'in', gone).execute();
      // Timed counters outlive what the dashboard shows by a margin, then go.
      for (const [span, keep] of KEEP_MS) {
        await trx.deleteFrom('counters').where('span', '=', span).where('bucket', '<', before - keep).execute();
      }
      return deleted.length;
    });
  }
}
