// Answers kept for Idempotency-Keys. They are written with their events, in the outbox's
// transaction (queue/outbox.ts); here they are looked up and expired.
import type { IdempotentResponse } from '../domain/index.ts';
import type { IdempotencyKeys } from './contracts.ts';
import type { SqlContext } from './sql-context.ts';

export class SqlIdempotencyKeys implements IdempotencyKeys {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  async find(scope: string, key: string, notBefore: number): Promise<IdempotentResponse | undefined> {
    const row = await this.#ctx.db.selectFrom('idempotency_keys').selectAll()
      .where('scope', '=', scope).where('key', '=', key).where('created_at', '>=', notBefore).executeTakeFirst();
    return row && { scope: row.scope, key: row.key, requestHash: row.request_hash, response: row.response, createdAt: Number(row.created_at) };
  }

  async deleteExpired(before: number, batchSize: number): Promise<number> {
    const { db } = this.#ctx;
    const expired = db.selectFrom('idempotency_keys').select('key').where('created_at', '<', before).limit(batchSize);
    const result = await db.deleteFrom('idempotency_keys')
      .where('created_at', '<', before).where('key', 'in', expired).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
