// Subscription CRUD at the brief's paths: /api/v1/subscriptions[/{id}], trailing slash or not.
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { uuidv7 } from 'uuidv7';
import { EVENT_TYPE_PATTERN, isValidPattern } from '../routing/event-types.ts';
import { secretKey } from '../signing/standard-webhooks.ts';
import type { Subscription } from '../store/store.ts';
import { ApiError, invalidField, notFound } from './errors.ts';
import {
  IdParams, NullableTimestamp, PageQuery, Timestamp, decodeCursor, encodeCursor, errorResponses, iso, isUuid,
} from './schemas.ts';
import type { ApiDeps } from './server.ts';

const TargetUrl = Type.String({ minLength: 1, maxLength: 2048, description: 'Absolute http:// or https:// URL that receives the webhooks.' });
const EventTypes = Type.Union([
  Type.Array(Type.String({ pattern: EVENT_TYPE_PATTERN }), { minItems: 1, maxItems: 100, uniqueItems: true }),
  Type.Null(),
], { description: 'Event types to deliver: exact names, `*`, or `prefix.*`. Null or absent: every event type.' });
const Secret = Type.String({ minLength: 8, maxLength: 256, description: 'HMAC signing secret; `whsec_` + base64, or any string. Generated when absent.' });
const Description = Type.Union([Type.String({ maxLength: 1024 }), Type.Null()]);
const RetryPolicy = Type.Union([Type.Object({
  max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  initial_delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
  backoff_factor: Type.Optional(Type.Number({ minimum: 1, maximum: 10 })),
  max_delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400_000 })),
  jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
}, { additionalProperties: false }), Type.Null()], { description: 'Overrides of the global retry settings; absent fields use them.' });

const settings = {
  target_url: TargetUrl,
  secret: Type.Optional(Secret),
  event_types: Type.Optional(EventTypes),
  description: Type.Optional(Description),
  active: Type.Optional(Type.Boolean({ description: 'Inactive subscriptions get no new deliveries.' })),
  require_signed_ingest: Type.Optional(Type.Boolean({ description: 'Reject ingest requests without a valid X-Hub-Signature-256.' })),
  retry_policy: Type.Optional(RetryPolicy),
};
const CreateBody = Type.Object(settings, { additionalProperties: false });
const ReplaceBody = Type.Object(settings, { additionalProperties: false });
const PatchBody = Type.Object({ ...settings, target_url: Type.Optional(TargetUrl) }, { additionalProperties: false, minProperties: 1 });
type PatchBody = Static<typeof PatchBody>;

