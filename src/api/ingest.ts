// Ingestion: one event for one subscription (POST /ingest/{subscription_id}) and fan-out to
// every subscription of an application that takes it (POST /events on the default
// application or the key's own, POST /applications/{app}/events). Both answer 202 only after the event and
// its deliveries are committed; the body is stored and later delivered byte for byte.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { EVENT_TYPE_NAME } from '../domain/index.ts';
import { ApiError, invalidField, notFound } from './errors.ts';
import { checkIngestSignature, keylessIngestCheck } from './ingest-signature.ts';
import { IDEMPOTENCY_KEY_PATTERN, ingestOnce } from './idempotency.ts';
import { fannedOutExample, ingestedExample } from './examples.ts';
import { ApplicationParams, CHECKED_BY_HANDLER, errorResponses, isUuid } from './schemas.ts';
import { eventsScope } from './tenancy.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { EventSchemas, SchemaIssue } from '../ingest/event-schemas.ts';
import type { IdempotencyKeys, SubscriptionLookup } from '../store/contracts.ts';
import type { TraceContext } from '../domain/index.ts';
import { incomingTraceContext } from '../tracing/trace-context.ts';
import type { IngestSpan, Tracing } from '../tracing/tracing.ts';
import './raw-body.ts';

const EventBody = Type.Object({
  event_type: Type.Optional(Type.String({ description: 'The event type; or send it in the X-Event-Type header.', examples: ['order.created'] })),
  data: Type.Optional(Type.Unknown({ description: 'Anything; the whole body is delivered exactly as received.' })),
}, { additionalProperties: true, description: 'Any JSON object. It is delivered byte for byte.' });

const IdempotencyKeyHeader = Type.String({ pattern: IDEMPOTENCY_KEY_PATTERN.source, description: '1 to 255 printable ASCII characters, no spaces. Repeats within 24 hours get the first answer and create nothing.', [CHECKED_BY_HANDLER]: true });
const EventHeaders = Type.Object({
  'x-event-type': Type.Optional(Type.String({ pattern: EVENT_TYPE_NAME, description: 'The event type, when the body has no event_type.' })),
  traceparent: Type.Optional(Type.String({ description: 'W3C trace context: stored with the event and carried to every attempt, so the receiver continues this trace. A malformed one is ignored.', examples: ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'] })),
  tracestate: Type.Optional(Type.String({ description: 'W3C trace context vendor data, carried with a valid traceparent. A malformed one is ignored.' })),
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

function refuse(eventType: string, issue: SchemaIssue | null): void {
  if (issue) {
    throw new ApiError(422, 'event_data_invalid', `${issue.path}: ${issue.message} (the schema of event type ${eventType})`, [{ field: issue.path, message: issue.message }]);
  }
}

/**
 * Refuses an event whose type validates its data (the catalog's `validate`) when the data does
 * not match. Returns nothing to wait for while the compiled schemas are fresh.
 */
function checkData(eventSchemas: EventSchemas, eventType: string, request: FastifyRequest): Promise<void> | undefined {
  const issue = eventSchemas.check(eventType, (request.body as Record<string, unknown>).data);
  if (issue instanceof Promise) return issue.then((found) => refuse(eventType, found));
  refuse(eventType, issue);
  return undefined;
}

export interface IngestDeps {
  subscriptions: SubscriptionLookup;
  eventSchemas: EventSchemas;
  ingestor: Ingestor;
  idempotencyKeys: IdempotencyKeys;
  clock: () => number;
  /** OpenTelemetry tracing; null when off. */
  tracing: Tracing | null;
}

/**
 * With tracing on, a span for every ingest request, refused ones included (hooks of this
 * plugin only); the event stores the span's context. Off, the event stores the request's own
 * valid `traceparent`, so receivers still continue the producer's trace.
 */
function traceIngests(app: Parameters<FastifyPluginAsync>[0], tracing: Tracing | null): {
  traceOf: (request: FastifyRequest) => TraceContext | null;
  accepted?: (request: FastifyRequest, event: Parameters<IngestSpan['accepted']>[0]) => void;
} {
  if (!tracing) return { traceOf: (request) => incomingTraceContext(request.headers) };
  const spans = new WeakMap<FastifyRequest, IngestSpan>();
  const errorCodes = new WeakMap<FastifyRequest, string>();
  app.addHook('onRequest', (request, _reply, done) => {
    spans.set(request, tracing.startIngest(request.routeOptions.url ?? request.url, request.headers));
    done();
  });
  app.addHook('onError', (request, _reply, error, done) => {
    if (error instanceof ApiError) errorCodes.set(request, error.code);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    spans.get(request)?.end(reply.statusCode, errorCodes.get(request));
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    spans.get(request)?.end(499, 'client_closed_request');
    done();
  });
  return {
    traceOf: (request) => spans.get(request)?.trace ?? null,
    accepted: (request, event) => spans.get(request)?.accepted(event),
  };
}

export const ingestRoutes = ({ subscriptions, eventSchemas, ingestor, idempotencyKeys, clock, tracing, signatureToleranceSeconds }: IngestDeps & { signatureToleranceSeconds: number }): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { traceOf, accepted } = traceIngests(app, tracing);

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
    config: { owns: { param: 'subscription_id', resource: 'subscription' } },
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
    const checking = checkData(eventSchemas, eventType, request);
    if (checking) await checking;
    return ingestOnce(
      {
        request, reply, keys: idempotencyKeys, now: clock(),
        ...(signedId === undefined
          ? { scope: `ingest:${subscription.id}` }
          : { scope: `webhook-id:${subscription.id}`, key: signedId, keyName: 'webhook-id' }),
      },
      (idempotency) => ingestor.forSubscription(subscription, { eventType, payload: raw, body: request.body, trace: traceOf(request), ...(idempotency && { idempotency }) }),
      (ingested) => {
        const delivery = ingested.deliveries[0]!;
        accepted?.(request, { eventId: ingested.eventId, eventType, deliveries: delivery.status === 'queued' ? 1 : 0, subscription });
        request.log.info({ eventId: ingested.eventId, deliveryId: delivery.id, subscriptionId: subscription.id, eventType, status: delivery.status }, 'event ingested');
        return { delivery_id: delivery.id, event_id: ingested.eventId, status: delivery.status };
      },
    );
  });
};

export const fanOutRoutes = ({ eventSchemas, ingestor, idempotencyKeys, clock, tracing, nested = false }: Omit<IngestDeps, 'subscriptions'> & { nested?: boolean }): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { traceOf, accepted } = traceIngests(app, tracing);

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
    const checking = checkData(eventSchemas, eventType, request);
    if (checking) await checking;
    return ingestOnce(
      { request, reply, keys: idempotencyKeys, now: clock(), scope: eventsScope(applicationId) },
      (idempotency) => ingestor.fanOut(applicationId, { eventType, payload: request.rawBody!, body: request.body, trace: traceOf(request), ...(idempotency && { idempotency }) }),
      (ingested) => {
        const queued = ingested.deliveries.filter((d) => d.status === 'queued');
        accepted?.(request, { eventId: ingested.eventId, eventType, deliveries: queued.length });
        request.log.info({ eventId: ingested.eventId, eventType, deliveries: queued.length }, 'event fanned out');
        return { event_id: ingested.eventId, deliveries: queued.length, delivery_ids: queued.map((d) => d.id) };
      },
    );
  });
};
