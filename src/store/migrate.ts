// Applies a dialect's numbered migrations with Kysely's Migrator. On PostgreSQL the Migrator
// holds an advisory lock while it works, so several hookd processes starting at once
// against one database apply each migration exactly once.
import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import type { Database } from './schema.ts';

/**
 * `schema` names the PostgreSQL schema the tables live in: without it the Migrator would take
 * a migration table in any other schema of the database for its own.
 */
export async function applyMigrations(db: Kysely<Database>, migrations: Record<string, readonly string[]>, schema?: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    ...(schema && { migrationTableSchema: schema }),
    provider: {
      async getMigrations() {
        const entries = Object.entries(migrations).map(([name, statements]): [string, Migration] => [name, {
          async up(trx: Kysely<unknown>) {
            for (const statement of statements) await sql.raw(statement).execute(trx);
          },
        }]);
        return Object.fromEntries(entries);
      },
    },
    migrationTableName: 'hookd_migrations',
    migrationLockTableName: 'hookd_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed?.migrationName ?? '(setup)'} failed: ${reason}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
