// API keys as stored: their hashes and prefixes, never the keys.
import type { ApiKey } from '../domain/index.ts';
import type { ApiKeys } from './contracts.ts';
import { fromApiKey, toApiKey } from './rows.ts';
import type { SqlContext } from './sql-context.ts';

export class SqlApiKeys implements ApiKeys {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  async create(key: ApiKey): Promise<boolean> {
    const result = await this.#ctx.db.insertInto('api_keys').values(fromApiKey(key))
      .onConflict((oc) => oc.column('key_hash').doNothing()).executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async list(): Promise<ApiKey[]> {
    const rows = await this.#ctx.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toApiKey);
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const result = await this.#ctx.db.updateTable('api_keys').set({ revoked_at: now })
      .where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async touch(id: string, now: number): Promise<void> {
    await this.#ctx.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
  }
}
