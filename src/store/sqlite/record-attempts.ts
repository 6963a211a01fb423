// Writing attempt outcomes on SQLite: one UPDATE … FROM (VALUES …) per batch, each row
// written only while its lease still holds (fencing).
import { sql, type Kysely } from 'kysely';
import type { OutcomeRow } from '../dialect.ts';
import type { Database } from '../schema.ts';

export async function writeOutcomes(trx: Kysely<Database>, rows: readonly OutcomeRow[]): Promise<Set<string>> {
  const values = sql.join(rows.map((r) => sql`(${r.deliveryId}, ${r.leaseToken}, ${r.status}, ${r.nextAttemptAt}, ${r.attemptedAt})`));
  const updated = await sql<{ id: string }>`
    with v (id, lease_token, status, next_attempt_at, attempted_at) as (values ${values})
    update deliveries set status = v.status, attempts = deliveries.attempts + 1, next_attempt_at = v.next_attempt_at,
      last_attempt_at = v.attempted_at, lease_token = null, manual_retry = 0, updated_at = v.attempted_at
    from v
    where deliveries.id = v.id and deliveries.lease_token = v.lease_token and deliveries.status = 'delivering'
    returning deliveries.id`.execute(trx);
  return new Set(updated.rows.map((row) => row.id));
}
