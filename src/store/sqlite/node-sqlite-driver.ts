// Bridges node:sqlite to Kysely's SqliteDialect, which expects better-sqlite3's interface.
// Written here rather than taken from a package: it is thirty lines, and the published
// bridges are young single-author projects. Prepared statements are cached by SQL text
// because hookd runs the same few statements at high rates; the least recently used goes
// first, so a burst of one-off texts does not push out the hot ones.
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

const STATEMENT_CACHE_SIZE = 200;

function bindable(value: unknown): SQLInputValue {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value as SQLInputValue;
}

/** Kysely's parameters as node:sqlite binds them (also for the side thread's queries). */
export function bindAll(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map(bindable);
}

export class NodeSqliteDatabase implements SqliteDatabase {
  readonly raw: DatabaseSync;
  #statements = new Map<string, { statement: StatementSync; reader: boolean }>();

  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }

  prepare(sql: string): SqliteStatement {
    let cached = this.#statements.get(sql);
    if (cached) {
      // Most recently used last: Map keeps insertion order.
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
    } else {
      const statement = this.raw.prepare(sql);
      cached = { statement, reader: statement.columns().length > 0 };
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next().value as string;
        this.#statements.delete(oldest);
      }
      this.#statements.set(sql, cached);
    }
    const { statement, reader } = cached;
    return {
      reader,
      all: (parameters) => statement.all(...bindAll(parameters)),
      run: (parameters) => statement.run(...bindAll(parameters)),
      iterate: (parameters) => statement.iterate(...bindAll(parameters)),
    };
  }

  close(): void {
    this.#statements.clear();
    if (this.raw.isOpen) this.raw.close();
  }
}
