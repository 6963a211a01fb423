// Reading deliveries and their attempt logs.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { ATTEMPT_OUTCOMES, DELIVERY_STATUSES, type Attempt, type Delivery } from '../domain/index.ts';
import type { DeliveryLog, DeliveryQuery, Subscriptions } from '../store/contracts.ts';
import { notFound } from './errors.ts';
import { deliveryExample, deliveryListExample, deliveryWithLogsExample } from './examples.ts';
import {
  ApplicationFilter, IdParams, NullableTimestamp, PageQuery, Timestamp, decodeCursor, encodeCursor, errorResponses, iso, isUuid,
} from './schemas.ts';

const Status = Type.Enum(DELIVERY_STATUSES);

const DeliveryView = Type.Object({
  id: Type.String(),
  subscription_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  status: Status,
  attempts: Type.Integer({ description: 'Attempts made so far.' }),
  next_attempt_at: NullableTimestamp,
  last_attempt_at: NullableTimestamp,
  created_at: Timestamp,
  updated_at: Timestamp,
}, { examples: [deliveryExample] });

const AttemptView = Type.Object({
  attempt_number: Type.Integer(),
  outcome: Type.Enum(ATTEMPT_OUTCOMES),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  error_details: Type.Union([Type.String(), Type.Null()]),
  duration_ms: Type.Integer(),
  response_body: Type.Union([Type.String(), Type.Null()], { description: 'The first 4 KiB of the response body.' }),
  request_headers: Type.Record(Type.String(), Type.String()),
  trigger: Type.Enum(['scheduled', 'manual'] as const),
  created_at: Timestamp,
});

const DeliveryWithLogs = Type.Object({ ...DeliveryView.properties, logs: Type.Array(AttemptView) }, { examples: [deliveryWithLogsExample] });

const DeliveryList = Type.Object({
  items: Type.Array(DeliveryView),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
}, { examples: [deliveryListExample] });

const ListQuery = Type.Object({
  ...PageQuery.properties,
  status: Type.Optional(Status),
  event_type: Type.Optional(Type.String({ maxLength: 100 })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Created at or after this time.' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Created before this time.' })),
}, { additionalProperties: false });
type ListQuery = Static<typeof ListQuery>;

const ListAllQuery = Type.Object({
  ...ListQuery.properties,
  subscription_id: Type.Optional(Type.String()),
  application: Type.Optional(ApplicationFilter),
}, { additionalProperties: false });

const ownsDelivery = { owns: { param: 'id', resource: 'delivery' as const } };

export function deliveryView(d: Delivery) {
  return {
    id: d.id,
    subscription_id: d.subscriptionId,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: iso(d.nextAttemptAt),
    last_attempt_at: iso(d.lastAttemptAt),
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
  };
}

function attemptView(a: Attempt) {
  return {
    attempt_number: a.attemptNumber,
    outcome: a.outcome,
    status_code: a.statusCode,
    error_details: a.errorDetails,
    duration_ms: a.durationMs,
    response_body: a.responseBody,
    request_headers: a.requestHeaders,
    trigger: a.trigger,
    created_at: iso(a.createdAt),
  };
}

async function listPage(log: DeliveryLog, query: ListQuery, subscriptionId: string | undefined, applicationId: string | null) {
  const before = decodeCursor(query.cursor);
  const filter: DeliveryQuery = { limit: query.limit ?? 50 };
  if (applicationId !== null) filter.applicationId = applicationId;
  if (before !== undefined) filter.before = before;
  if (subscriptionId !== undefined) filter.subscriptionId = subscriptionId;
  if (query.status !== undefined) filter.status = query.status;
  if (query.event_type !== undefined) filter.eventType = query.event_type;
  if (query.since !== undefined) filter.since = Date.parse(query.since);
  if (query.until !== undefined) filter.until = Date.parse(query.until);
  const page = await log.listDeliveries(filter);
  return { items: page.items.map(deliveryView), next_cursor: encodeCursor(page.nextAfter) };
}

export interface DeliveryRoutesDeps {
  deliveryLog: DeliveryLog;
  subscriptions: Pick<Subscriptions, 'known'>;
}

export const deliveryRoutes = ({ deliveryLog, subscriptions }: DeliveryRoutesDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  async function withLogs(id: string) {
    const delivery = isUuid(id) ? await deliveryLog.getDelivery(id.toLowerCase()) : undefined;
    if (!delivery) throw notFound('delivery', id);
    const attempts = await deliveryLog.listAttempts(delivery.id);
    return { ...deliveryView(delivery), logs: attempts.map(attemptView) };
  }

  const detail = { params: IdParams, response: { 200: DeliveryWithLogs, ...errorResponses } };
  api.get('/ingest/delivery/:id', {
    schema: { tags: ['deliveries'], summary: 'A delivery with every attempt (the same as GET /deliveries/{id})', ...detail },
    config: ownsDelivery,
  }, async (request) => withLogs(request.params.id));
  api.get('/deliveries/:id', {
    schema: { tags: ['deliveries'], summary: 'A delivery with every attempt', ...detail },
    config: ownsDelivery,
  }, async (request) => withLogs(request.params.id));

  api.get('/deliveries', {
    schema: {
      tags: ['deliveries'], summary: 'Deliveries, newest first',
      querystring: ListAllQuery, response: { 200: DeliveryList, ...errorResponses },
    },
  }, async (request) => {
    const subscriptionId = request.query.subscription_id;
    if (subscriptionId !== undefined && !isUuid(subscriptionId)) return { items: [], next_cursor: null };
    return listPage(deliveryLog, request.query, subscriptionId?.toLowerCase(), request.scope.visible);
  });

  api.get('/subscriptions/:id/deliveries', {
    schema: {
      tags: ['deliveries'], summary: 'Recent deliveries of one subscription, newest first (a deleted one\'s too, while retention keeps them)',
      params: IdParams, querystring: ListQuery, response: { 200: DeliveryList, ...errorResponses },
    },
    config: { owns: { param: 'id', resource: 'subscription' } },
  }, async (request) => {
    const id = request.params.id;
    // A deleted subscription's history stays readable until retention removes it.
    if (!isUuid(id) || !(await subscriptions.known(id.toLowerCase()))) throw notFound('subscription', id);
    return listPage(deliveryLog, request.query, id.toLowerCase(), null);
  });
};
