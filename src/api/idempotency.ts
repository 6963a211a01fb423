// Idempotency-Key on ingestion: a repeated request within 24 hours gets the original answer
// and creates nothing; the same key with a different body is refused. The key and the answer
// are committed in the same transaction as the event, so a crash can never leave an event
// without its key or a key without its event, and two processes racing with one key
// produce one event (the loser's insert fails on the key, a StoreConflictError, and it
// replays the winner's answer).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IDEMPOTENCY_WINDOW_MS, type IncomingEvent, type Ingested } from '../ingest/ingestor.ts';
import type { IdempotencyKeys } from '../store/contracts.ts';
import { StoreConflictError } from '../store/errors.ts';
import { ApiError, invalidField } from './errors.ts';

export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Whatever kept an event from committing, it was not accepted: 503, and the client may retry. */
function notCommitted(request: FastifyRequest, error: unknown): never {
  request.log.error({ err: error }, 'event could not be committed; answered 503');
  throw new ApiError(503, 'store_unavailable', 'The event could not be stored; it was not accepted. Retry shortly.');
}

async function committed(request: FastifyRequest, ingest: Promise<Ingested>): Promise<Ingested> {
  try {
    return await ingest;
  } catch (error) {
    return notCommitted(request, error);
  }
}

/**
 * Runs an ingest, answering 202 with `format(ingested)`; with an Idempotency-Key, replays the
 * stored answer of an earlier identical request instead. Validation is over by now, so a
 * failure to commit is the database's: 503, and nothing was accepted.
 */
export async function ingestOnce<T>(
  context: {
    request: FastifyRequest; reply: FastifyReply; keys: IdempotencyKeys; now: number; scope: string;
    /** The key, when not the Idempotency-Key header (a signed ingest's webhook-id), and the header it came in. */
    key?: string; keyName?: string;
  },
  ingest: (idempotency: IncomingEvent['idempotency']) => Promise<Ingested>,
  format: (ingested: Ingested) => T,
): Promise<T> {
  const { request, reply, keys, now, scope } = context;
  reply.status(202);
  const key = context.key ?? request.headers['idempotency-key'];
  const keyName = context.keyName ?? 'Idempotency-Key';
  if (key === undefined) return format(await committed(request, ingest(undefined)));
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw invalidField(keyName, 'must be 1 to 255 printable ASCII characters without spaces');
  }
  const requestHash = createHash('sha256').update(request.rawBody ?? '').digest('hex');
  const replay = async (): Promise<T | undefined> => {
    const stored = await keys.find(scope, key, now - IDEMPOTENCY_WINDOW_MS);
    if (!stored) return undefined;
    if (stored.requestHash !== requestHash) {
      throw new ApiError(422, 'idempotency_key_reused', `This ${keyName} was used in the last 24 hours with a different request body.`);
    }
    reply.header('idempotent-replayed', 'true');
    return format(JSON.parse(stored.response) as Ingested);
  };
  const earlier = await replay();
  if (earlier !== undefined) return earlier;
  const attempt = () => ingest({ scope, key, requestHash });
  try {
    return format(await attempt());
  } catch (error) {
    if (!(error instanceof StoreConflictError)) return notCommitted(request, error);
    // Another request with this key committed first: answer as it was answered.
    const raced = await replay();
    if (raced !== undefined) return raced;
    // An expired key that retention has not removed yet holds the slot: clear it, try once more.
    if (await keys.deleteExpired(now - IDEMPOTENCY_WINDOW_MS, 500) > 0) {
      return format(await committed(request, attempt()));
    }
    return notCommitted(request, error);
  }
}
