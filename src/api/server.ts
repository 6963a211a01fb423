// Builds the HTTP server: JSON parsing that keeps the raw bytes, validation, one error
// shape, and a plugin per resource under /api/v1.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import type { Config } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import type { Store, SubscriptionLookup } from '../store/contracts.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { EventSchemas } from '../ingest/event-schemas.ts';
import { FailedAuthLimit } from '../auth/failed-auth-limit.ts';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import { registerAuth } from './auth.ts';
import { registerEmptyBody } from './empty-body.ts';
import { errorHandler } from './errors.ts';
import { httpEdgeOptions } from './http-edge.ts';
import { registerKeylessGuard } from './keyless-guard.ts';
import { registerHeaderLimit } from './limits.ts';
import { registerJsonBody } from './raw-body.ts';
import { nulFree, registerNulFreeBodies } from './nul-free.ts';
import { registerUnrouted } from './unrouted.ts';
import { registerRateLimit } from './rate-limit.ts';
import { deliveryRoutes } from './deliveries.ts';
import { deliveryControlRoutes } from './delivery-control.ts';
import type { Replayer } from '../delivery/replayer.ts';
import { eventRoutes } from './events.ts';
import { applicationEventTypeRoutes, eventTypeRoutes } from './event-types.ts';
import { healthRoutes } from './health.ts';
import { fanOutRoutes, ingestRoutes } from './ingest.ts';
import { accessRoutes } from './access.ts';
import { apiKeyRoutes } from './api-keys.ts';
import { applicationRoutes } from './applications.ts';
import { portalRoutes, portalSessionRoutes } from './portal-sessions.ts';
import { registerTenancy, type Owners } from './tenancy.ts';
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
import type { Tracing } from '../tracing/tracing.ts';

export interface ApiDeps {
  config: Config;
  store: Store;
  /** The cached lookups of the ingest path. */
  subscriptionCache: SubscriptionLookup;
  ingestor: Ingestor;
  /** The compiled schemas of the event types that validate their events' data. */
  eventSchemas: EventSchemas;
  replayer: Replayer;
  metrics: Metrics;
  clock: () => number;
  version: string;
  startedAt: number;
  /** API keys and whether requests need none while no key exists (auth/access-policy.ts). */
  access: { keys: KeyVerifier; openWithoutKeys: boolean };
  /** OpenTelemetry tracing; null or absent when off. */
  tracing?: Tracing | null;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

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
  // discriminator: a destination is validated against the one kind its `type` names.
  const common = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false, verbose: true, discriminator: true } as const;
  const body = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const text = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  const path = new Ajv({ ...common, coerceTypes: 'array', validateFormats: false });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? body : httpPart === 'params' ? path : text).compile(withoutHandlerChecks(schema) as object);
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

  registerJsonBody(app);

  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime), ...idsInPath(request) }, 'request');
    done();
  });

  const { store, clock } = deps;
  const { applications, subscriptions, deliveryLog, readModels, maintenance } = store;
  // Whose each record is, for the tenant wall (tenancy.ts); the ingest path's lookup comes from the cache.
  const owners: Owners = {
    subscription: async (id) => (await deps.subscriptionCache.get(id))?.applicationId ?? subscriptions.applicationOf(id),
    delivery: async (id) => {
      const delivery = await deliveryLog.getDelivery(id);
      return delivery && subscriptions.applicationOf(delivery.subscriptionId);
    },
    event: async (id) => (await deliveryLog.getEvent(id))?.applicationId,
  };

  // Before any route: these apply to every route, in this order.
  registerHeaderLimit(app);
  registerKeylessGuard(app, { keys: deps.access.keys, allowedHosts: deps.config.allowedHosts });
  registerAuth(app, {
    ...deps.access, metricsPublic: deps.config.metricsPublic, failedAuth: new FailedAuthLimit(deps.config.authFailuresPerMinute, deps.clock),
    portalSessions: { sessions: store.portalSessions, clock },
  });
  registerEmptyBody(app);
  await registerRateLimit(app, deps.config.rateLimitPerMinute);
  registerUnrouted(app);
  registerEdgeResponses(app);
  registerNulFreeBodies(app);
  await registerOpenApi(app, deps.version, async () => deps.access.openWithoutKeys && !(await deps.access.keys.keysConfigured()));
  for (const schema of CONTENT_FILTER_SHARED_SCHEMAS) app.addSchema(nulFree(schema));
  await app.register(metricsRoutes(deps.metrics));
  await app.register(async (api) => {
    registerTenancy(api, { applications, owners });
    await api.register(healthRoutes({ storeKind: store.kind, maintenance, subscriptions, readModels, clock, version: deps.version, startedAt: deps.startedAt }));
    const subscriptionDeps = { subscriptions, applications, allowNetworks: deps.config.allowNetworks, encrypting: deps.config.encryptionKey !== null, clock };
    const fanOutDeps = { eventSchemas: deps.eventSchemas, ingestor: deps.ingestor, idempotencyKeys: store.idempotencyKeys, clock, tracing: deps.tracing ?? null };
    await api.register(applicationRoutes({ applications, clock }));
    await api.register(portalRoutes({ portalSessions: store.portalSessions, applications, clock }));
    await api.register(apiKeyRoutes({ apiKeys: store.apiKeys, applications, keys: deps.access.keys, clock }));
    await api.register(accessRoutes());
    await api.register(subscriptionRoutes(subscriptionDeps));
    await api.register(eventTypeRoutes({ eventTypes: store.eventTypes, clock }));
    await api.register(ingestRoutes({ subscriptions: deps.subscriptionCache, ...fanOutDeps, signatureToleranceSeconds: deps.config.ingestSignatureToleranceSeconds }));
    await api.register(fanOutRoutes(fanOutDeps));
    // The same routes on one application, named in the path (the wall checks the tenant may see it).
    await api.register(async (application) => {
      await application.register(subscriptionRoutes({ ...subscriptionDeps, nested: true }));
      await application.register(fanOutRoutes({ ...fanOutDeps, nested: true }));
      await application.register(portalSessionRoutes({ portalSessions: store.portalSessions, clock }));
      await application.register(applicationEventTypeRoutes({ eventTypes: store.eventTypes, subscriptions }));
    }, { prefix: '/applications/:app' });
    await api.register(deliveryRoutes({ deliveryLog, subscriptions }));
    await api.register(deliveryControlRoutes({ deliveryLog, subscriptions, replayer: deps.replayer, clock }));
    await api.register(eventRoutes({ deliveryLog }));
    await api.register(statsRoutes({ readModels, clock }));
    await api.register(liveRoutes({ attempts: readModels, metrics: deps.metrics, keys: deps.access.keys }));
  }, { prefix: '/api/v1' });
  await app.register(uiRoutes({ portalFrameAncestors: deps.config.portalFrameAncestors }));
  return app;
}
