// Liveness and the operator's one-look summary.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { DELIVERY_STATUSES } from '../store/store.ts';
import { errorResponses } from './schemas.ts';
import type { ApiDeps } from './server.ts';

const HEALTH_CHECK_TIMEOUT_MS = 2000;

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Object({ database: Type.String({ description: '"ok", or why the database check failed.' }) }),
});

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
});

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);
}

export const healthRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store, clock } = deps;

  api.get('/health', {
    schema: { tags: ['health'], summary: 'Liveness and database reachability', response: { 200: Health, 503: Health } },
  }, async (request, reply) => {
    try {
      await withTimeout(store.ping(), HEALTH_CHECK_TIMEOUT_MS);
      return { status: 'ok' as const, checks: { database: 'ok' } };
    } catch (error) {
      request.log.warn({ err: error }, 'health check failed');
      reply.status(503);
      return { status: 'unavailable' as const, checks: { database: `failed: ${(error as Error).message}` } };
    }
  });

  api.get('/status', {
    schema: { tags: ['health'], summary: 'Version, uptime, counts and queue figures', response: { 200: Status, ...errorResponses } },
  }, async () => {
    const now = clock();
    const [subscriptions, deliveries, queue] = await Promise.all([
      store.countSubscriptions(), store.deliveryCounts(), store.queueFigures(now),
    ]);
    return {
      version: deps.version,
      uptime_seconds: Math.round((now - deps.startedAt) / 1000),
      store: store.kind,
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
    };
  });
};
