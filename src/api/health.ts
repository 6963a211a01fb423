// Liveness and the operator's one-look summary.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { DELIVERY_STATUSES } from '../domain/index.ts';
import type { Maintenance, ReadModels, StoreKind, Subscriptions } from '../store/contracts.ts';
import { healthExamples, statusExample } from './examples.ts';
import { ErrorSchema, errorResponses } from './schemas.ts';

const HEALTH_CHECK_TIMEOUT_MS = 2000;

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Object({
    database: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')], {
      description: '"unavailable" when the database did not answer; why is in the log (not here: this route needs no key).',
    }),
  }),
}, { examples: healthExamples });

const Status = Type.Object({
  version: Type.String(),
  uptime_seconds: Type.Number(),
  store: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
  subscriptions: Type.Integer(),
  deliveries: Type.Object(Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, Type.Integer()]))),
  queue: Type.Object({
    depth: Type.Integer({ description: 'Deliveries queued or being delivered.' }),
    due_now: Type.Integer({ description: 'Queued deliveries whose time has come.' }),
    in_flight: Type.Integer(),
    oldest_due_age_seconds: Type.Number({ description: 'How long the oldest due delivery has waited.' }),
    succeeded_last_hour: Type.Integer(),
    failed_last_hour: Type.Integer(),
  }),
  open_circuits: Type.Integer({ description: 'Subscriptions whose circuit breaker is open or probing.' }),
  operational_events: Type.Array(Type.Object({
    id: Type.String(),
    type: Type.Union([Type.Literal('subscription.disabled'), Type.Literal('delivery.failed')]),
    subscription_id: Type.String(),
    delivery_id: Type.Union([Type.String(), Type.Null()]),
    reason: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
  }), { description: 'The latest events hookd raised for operators, newest first (also sent to HOOKD_OPERATIONS_URL when set).' }),
}, { examples: [statusExample] });

const RECENT_OPERATIONAL_EVENTS = 20;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);
}

/** GET /health alone: also served by a worker's metrics port (api/monitor-server.ts). */
export const livenessRoute = (maintenance: Pick<Maintenance, 'ping'>): FastifyPluginAsync => async (app) => {
  app.withTypeProvider<TypeBoxTypeProvider>().get('/health', {
    schema: { tags: ['health'], summary: 'Liveness and database reachability', security: [], response: { 200: Health, 503: Health } },
  }, async (request, reply) => {
    try {
      await withTimeout(maintenance.ping(), HEALTH_CHECK_TIMEOUT_MS);
      return { status: 'ok' as const, checks: { database: 'ok' as const } };
    } catch (error) {
      request.log.warn({ err: error }, 'health check failed: the database did not answer');
      reply.status(503);
      return { status: 'unavailable' as const, checks: { database: 'unavailable' as const } };
    }
  });
};

export interface HealthDeps {
  storeKind: StoreKind;
  maintenance: Pick<Maintenance, 'ping'>;
  subscriptions: Pick<Subscriptions, 'count'>;
  readModels: Pick<ReadModels, 'deliveryCounts' | 'queueFigures' | 'countOpenCircuits' | 'recentOperationalEvents'>;
  clock: () => number;
  version: string;
  startedAt: number;
}

export const healthRoutes = (deps: HealthDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { readModels, clock } = deps;

  await app.register(livenessRoute(deps.maintenance));

  api.get('/status', {
    schema: {
      tags: ['health'], summary: 'Version, uptime, counts and queue figures, of every application (an admin key only)',
      response: { 200: Status, ...errorResponses, 403: ErrorSchema },
    },
    config: { adminOnly: true },
  }, async () => {
    const now = clock();
    const [subscriptions, deliveries, queue, openCircuits, notices] = await Promise.all([
      deps.subscriptions.count(), readModels.deliveryCounts(), readModels.queueFigures(now),
      readModels.countOpenCircuits(), readModels.recentOperationalEvents(RECENT_OPERATIONAL_EVENTS),
    ]);
    return {
      version: deps.version,
      uptime_seconds: Math.round((now - deps.startedAt) / 1000),
      store: deps.storeKind,
      subscriptions,
      deliveries,
      queue: {
        depth: queue.depth,
        due_now: queue.dueNow,
        in_flight: queue.inFlight,
        oldest_due_age_seconds: queue.oldestDueAgeMs / 1000,
        succeeded_last_hour: queue.succeededLastHour,
        failed_last_hour: queue.failedLastHour,
      },
      open_circuits: openCircuits,
      operational_events: notices.map((n) => ({
        id: n.id, type: n.type, subscription_id: n.subscriptionId, delivery_id: n.deliveryId, reason: n.reason,
        created_at: new Date(n.createdAt).toISOString(),
      })),
    };
  });
};
