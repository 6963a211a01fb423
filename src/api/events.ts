// Reading one stored event: its type and the body exactly as it was received (the delivery
// detail view shows it; every delivery of the event sends these bytes).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { notFound } from './errors.ts';
import { IdParams, Timestamp, errorResponses, iso, isUuid } from './schemas.ts';
import type { DeliveryLog } from '../store/contracts.ts';

const utf8 = new TextDecoder('utf-8');

const EventView = Type.Object({
  id: Type.String(),
  application_id: Type.String(),
  event_type: Type.String(),
  payload: Type.String({ description: 'The request body as received, as text; parse it as JSON.' }),
  created_at: Timestamp,
}, {
  examples: [{
    id: '0197a3c2-7d42-7e19-9c55-41f0b8a2d3e7',
    application_id: '00000000-0000-7000-8000-000000000000',
    event_type: 'order.created',
    payload: '{"event_type": "order.created", "data": {"order_id": "ORD-12345"}}',
    created_at: '2025-06-01T12:00:00.000Z',
  }],
});

export const eventRoutes = ({ deliveryLog }: { deliveryLog: Pick<DeliveryLog, 'getEvent'> }): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get('/events/:id', {
    schema: {
      tags: ['ingest'], summary: 'An event with its payload as received',
      params: IdParams, response: { 200: EventView, ...errorResponses },
    },
    config: { owns: { param: 'id', resource: 'event' } },
  }, async (request) => {
    const id = request.params.id;
    const event = isUuid(id) ? await deliveryLog.getEvent(id.toLowerCase()) : undefined;
    if (!event) throw notFound('event', id);
    return { id: event.id, application_id: event.applicationId, event_type: event.eventType, payload: utf8.decode(event.payload), created_at: iso(event.createdAt) };
  });
};
