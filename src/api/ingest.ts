// Ingestion: one event for one subscription (POST /ingest/{subscription_id}) and fan-out to
// every subscription that takes it (POST /events). Both answer 202 only after the event and
// its deliveries are committed; the body is stored and later delivered byte for byte.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { EVENT_TYPE_NAME } from '../ingest/ingestor.ts';
import { ApiError, invalidField, notFound } from './errors.ts';
import { checkIngestSignature, keylessIngestCheck } from './ingest-signature.ts';
import { IDEMPOTENCY_KEY_PATTERN, ingestOnce } from './idempotency.ts';
import { fannedOutExample, ingestedExample } from './examples.ts';
import { CHECKED_BY_HANDLER, errorResponses, isUuid } from './schemas.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { IdempotencyKeys, SubscriptionLookup } from '../store/contracts.ts';
import './raw-body.ts';

const EventBody = Type.Object({
  event_type: Type.Optional(Type.String({ description: 'The event type; or send it in the X-Event-Type header.', examples: ['order.created'] })),
  data: Type.Optional(Type.Unknown({ description: 'Anything; the whole body is delivered exactly as received.' })),
}, { additionalProperties: true, description: 'Any JSON object. It is delivered byte for byte.' });

const IdempotencyKeyHeader = Type.String({ pattern: IDEMPOTENCY_KEY_PATTERN.source, description: '1 to 255 printable ASCII characters, no spaces. Repeats within 24 hours get the first answer and create nothing.', [CHECKED_BY_HANDLER]: true });
const EventHeaders = Type.Object({
  'x-event-type': Type.Optional(Type.String({ pattern: EVENT_TYPE_NAME, description: 'The event type, when the body has no event_type.' })),
  'idempotency-key': Type.Optional(IdempotencyKeyHeader),
});
const IngestHeaders = Type.Object({
  ...EventHeaders.properties,
  'x-hub-signature-256': Type.Optional(Type.String({ description: '`sha256=` + hex HMAC-SHA256 of the body, keyed with the subscription secret string as shown (as GitHub does). Signs the body only: a replay of the request is a new event; prefer the Standard Webhooks headers.' })),
  'webhook-id': Type.Optional(Type.String({ description: 'Standard Webhooks: a unique id of this event. A repeat with the same id within 24 hours gets the first answer and creates nothing (do not send Idempotency-Key with it).' })),
  'webhook-timestamp': Type.Optional(Type.String({ description: 'Standard Webhooks: unix seconds when signed; must be within HOOKD_INGEST_SIGNATURE_TOLERANCE_SECONDS (300) of the server clock.' })),
  'webhook-signature': Type.Optional(Type.String({ description: 'Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` with the subscription secret (as the standardwebhooks and svix libraries sign); several space-separated signatures are accepted. Decides over X-Hub-Signature-256 when both are sent.' })),
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
  /** How far a Standard Webhooks `webhook-timestamp` may be from the clock (HOOKD_INGEST_SIGNATURE_TOLERANCE_SECONDS). */
  signatureToleranceSeconds: number;
}

export const ingestRoutes = ({ subscriptions, ingestor, idempotencyKeys, clock, signatureToleranceSeconds }: IngestDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post('/ingest/:subscription_id', {
    schema: {
      tags: ['ingest'], summary: 'Send an event to one subscription',
      params: Type.Object({ subscription_id: Type.String() }),
      headers: IngestHeaders,
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
    // A request without an API key is decided before its body is parsed.
    preParsing: keylessIngestCheck(subscriptions, clock, signatureToleranceSeconds),
  }, async (request, reply) => {
    const id = request.params.subscription_id;
    const subscription = isUuid(id) ? await subscriptions.get(id.toLowerCase()) : undefined;
    if (!subscription) throw notFound('subscription', id);
    const raw = request.rawBody!;
    // During a rotation's grace period the replaced secret is accepted too.
    const signature = request.ingestSignature ?? checkIngestSignature(subscription, raw, request.headers, clock(), signatureToleranceSeconds);
    if (signature.scheme === 'invalid') throw new ApiError(401, 'invalid_signature', signature.message);
    if (signature.scheme === 'none' && subscription.requireSignedIngest) {
      throw new ApiError(401, 'signature_required', 'This subscription only accepts events signed with its secret (Standard Webhooks headers or X-Hub-Signature-256).');
    }
    if (!subscription.active) {
      throw new ApiError(409, 'subscription_inactive', 'The subscription is inactive; activate it to ingest events.');
    }
    const eventType = eventTypeOf(request);
    // A signed webhook-id makes a repeat harmless, as an Idempotency-Key would: the two together
    // could disagree, so only one may be given.
    const signedId = signature.scheme === 'standard-webhooks' ? signature.webhookId : undefined;
    if (signedId !== undefined && request.headers['idempotency-key'] !== undefined) {
      throw new ApiError(422, 'idempotency_key_not_allowed', 'Idempotency-Key cannot be sent with a Standard Webhooks signature: its webhook-id already makes repeats create nothing.');
    }
    return ingestOnce(
      {
        request, reply, keys: idempotencyKeys, now: clock(),
        ...(signedId === undefined
          ? { scope: `ingest:${subscription.id}` }
          : { scope: `webhook-id:${subscription.id}`, key: signedId, keyName: 'webhook-id' }),
      },
      (idempotency) => ingestor.forSubscription(subscription, { eventType, payload: raw, body: request.body, ...(idempotency && { idempotency }) }),
      (ingested) => {
        const delivery = ingested.deliveries[0]!;
        request.log.info({ eventId: ingested.eventId, deliveryId: delivery.id, subscriptionId: subscription.id, eventType, status: delivery.status }, 'event ingested');
        return { delivery_id: delivery.id, event_id: ingested.eventId, status: delivery.status };
      },
    );
  });

  api.post('/events', {
    schema: {
      tags: ['ingest'], summary: 'Send an event to every subscription whose filter matches',
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
    return ingestOnce(
      { request, reply, keys: idempotencyKeys, now: clock(), scope: 'events' },
      (idempotency) => ingestor.fanOut({ eventType, payload: request.rawBody!, body: request.body, ...(idempotency && { idempotency }) }),
      (ingested) => {
        const queued = ingested.deliveries.filter((d) => d.status === 'queued');
        request.log.info({ eventId: ingested.eventId, eventType, deliveries: queued.length }, 'event fanned out');
        return { event_id: ingested.eventId, deliveries: queued.length, delivery_ids: queued.map((d) => d.id) };
      },
    );
  });
};
