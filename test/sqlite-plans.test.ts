// SQLite plans queries without statistics, and for two of hookd's it would pick an index
// that reads every row of a large set. Those queries name their index (INDEXED BY); these
// tests check the plans on a migrated database, so that a hint cannot be lost unnoticed.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../src/store/schema.ts';
import { openRawDb } from './support/raw-db.ts';
import { earliestDueQuery, finishedBeforeQuery } from '../src/store/sqlite/sqlite-store.ts';
import { newTarget, openTestStore } from './support/stores.ts';

async function planOf(db: Kysely<Database>, query: RawBuilder<unknown>): Promise<string> {
  const compiled = query.compile(db);
  const result = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
  return result.rows.map((row) => row.detail).join(' | ');
}

describe('SQLite query plans', () => {
  const target = newTarget('sqlite');
  after(() => target.cleanup());

  it('retention and the next due time read only their partial indexes', async () => {
    const store = await openTestStore(target);
    const db = openRawDb(target);
    try {
      const retention = await planOf(db, finishedBeforeQuery(Date.now(), 500));
      assert.match(retention, /USING INDEX deliveries_retention \(created_at<\?\)/, retention);
      const due = await planOf(db, earliestDueQuery());
      assert.match(due, /deliveries_due/, due);
      assert.doesNotMatch(`${retention} ${due}`, /deliveries_status/);
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
