// Opens the database the configuration names, through its dialect. Each dialect is loaded
// only when used: a SQLite hookd never loads the PostgreSQL driver, nor the reverse.
import type { DatabaseTarget, Store } from './contracts.ts';
import type { SecretBox } from './secret-box.ts';

export interface OpenOptions {
  /** PostgreSQL schema to use (tests isolate themselves this way). */
  schema?: string;
  /** Encrypts subscription secrets at rest; without it they are stored as given. */
  secrets?: SecretBox;
}

export async function openStore(target: DatabaseTarget, options: OpenOptions = {}): Promise<Store> {
  if (target.kind === 'postgres') {
    const { openPostgresStore } = await import('./postgres/postgres-store.ts');
    return openPostgresStore({ url: target.url, ...options });
  }
  const { openSqliteStore } = await import('./sqlite/sqlite-store.ts');
  return openSqliteStore(target.path, options.secrets);
}
