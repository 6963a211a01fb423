// Typed store failures. Each dialect recognises its driver's errors (SQLSTATEs, SQLite result
// codes, connection failures) in one classifier, and every query of hookd's goes through a
// driver wrapper that rethrows what it recognises as one of these. Nothing outside store/
// reads a driver's error codes or messages: callers match on these classes.
import type { DatabaseConnection, Dialect as KyselyDialect, Driver, QueryResult, TransactionSettings } from 'kysely';

export type StoreErrorKind = 'unavailable' | 'conflict' | 'not_found';
/** What a dialect's classifier may say of a driver error: a kind, or contention (see StoreContentionError). */
export type ClassifiedKind = StoreErrorKind | 'contention';

export class StoreError extends Error {
  override name = 'StoreError';
  readonly kind: StoreErrorKind;

  constructor(kind: StoreErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

/** The database cannot be reached or cannot work now; nothing was changed. Worth retrying. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';

  constructor(cause: unknown) {
    super('unavailable', `the database is unavailable: ${describe(cause)}`, { cause });
  }
}

/**
 * The database rolled the transaction back to break a deadlock or a serialization conflict
 * with another one: nothing of it was written, and running it again may well succeed
 * (rerunOnContention). Unavailable to whoever it still reaches.
 */
export class StoreContentionError extends StoreUnavailableError {
  override name = 'StoreContentionError';
}

/**
 * Runs `work`, one whole transaction, and runs it again (at most `attempts` times in all) while
 * the database rolls it back for contention.
 */
export async function rerunOnContention<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof StoreContentionError) || attempt >= attempts) throw error;
    }
  }
}

/** A row with the same key exists already (a unique constraint). */
export class StoreConflictError extends StoreError {
  override name = 'StoreConflictError';

  constructor(cause: unknown) {
    super('conflict', `a conflicting row exists: ${describe(cause)}`, { cause });
  }
}

/** A row refers to one that does not exist (a foreign key). */
export class StoreNotFoundError extends StoreError {
  override name = 'StoreNotFoundError';

  constructor(cause: unknown) {
    super('not_found', `a referenced row does not exist: ${describe(cause)}`, { cause });
  }
}

/** SQLite serves one process: another hookd process holds this database. */
export class DatabaseTakenError extends Error {
  override name = 'DatabaseTakenError';
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** A dialect's reading of its driver's errors: the kind, or null for anything else (a bug, bad SQL). */
export type ErrorClassifier = (error: unknown) => ClassifiedKind | null;

function typed(error: unknown, classify: ErrorClassifier): unknown {
  if (error instanceof StoreError) return error;
  switch (classify(error)) {
    case 'unavailable': return new StoreUnavailableError(error);
    case 'contention': return new StoreContentionError(error);
    case 'conflict': return new StoreConflictError(error);
    case 'not_found': return new StoreNotFoundError(error);
    default: return error;
  }
}

async function translated<T>(work: () => Promise<T>, classify: ErrorClassifier): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw typed(error, classify);
  }
}

class TypedErrorConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;
  readonly #classify: ErrorClassifier;

  constructor(inner: DatabaseConnection, classify: ErrorClassifier) {
    this.inner = inner;
    this.#classify = classify;
  }

  executeQuery<R>(...args: Parameters<DatabaseConnection['executeQuery']>): Promise<QueryResult<R>> {
    return translated(() => this.inner.executeQuery<R>(...args), this.#classify);
  }

  async *streamQuery<R>(...args: Parameters<DatabaseConnection['streamQuery']>): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(...args);
    } catch (error) {
      throw typed(error, this.#classify);
    }
  }
}

/**
 * What a closed store hands out: every query fails as StoreUnavailableError. (Failing in
 * acquireConnection instead would leave Kysely's single-connection mutex locked, so the next
 * query on SQLite would wait forever.)
 */
class ClosedConnection implements DatabaseConnection {
  async executeQuery<R>(): Promise<QueryResult<R>> {
    throw new StoreUnavailableError(new Error('the store is closed'));
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new StoreUnavailableError(new Error('the store is closed'));
  }
}

const innerOf = (connection: DatabaseConnection) => (connection as TypedErrorConnection).inner;

class TypedErrorDriver implements Driver {
  readonly #inner: Driver;
  readonly #classify: ErrorClassifier;
  #closed = false;

  constructor(inner: Driver, classify: ErrorClassifier) {
    this.#inner = inner;
    this.#classify = classify;
  }

  init(): Promise<void> {
    return translated(() => this.#inner.init(), this.#classify);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#closed) return new ClosedConnection();
    return new TypedErrorConnection(await translated(() => this.#inner.acquireConnection(), this.#classify), this.#classify);
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (connection instanceof ClosedConnection) return connection.executeQuery().then(() => undefined);
    return translated(() => this.#inner.beginTransaction(innerOf(connection), settings), this.#classify);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof ClosedConnection) return connection.executeQuery().then(() => undefined);
    return translated(() => this.#inner.commitTransaction(innerOf(connection)), this.#classify);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof ClosedConnection) return;
    return translated(() => this.#inner.rollbackTransaction(innerOf(connection)), this.#classify);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof ClosedConnection) return;
    await this.#inner.releaseConnection(innerOf(connection));
  }

  async destroy(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#inner.destroy();
  }
}

/**
 * A Kysely dialect whose driver rethrows every error it recognises as a StoreError. Closed
 * through `close()` rather than Kysely's destroy(), so that a query after closing fails as
 * StoreUnavailableError too (Kysely's own refusal would be an untyped Error).
 */
export class TypedErrorDialect implements KyselyDialect {
  readonly #inner: KyselyDialect;
  readonly #classify: ErrorClassifier;
  readonly #drivers: TypedErrorDriver[] = [];

  constructor(inner: KyselyDialect, classify: ErrorClassifier) {
    this.#inner = inner;
    this.#classify = classify;
  }

  createDriver(): Driver {
    const driver = new TypedErrorDriver(this.#inner.createDriver(), this.#classify);
    this.#drivers.push(driver);
    return driver;
  }

  createQueryCompiler() {
    return this.#inner.createQueryCompiler();
  }

  createAdapter() {
    return this.#inner.createAdapter();
  }

  createIntrospector(db: Parameters<KyselyDialect['createIntrospector']>[0]) {
    return this.#inner.createIntrospector(db);
  }

  async close(): Promise<void> {
    await Promise.all(this.#drivers.map((driver) => driver.destroy()));
  }
}
