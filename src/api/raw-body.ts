// Request bodies: JSON only, parsed for validation while the exact bytes are kept, since
// ingestion stores and forwards those bytes unchanged.
import type { FastifyInstance } from 'fastify';
import { takesEmptyBody } from './empty-body.ts';
import { ApiError } from './errors.ts';
import { MAX_JSON_DEPTH, jsonNestedDeeperThan, tooDeep } from './limits.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received; ingestion stores and forwards these bytes. */
    rawBody?: Buffer;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function registerJsonBody(app: FastifyInstance): void {
  // JSON only: Fastify's default text/plain parser would let other bodies reach validation (415 instead).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    if (raw.length === 0 && takesEmptyBody(request)) {
      done(null, {});
      return;
    }
    if (jsonNestedDeeperThan(raw, MAX_JSON_DEPTH)) {
      done(tooDeep(), undefined);
      return;
    }
    try {
      done(null, JSON.parse(utf8.decode(raw)));
    } catch {
      done(new ApiError(400, 'invalid_json', 'The body is not valid UTF-8 JSON.'), undefined);
    }
  });
}
