// Ingestion: one event for one subscription (POST /ingest/{subscription_id}) and fan-out to
// every subscription of an application that takes it (POST /events on the default
// application or the key's own, POST /applications/{app}/events). Both answer 202 only after the event and
// its deliveries are committed; the body is stored and later delivered byte for byte.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { EVENT_TYPE_NAME } from '../ingest/ingestor.ts';
import { signingSecrets } from '../signing/signing-secrets.ts';
import { verifyHubSignature } from '../signing/standard-webhooks.ts';
import { checkIngestWithoutKey } from './auth.ts';
import { ApiError, invalidField, notFound } from './errors.ts';
import { IDEMPOTENCY_KEY_PATTERN, ingestOnce } from './idempotency.ts';
import { fannedOutExample, ingestedExample } from './examples.ts';
import { ApplicationParams, CHECKED_BY_HANDLER, errorResponses, isUuid } from './schemas.ts';
import { eventsScope } from './tenancy.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { IdempotencyKeys, SubscriptionLookup } from '../store/contracts.ts';
import './raw-body.ts';

const EventBody = Type.Object({
  event_type: Type.Optional(Type.String({ description: 'The event type; or send it in the X-Event-Type header.', examples: ['order.created'] })),
  data: Type.Optional(Type.Unknown({ description: 'Anything; the whole body is delivered exactly as received.' })),
}, { additionalProperties: true, description: 'Any JSON object. It is delivered byte for byte.' });

const EventHeaders = Type.Object({
  'x-event-type': Type.Optional(Type.String({ pattern: EVENT_TYPE_NAME, description: 'The event type, when the body has no event_type.' })),
  'x-hub-signature-256': Type.Optional(Type.String({ description: '`sha256=` + hex HMAC-SHA256 of the body with the subscription secret.' })),
  'idempotency-key': Type.Optional(Type.String({ pattern: IDEMPOTENCY_KEY_PATTERN.source, description: '1 to 255 printable ASCII characters, no spaces. Repeats within 24 hours get the first answer and create nothing.', [CHECKED_BY_HANDLER]: true })),
});

const eventTypeName = new RegExp(EVENT_TYPE_NAME);

function eventTypeOf(request: FastifyRequest): string {
  const body = request.body as Record<string, unknown>;
  const header = request.headers['x-event-type'];
  const type = body.event_type ?? (typeof header === 'string' ? header : undefined);
  if (type === undefined) throw invalidField('event_type', 'is required, in the body or in the X-Event-Type header');
  if (typeof type !== 'string' || !eventTypeName.test(type)) {
    throw invalidField('event_type', 'must be 1 to 100 letters, digits, "_", "." or "-"');
  }
  return type;
}

export interface IngestDeps {
  subscriptions: SubscriptionLookup;
  ingestor: Ingestor;
  idempotencyKeys: IdempotencyKeys;
  clock: () => number;
}

export const ingestRoutes = ({ subscriptions, ingestor, idempotencyKeys, clock }: IngestDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post('/ingest/:subscription_id', {
    schema: {
      tags: ['ingest'], summary: 'Send an event to one subscription',
      params: Type.Object({ subscription_id: Type.String() }),
      headers: EventHeaders,
      body: EventBody,
      response: {
        202: Type.Object({
          delivery_id: Type.String(),
          event_id: Type.String(),
          status: Type.Union([Type.Literal('queued'), Type.Literal('filtered')], { description: '"filtered" when the subscription does not take this event type; nothing is sent.' }),
        }, { examples: [ingestedExample] }),
        ...errorResponses,
      },
    },
    config: { owns: { param: 'subscription_id', resource: 'subscription' } },
  }, async (request, reply) => {
    const id = request.params.subscription_id;
    const subscription = isUuid(id) ? await subscriptions.get(id.toLowerCase()) : undefined;
    checkIngestWithoutKey(request, reply, subscription);
    if (!subscription) throw notFound('subscription', id);
    const raw = request.rawBody!;
    const signature = request.headers['x-hub-signature-256'];
    if (typeof signature === 'string') {
      // During a rotation's grace period the replaced secret is accepted too.
      if (!signingSecrets(subscription, clock()).some((secret) => verifyHubSignature(secret, raw, signature))) {
        throw new ApiError(401, 'invalid_signature', 'X-Hub-Signature-256 does not match the body signed with the subscription secret.');
      }
    } else if (subscription.requireSignedIngest) {
      throw new ApiError(401, 'signature_required', 'This subscription only accepts events signed with X-Hub-Signature-256.');
    }
    if (!subscription.active) {
      throw new ApiError(409, 'subscription_inactive', 'The subscription is inactive; activate it to ingest events.');
    }
    const eventType = eventTypeOf(request);
    return ingestOnce(
      { request, reply, keys: idempotencyKeys, now: clock(), scope: `ingest:${subscription.id}` },
      (idempotency) => ingestor.forSubscription(subscription, { eventType, payload: raw, body: request.body, ...(idempotency && { idempotency }) }),
      (ingested) => {
        const delivery = ingested.deliveries[0]!;
        request.log.info({ eventId: ingested.eventId, deliveryId: delivery.id, subscriptionId: subscription.id, eventType, status: delivery.status }, 'event ingested');
        return { delivery_id: delivery.id, event_id: ingested.eventId, status: delivery.status };
      },
    );
  });
};

export const fanOutRoutes = ({ ingestor, idempotencyKeys, clock, nested = false }: Omit<IngestDeps, 'subscriptions'> & { nested?: boolean }): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post('/events', {
    schema: {
      tags: ['ingest'],
      summary: nested ? "Send an event to every subscription of the application whose filter matches" : 'Send an event to every subscription whose filter matches',
      ...(nested && { params: ApplicationParams }),
      headers: EventHeaders,
      body: EventBody,
      response: {
        202: Type.Object({
          event_id: Type.String(),
          deliveries: Type.Integer({ description: 'How many deliveries were queued.' }),
          delivery_ids: Type.Array(Type.String()),
        }, { examples: [fannedOutExample] }),
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const eventType = eventTypeOf(request);
    const applicationId = request.scope.home;
    return ingestOnce(
      { request, reply, keys: idempotencyKeys, now: clock(), scope: eventsScope(applicationId) },
      (idempotency) => ingestor.fanOut(applicationId, { eventType, payload: request.rawBody!, body: request.body, ...(idempotency && { idempotency }) }),
      (ingested) => {
        const queued = ingested.deliveries.filter((d) => d.status === 'queued');
        request.log.info({ eventId: ingested.eventId, eventType, deliveries: queued.length }, 'event fanned out');
        return { event_id: ingested.eventId, deliveries: queued.length, delivery_ids: queued.map((d) => d.id) };
      },
    );
  });
};
