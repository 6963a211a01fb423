// Bounds on what a request may carry, besides the body size (HOOKD_MAX_PAYLOAD_BYTES, 413)
// and the field lengths in the route schemas (422).
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.ts';

/** Deeper JSON is refused before it is parsed: nothing legitimate nests this deep, and code that walks it could exhaust the stack. */
export const MAX_JSON_DEPTH = 64;
export const MAX_REQUEST_HEADERS = 100;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENERS = new Set([0x5b, 0x7b]);
const CLOSERS = new Set([0x5d, 0x7d]);

/**
 * Whether arrays and objects nest deeper than `limit`, by one pass over the bytes (brackets
 * inside strings do not count), without parsing or recursing. Invalid JSON is the parser's
 * business; this only has to be right for valid JSON.
 */
export function jsonNestedDeeperThan(raw: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (OPENERS.has(byte)) {
      if (++depth > limit) return true;
    } else if (CLOSERS.has(byte)) {
      depth--;
    }
  }
  return false;
}

export function tooDeep(): ApiError {
  return new ApiError(422, 'payload_too_deep', `The JSON body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep.`);
}

export function registerHeaderLimit(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const count = request.raw.rawHeaders.length / 2;
    if (count > MAX_REQUEST_HEADERS) {
      throw new ApiError(431, 'too_many_headers', `The request has ${count} headers; at most ${MAX_REQUEST_HEADERS} are accepted.`);
    }
  });
}
