// A connection of the test's own to a target's database, beside the store under test: for
// setting up states no contract method makes (a failing trigger, rows written long ago) and
// for looking at what is stored byte for byte (sealed secrets). Tests that only need
// behaviour go through the store's contracts instead.
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../../src/store/schema.ts';
import { NodeSqliteDatabase } from '../../src/store/sqlite/node-sqlite-driver.ts';
import type { StoreTarget } from './stores.ts';

export function openRawDb(target: StoreTarget): Kysely<Database> {
  if (target.database.kind === 'sqlite') {
    const raw = new DatabaseSync(target.database.path, { timeout: 5000 });
    return new Kysely<Database>({ dialect: new SqliteDialect({ database: new NodeSqliteDatabase(raw) }) });
  }
  const pool = new pg.Pool({
    connectionString: target.database.url,
    max: 2,
    ...(target.schema && { options: `-c search_path=${target.schema}` }),
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Runs `work` on a raw connection of its own, closed afterwards. */
export async function withRawDb<T>(target: StoreTarget, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const db = openRawDb(target);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** Rows in a table, read through a raw connection. */
export async function countRows(db: Kysely<Database>, table: string): Promise<number> {
  const result = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
  return Number(result.rows[0]!.n);
}
