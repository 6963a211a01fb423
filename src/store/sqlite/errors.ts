// SQLite's failures as store errors: constraint violations by their extended result codes,
// and the codes that mean the database cannot work now (busy, locked, I/O, full, closed).
import type { StoreErrorKind } from '../errors.ts';

const CONSTRAINT_PRIMARYKEY = 1555;
const CONSTRAINT_UNIQUE = 2067;
const CONSTRAINT_FOREIGNKEY = 787;
/** Primary result codes (the low byte): BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB. */
const UNAVAILABLE = new Set([5, 6, 7, 8, 10, 11, 13, 14, 15, 26]);

export function classifySqliteError(error: unknown): StoreErrorKind | null {
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  if (code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number') {
    if (errcode === CONSTRAINT_PRIMARYKEY || errcode === CONSTRAINT_UNIQUE) return 'conflict';
    if (errcode === CONSTRAINT_FOREIGNKEY) return 'not_found';
    return UNAVAILABLE.has(errcode & 0xff) ? 'unavailable' : null;
  }
  // node:sqlite refuses statements on a closed database this way.
  if (code === 'ERR_INVALID_STATE') return 'unavailable';
  return null;
}
