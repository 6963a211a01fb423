// Operator control over deliveries: retry one now, or replay a subscription's failed ones.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ApiError, notFound } from './errors.ts';
import { IdParams, errorResponses, isUuid } from './schemas.ts';
import type { Replayer } from '../delivery/replayer.ts';
import type { DeliveryLog, Subscriptions } from '../store/contracts.ts';

const ReplayBody = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('failed'), Type.Literal('succeeded')], { default: 'failed', description: 'Which finished deliveries to send again.' })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only deliveries created at or after this time.' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Only deliveries created before this time.' })),
}, { additionalProperties: false });

export interface DeliveryControlDeps {
  deliveryLog: Pick<DeliveryLog, 'retryDelivery'>;
  subscriptions: Pick<Subscriptions, 'get'>;
  replayer: Replayer;
  clock: () => number;
}

export const deliveryControlRoutes = ({ deliveryLog, subscriptions, replayer, clock }: DeliveryControlDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post('/deliveries/:id/retry', {
    schema: {
      tags: ['deliveries'], summary: 'Attempt a delivery again now (failed, succeeded or queued); the attempt is logged as manual',
      params: IdParams,
      response: {
        202: Type.Object({ delivery_id: Type.String(), status: Type.Literal('queued') }, {
          examples: [{ delivery_id: '01a2293d-e062-7f6a-a270-248d3cd98ad3', status: 'queued' }],
        }),
        ...errorResponses,
      },
    },
    config: { owns: { param: 'id', resource: 'delivery' } },
  }, async (request, reply) => {
    const id = request.params.id;
    const delivery = isUuid(id) ? await deliveryLog.retryDelivery(id.toLowerCase(), clock()) : undefined;
    if (!delivery) throw notFound('delivery', id);
    if (delivery.status === 'delivering') {
      throw new ApiError(409, 'delivery_in_progress', 'The delivery is being attempted right now; retry it once this attempt is recorded.');
    }
    if (delivery.status !== 'queued') {
      throw new ApiError(409, 'delivery_not_retryable', `A ${delivery.status} delivery cannot be retried: nothing was, or can be, sent for it.`);
    }
    request.log.info({ deliveryId: delivery.id, subscriptionId: delivery.subscriptionId }, 'manual retry queued');
    reply.status(202);
    return { delivery_id: delivery.id, status: 'queued' as const };
  });

  api.post('/subscriptions/:id/replay', {
    schema: {
      tags: ['deliveries'], summary: "Send a subscription's failed (or succeeded) deliveries again, in background batches",
      params: IdParams,
      body: ReplayBody,
      response: {
        202: Type.Object({
          count: Type.Integer({ description: 'Deliveries matching the replay.' }),
          already_running: Type.Boolean({ description: 'An identical replay was still running; no second one was started.' }),
        }, { examples: [{ count: 42, already_running: false }] }),
        ...errorResponses,
      },
    },
    config: { owns: { param: 'id', resource: 'subscription' } },
  }, async (request, reply) => {
    const id = request.params.id;
    const subscription = isUuid(id) ? await subscriptions.get(id.toLowerCase()) : undefined;
    if (!subscription) throw notFound('subscription', id);
    const { since, until } = request.body;
    const started = await replayer.start({
      subscriptionId: subscription.id,
      status: request.body.status ?? 'failed',
      ...(since !== undefined && { since: Date.parse(since) }),
      ...(until !== undefined && { until: Date.parse(until) }),
    });
    request.log.info({ subscriptionId: subscription.id, ...started }, 'replay started');
    reply.status(202);
    return { count: started.count, already_running: started.alreadyRunning };
  });
};
