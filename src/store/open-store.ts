// Opens the database the configuration names, through its dialect.
import type { DatabaseTarget, Store } from './contracts.ts';
import { openPostgresStore } from './postgres/postgres-store.ts';
import type { SecretBox } from './secret-box.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

export interface OpenOptions {
  /** PostgreSQL schema to use (tests isolate themselves this way). */
  schema?: string;
  /** Encrypts subscription secrets at rest; without it they are stored as given. */
  secrets?: SecretBox;
}

export async function openStore(target: DatabaseTarget, options: OpenOptions = {}): Promise<Store> {
  if (target.kind === 'postgres') return openPostgresStore({ url: target.url, ...options });
  return openSqliteStore(target.path, options.secrets);
}