const SubscriptionView = Type.Object({
  id: Type.String(),
  target_url: Type.String(),
  event_types: Type.Union([Type.Array(Type.String()), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
  require_signed_ingest: Type.Boolean(),
  retry_policy: Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const SubscriptionWithSecret = Type.Object({ ...SubscriptionView.properties, secret: Type.String() });
const SubscriptionList = Type.Object({
  items: Type.Array(SubscriptionView),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
const ListQuery = Type.Object({
  ...PageQuery.properties,
  event_type: Type.Optional(Type.String({ pattern: EVENT_TYPE_PATTERN, description: 'Only subscriptions that would receive this event type.' })),
}, { additionalProperties: false });

export function subscriptionView(s: Subscription) {
  return {
    id: s.id,
    target_url: s.targetUrl,
    event_types: s.eventTypes,
    description: s.description,
    active: s.active,
    require_signed_ingest: s.requireSignedIngest,
    retry_policy: s.retryPolicy && {
      ...(s.retryPolicy.maxAttempts !== undefined && { max_attempts: s.retryPolicy.maxAttempts }),
      ...(s.retryPolicy.initialDelayMs !== undefined && { initial_delay_ms: s.retryPolicy.initialDelayMs }),
      ...(s.retryPolicy.backoffFactor !== undefined && { backoff_factor: s.retryPolicy.backoffFactor }),
      ...(s.retryPolicy.maxDelayMs !== undefined && { max_delay_ms: s.retryPolicy.maxDelayMs }),
      ...(s.retryPolicy.jitter !== undefined && { jitter: s.retryPolicy.jitter }),
    },
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
  };
}

function generateSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

function checkTargetUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidField('target_url', 'must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidField('target_url', 'must use http:// or https://');
  if (url.username || url.password) {
    throw invalidField('target_url', 'must not contain credentials; put them in the receiver or use the signing secret');
  }
  return raw;
}

function checkSecret(secret: string): string {
  try {
    secretKey(secret);
  } catch {
    throw invalidField('secret', 'a whsec_ secret must be followed by valid base64');
  }
  return secret;
}

function checkEventTypes(types: string[] | null | undefined): string[] | null {
  if (!types) return null;
  const bad = types.find((t) => !isValidPattern(t));
  if (bad !== undefined) throw invalidField('event_types', `"${bad}" is not a valid pattern: use a name, "*", or "prefix.*"`);
  return types;
}

function retryPolicyFrom(body: PatchBody['retry_policy']): Subscription['retryPolicy'] {
  if (!body) return null;
  const policy: NonNullable<Subscription['retryPolicy']> = {};
  if (body.max_attempts !== undefined) policy.maxAttempts = body.max_attempts;
  if (body.initial_delay_ms !== undefined) policy.initialDelayMs = body.initial_delay_ms;
  if (body.backoff_factor !== undefined) policy.backoffFactor = body.backoff_factor;
  if (body.max_delay_ms !== undefined) policy.maxDelayMs = body.max_delay_ms;
  if (body.jitter !== undefined) policy.jitter = body.jitter;
  return Object.keys(policy).length > 0 ? policy : null;
}

/** Applies body fields over a base; with `replace`, absent optional fields fall back to defaults. */
function applySettings(base: Subscription, body: PatchBody, replace: boolean, now: number): Subscription {
  const pick = <K extends keyof PatchBody, V>(key: K, current: V, fallback: V, convert: (v: NonNullable<PatchBody[K]> | null) => V): V => {
    if (body[key] !== undefined) return convert(body[key] as NonNullable<PatchBody[K]> | null);
    return replace ? fallback : current;
  };
  return {
    ...base,
    targetUrl: body.target_url !== undefined ? checkTargetUrl(body.target_url) : base.targetUrl,
    // A secret changes only when one is given explicitly, even on PUT.
    secret: body.secret !== undefined ? checkSecret(body.secret) : base.secret,
    eventTypes: pick('event_types', base.eventTypes, null, (v) => checkEventTypes(v as string[] | null)),
    description: pick('description', base.description, null, (v) => (v as string | null) ?? null),
    active: pick('active', base.active, true, (v) => v as boolean),
    requireSignedIngest: pick('require_signed_ingest', base.requireSignedIngest, false, (v) => v as boolean),
    retryPolicy: pick('retry_policy', base.retryPolicy, null, (v) => retryPolicyFrom(v as PatchBody['retry_policy'])),
    updatedAt: now,
  };
}

export const subscriptionRoutes = (deps: ApiDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store, subscriptions, clock } = deps;

  async function load(id: string): Promise<Subscription> {
    const subscription = isUuid(id) ? await store.getSubscription(id.toLowerCase()) : undefined;
    if (!subscription) throw notFound('subscription', id);
    return subscription;
  }

  api.post('/subscriptions', {
    schema: {
      tags: ['subscriptions'], summary: 'Create a subscription',
      body: CreateBody,
      response: { 201: SubscriptionWithSecret, ...errorResponses },
    },
  }, async (request, reply) => {
    const now = clock();
    const blank: Subscription = {
      id: uuidv7(), targetUrl: '', secret: request.body.secret ?? generateSecret(), eventTypes: null, description: null,
      active: true, requireSignedIngest: false, retryPolicy: null, createdAt: now, updatedAt: now,
    };
    const subscription = applySettings(blank, request.body, true, now);
    await store.createSubscription(subscription);
    subscriptions.changed(subscription.id);
    request.log.info({ subscriptionId: subscription.id }, 'subscription created');
    reply.status(201);
    return { ...subscriptionView(subscription), secret: subscription.secret };
  });

  api.get('/subscriptions', {
    schema: {
      tags: ['subscriptions'], summary: 'List subscriptions, oldest first',
      querystring: ListQuery,
      response: { 200: SubscriptionList, ...errorResponses },
    },
  }, async (request) => {
    const after = decodeCursor(request.query.cursor);
    if (after === null) throw new ApiError(422, 'invalid_cursor', 'cursor is not one this server issued.');
    const page = await store.listSubscriptions({
      limit: request.query.limit ?? 50,
      ...(after !== undefined && { after }),
      ...(request.query.event_type !== undefined && { eventType: request.query.event_type }),
    });
    return { items: page.items.map(subscriptionView), next_cursor: encodeCursor(page.nextAfter) };
  });

  api.get('/subscriptions/:id', {
    schema: { tags: ['subscriptions'], summary: 'Get a subscription', params: IdParams, response: { 200: SubscriptionView, ...errorResponses } },
  }, async (request) => subscriptionView(await load(request.params.id)));

  api.get('/subscriptions/:id/secret', {
    schema: {
      tags: ['subscriptions'], summary: "Reveal a subscription's signing secret",
      params: IdParams, response: { 200: Type.Object({ secret: Type.String() }), ...errorResponses },
    },
  }, async (request) => ({ secret: (await load(request.params.id)).secret }));

  for (const method of ['put', 'patch'] as const) {
    const replace = method === 'put';
    api[method]('/subscriptions/:id', {
      schema: {
        tags: ['subscriptions'],
        summary: replace ? 'Replace the settings of a subscription (an omitted secret is kept)' : 'Change some settings of a subscription',
        params: IdParams,
        body: replace ? ReplaceBody : PatchBody,
        response: { 200: SubscriptionView, ...errorResponses },
      },
    }, async (request) => {
      const current = await load(request.params.id);
      const updated = applySettings(current, request.body as PatchBody, replace, clock());
      if (!(await store.updateSubscription(updated))) throw notFound('subscription', request.params.id);
      subscriptions.changed(updated.id);
      return subscriptionView(updated);
    });
  }

  api.delete('/subscriptions/:id', {
    schema: {
      tags: ['subscriptions'], summary: 'Delete a subscription; its unfinished deliveries are cancelled',
      params: IdParams, response: { 204: Type.Null(), ...errorResponses },
    },
  }, async (request, reply) => {
    const id = request.params.id;
    if (!isUuid(id) || !(await store.deleteSubscription(id.toLowerCase(), clock()))) throw notFound('subscription', id);
    subscriptions.changed(id.toLowerCase());
    request.log.info({ subscriptionId: id }, 'subscription deleted');
    reply.status(204);
  });
};
