// Every store test runs against each database: SQLite always, PostgreSQL when
// HOOKD_TEST_DATABASE_URL is set (CI sets it and HOOKD_TEST_REQUIRE_POSTGRES=1, which turns
// its absence into a failure). Each call gets its own SQLite file or Postgres schema, so test
// files can run in parallel without sharing state.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startApp, type App, type Role } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { DatabaseTarget, Store } from '../../src/store/contracts.ts';

export interface StoreTarget {
  name: 'sqlite' | 'postgres';
  database: DatabaseTarget;
  schema?: string;
  /** Removes the SQLite file or drops the Postgres schema. */
  cleanup(): Promise<void>;
}

const postgresUrl = process.env.HOOKD_TEST_DATABASE_URL;
if (!postgresUrl && process.env.HOOKD_TEST_REQUIRE_POSTGRES === '1') {
  throw new Error('HOOKD_TEST_REQUIRE_POSTGRES=1 but HOOKD_TEST_DATABASE_URL is not set');
}

export const STORE_NAMES: readonly StoreTarget['name'][] = postgresUrl ? ['sqlite', 'postgres'] : ['sqlite'];

export function newTarget(name: StoreTarget['name']): StoreTarget {
  if (name === 'postgres') {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    return {
      name, schema, database: { kind: 'postgres', url: postgresUrl! },
      async cleanup() {
        const client = new pg.Client({ connectionString: postgresUrl });
        await client.connect();
        try {
          // Under hookd's migration lock: a migrating store introspects every schema of the
          // database, and one dropped under its feet makes that fail.
          await client.query(`select pg_advisory_lock(hashtext('hookd.migrate'))`);
          await client.query(`drop schema if exists ${schema} cascade`);
          await client.query(`select pg_advisory_unlock(hashtext('hookd.migrate'))`);
        } finally {
          await client.end();
        }
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'hookd-test-'));
  return {
    name, database: { kind: 'sqlite', path: path.join(dir, 'hookd.db') },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function openTestStore(target: StoreTarget): Promise<Store> {
  const store = await openStore(target.database, target.schema ? { schema: target.schema } : {});
  await store.maintenance.migrate();
  return store;
}

/** A configuration for tests: port 0, quiet logs, the target's database, then the overrides. */
export function testConfig(target: StoreTarget, overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ env: { PORT: '0', LOG_LEVEL: 'silent' } });
  return { ...base, database: target.database, ...overrides };
}

export interface TestAppOptions {
  config?: Partial<Config>;
  role?: Role;
  clock?: () => number;
}

export async function startTestApp(target: StoreTarget, options: TestAppOptions = {}): Promise<App> {
  const config = testConfig(target, options.config);
  return startApp({
    config,
    logger: createLogger(config.logLevel, { pretty: false }),
    ...(options.role && { role: options.role }),
    ...(options.clock && { clock: options.clock }),
    ...(target.schema && { schema: target.schema }),
  });
}
