// SQLite plans queries without statistics. The queue's hot statements and retention must each
// read one index range, however many rows the tables hold: these tests check their plans on a
// migrated database, so that a change of schema or statement cannot lose that unnoticed.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from '../src/store/schema.ts';
import { DUE_ROWS, FIFO_HEAD, NEXT_DUE } from '../src/store/sqlite/leases.ts';
import { openRawDb } from './support/raw-db.ts';
import { newTarget, openTestStore } from './support/stores.ts';

async function planOf(db: Kysely<Database>, statement: string, parameters: unknown[]): Promise<string> {
  const result = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${statement}`, parameters));
  return result.rows.map((row) => row.detail).join(' | ');
}

describe('SQLite query plans', () => {
  const target = newTarget('sqlite');
  after(() => target.cleanup());

  it('claims, the next due time and retention each read their index', async () => {
    const store = await openTestStore(target);
    const db = openRawDb(target);
    try {
      const due = await planOf(db, DUE_ROWS, ['s', 0, '[]', 10]);
      assert.match(due, /SEARCH queue USING (COVERING )?INDEX queue_due \(subscription_id=\? AND due_at<\?\)/, due);
      const head = await planOf(db, FIFO_HEAD, ['s']);
      assert.match(head, /SEARCH queue USING (COVERING )?INDEX queue_order \(subscription_id=\?\)/, head);
      const next = await planOf(db, NEXT_DUE, ['[]']);
      assert.match(next, /SEARCH q USING (COVERING )?INDEX queue_due \(subscription_id=\?\)/, next);
      const compiled = db.selectFrom('deliveries').select('id').where('created_at', '<', 1).limit(200).compile();
      const retention = await planOf(db, compiled.sql, [...compiled.parameters]);
      assert.match(retention, /SEARCH deliveries USING (COVERING )?INDEX deliveries_created_at \(created_at<\?\)/, retention);
      assert.doesNotMatch(`${due} ${next} ${retention}`, /SCAN (queue|deliveries|q)\b/);
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
