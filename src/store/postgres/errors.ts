// PostgreSQL's failures as store errors, by SQLSTATE, and the client's own connection
// failures (refused, reset, pool ended) by their codes and messages.
import type { ClassifiedKind } from '../errors.ts';

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
/**
 * Connection refused or lost, server shutting down or starting (57P01–57P03), connection
 * exceptions (08…), insufficient resources (53…), a read-only standby (25006): worth retrying later.
 */
const UNAVAILABLE_CODE = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|57P0\d|08\w{3}|53\w{3}|25006)$/;
/** Serialization failures and deadlocks: the transaction was rolled back and may run again. */
const CONTENTION_CODE = /^(40001|40P01)$/;
/** pg's messages for a connection it lost or never had. */
const UNAVAILABLE_MESSAGE = /Connection terminated|not queryable|Cannot use a pool after calling end|timeout exceeded when trying to connect|Connection ended/i;

export function classifyPostgresError(error: unknown): ClassifiedKind | null {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === UNIQUE_VIOLATION) return 'conflict';
  if (code === FOREIGN_KEY_VIOLATION) return 'not_found';
  if (typeof code === 'string' && CONTENTION_CODE.test(code)) return 'contention';
  if (typeof code === 'string' && UNAVAILABLE_CODE.test(code)) return 'unavailable';
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return 'unavailable';
  return null;
}
