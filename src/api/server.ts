// Builds the HTTP server: JSON parsing that keeps the raw bytes, validation, one error
// shape, and a plugin per resource under /api/v1.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import type { Config } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import type { SubscriptionCache } from '../store/subscription-cache.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import { FailedAuthLimit } from '../auth/failed-auth-limit.ts';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import { registerAuth } from './auth.ts';
import { registerKeylessGuard } from './keyless-guard.ts';
import { httpEdgeOptions } from './http-edge.ts';
import { ApiError, errorHandler } from './errors.ts';
import { registerUnrouted } from './unrouted.ts';
import { MAX_JSON_DEPTH, jsonNestedDeeperThan, registerHeaderLimit, tooDeep } from './limits.ts';
import { registerRateLimit } from './rate-limit.ts';
import { deliveryRoutes } from './deliveries.ts';
import { deliveryControlRoutes } from './delivery-control.ts';
import type { Replayer } from '../delivery/replayer.ts';
import { eventRoutes } from './events.ts';
import { healthRoutes } from './health.ts';
import { ingestRoutes } from './ingest.ts';
import { idsInPath } from './log-ids.ts';
import { liveRoutes } from './live.ts';
import { metricsRoutes } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { registerEdgeResponses } from './edge-responses.ts';
import { CHECKED_BY_HANDLER } from './schemas.ts';
import { CONTENT_FILTER_SHARED_SCHEMAS } from '../routing/content-filter-schema.ts';
import { statsRoutes } from './stats.ts';
import { subscriptionRoutes } from './subscriptions.ts';
import { uiRoutes } from '../ui/ui-routes.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received; ingestion stores and forwards these bytes. */
    rawBody?: Buffer;
  }
}

export interface ApiDeps {
  config: Config;
  store: Store;
  subscriptions: SubscriptionCache;
  ingestor: Ingestor;
  replayer: Replayer;
  metrics: Metrics;
  clock: () => number;
  version: string;
  startedAt: number;
  /** API keys and whether requests need none while no key exists (auth/access-policy.ts). */
  access: { keys: KeyVerifier; openWithoutKeys: boolean };
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `schema` without the parts its handler checks itself (marked CHECKED_BY_HANDLER). */
function withoutHandlerChecks(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutHandlerChecks);
  if (schema === null || typeof schema !== 'object') return schema;
  if ((schema as Record<string, unknown>)[CHECKED_BY_HANDLER] === true) return {};
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, withoutHandlerChecks(value)]));
}

// Bodies are validated strictly (a string is never taken for a number); query strings and
// path parameters arrive as text, so they are coerced. Path ids are documented as UUIDs but
// not checked here: the handlers answer 404 for an id that is not one, as for an unknown id.
function validators() {
  // verbose: each issue carries its schema, from which errors.ts takes a field's own message.
  const common = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false, verbose: true } as const;
  const body = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const text = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  const path = new Ajv({ ...common, coerceTypes: 'array', validateFormats: false });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? body : httpPart === 'params' ? path : text).compile(withoutHandlerChecks(schema) as object);
}

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

export async function buildServer(deps: ApiDeps, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: deps.config.maxPayloadBytes,
    ...httpEdgeOptions(deps.config.http),
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : uuidv7();
    },
    logController: new LogController({ disableRequestLogging: true }),
    // Errors raised while routing (bad percent-encoding, over-long ids) get the one error body too.
    frameworkErrors: errorHandler,
  });
  app.setValidatorCompiler(validators());
  app.setErrorHandler(errorHandler);

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

  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime), ...idsInPath(request) }, 'request');
    done();
  });

  // Before any route: these apply to every route, in this order.
  registerHeaderLimit(app);
  registerKeylessGuard(app, { keys: deps.access.keys, allowedHosts: deps.config.allowedHosts });
  registerAuth(app, { ...deps.access, metricsPublic: deps.config.metricsPublic, failedAuth: new FailedAuthLimit(deps.config.authFailuresPerMinute, deps.clock) });
  await registerRateLimit(app, deps.config.rateLimitPerMinute);
  registerUnrouted(app);
  registerEdgeResponses(app);
  await registerOpenApi(app, deps.version, async () => deps.access.openWithoutKeys && !(await deps.access.keys.keysConfigured()));
  for (const schema of CONTENT_FILTER_SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(metricsRoutes(deps.metrics));
  await app.register(async (api) => {
    await api.register(healthRoutes(deps));
    await api.register(subscriptionRoutes(deps));
    await api.register(ingestRoutes(deps));
    await api.register(deliveryRoutes(deps));
    await api.register(deliveryControlRoutes(deps));
    await api.register(eventRoutes(deps));
    await api.register(statsRoutes(deps));
    await api.register(liveRoutes(deps));
  }, { prefix: '/api/v1' });
  await app.register(uiRoutes);
  return app;
}
