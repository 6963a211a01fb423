// Request bodies: JSON only, parsed for validation while the exact bytes are kept, since
// ingestion stores and forwards those bytes unchanged.
import type { IncomingHttpHeaders } from 'node:http';
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

/**
 * Bodies are taken as sent, in UTF-8: hookd stores and forwards the exact bytes it received
 * (and signatures are over them), so a compressed body or another charset is refused rather
 * than converted.
 */
function unacceptableEncoding(headers: IncomingHttpHeaders): ApiError | null {
  const encoding = headers['content-encoding']?.trim();
  if (encoding && encoding.toLowerCase() !== 'identity') {
    return new ApiError(415, 'unsupported_media_type', `Content-Encoding ${encoding} is not accepted: send the body uncompressed (hookd stores and delivers the exact bytes it receives).`);
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    return new ApiError(415, 'unsupported_media_type', `The body must be JSON in UTF-8; charset=${charset} is not accepted.`);
  }
  return null;
}


export function registerJsonBody(app: FastifyInstance): void {
  // JSON only: Fastify's default text/plain parser would let other bodies reach validation (415 instead).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const refused = unacceptableEncoding(request.headers);
    if (refused) {
      done(refused, undefined);
      return;
    }
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
