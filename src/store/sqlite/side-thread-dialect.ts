// A Kysely dialect for read-only queries that runs them on the SQLite side thread instead of
// hookd's main connection (side-thread.ts). Kysely's own SQLite driver cannot: it expects a
// synchronous database. Transactions are refused: only single statements are read here.
import {
  SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler,
  type CompiledQuery, type DatabaseConnection, type DatabaseIntrospector, type Dialect, type DialectAdapter,
  type Driver, type Kysely, type QueryCompiler, type QueryResult,
} from 'kysely';
import { bindAll } from './node-sqlite-driver.ts';
import type { SideThread } from './side-thread.ts';

class SideThreadConnection implements DatabaseConnection {
  readonly #thread: SideThread;
  readonly #fallback: Kysely<unknown>;

  constructor(thread: SideThread, fallback: Kysely<unknown>) {
    this.#thread = thread;
    this.#fallback = fallback;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.#thread.alive) return this.#fallback.executeQuery<R>(compiled);
    return { rows: (await this.#thread.read(compiled.sql, bindAll(compiled.parameters))) as R[] };
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('the SQLite side thread does not stream');
  }
}

class SideThreadDriver implements Driver {
  readonly #connection: SideThreadConnection;

  constructor(connection: SideThreadConnection) {
    this.#connection = connection;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.#connection;
  }

  async beginTransaction(): Promise<void> {
    throw new Error('the SQLite side thread only reads: no transactions');
  }

  async commitTransaction(): Promise<void> {}

  async rollbackTransaction(): Promise<void> {}

  async releaseConnection(): Promise<void> {}

  /** The thread belongs to the store, which stops it. */
  async destroy(): Promise<void> {}
}

export class SideThreadDialect implements Dialect {
  readonly #connection: SideThreadConnection;

  /** `fallback` (the main connection) serves the queries once the thread has stopped. */
  constructor(thread: SideThread, fallback: Kysely<unknown>) {
    this.#connection = new SideThreadConnection(thread, fallback);
  }

  createDriver(): Driver {
    return new SideThreadDriver(this.#connection);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
