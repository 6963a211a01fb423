// Chooses the adapter named by the configuration.
import type { DatabaseTarget } from '../config.ts';
import { openPostgresStore } from './postgres/postgres-store.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export async function openStore(target: DatabaseTarget, options: { schema?: string } = {}): Promise<Store> {
  if (target.kind === 'postgres') return openPostgresStore({ url: target.url, ...options });
  return openSqliteStore(target.path);
}
