// Subscription CRUD at /api/v1/subscriptions[/{id}] (on the default application, or the
// key's own) and, the same routes, at /api/v1/applications/{app}/subscriptions[/{id}].
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { uuidv7 } from 'uuidv7';
import {
  FIELD_VALUE, MAX_CUSTOM_HEADERS, MAX_HEADER_NAME_LENGTH, MAX_HEADER_VALUE_BYTES, RESERVED_NAME_PATTERN, TOKEN, customHeadersProblem, maskHeaderValues,
} from '../delivery/custom-headers.ts';
import { ALLOW_NETWORKS_HINT, NetworkPolicy, blockedUrlReason } from '../delivery/ssrf/network-policy.ts';
import { blockedTargetReason } from '../delivery/target-reachability.ts';
import { EVENT_TYPE_PATTERN, VALID_PATTERN, isValidPattern } from '../routing/event-types.ts';
import { secretKey } from '../signing/standard-webhooks.ts';
import { SEALED_PREFIX } from '../store/secret-box.ts';
import { filterProblem } from '../routing/content-filter.ts';
import {
  CLOSED_CIRCUIT, MIN_RATE_LIMIT_PER_SECOND, MIN_SECRET_KEY_BYTES, MIN_RAW_SECRET_LENGTH, RETRY_BOUNDS, SUBSCRIPTION_DEFAULTS, WHSEC_PREFIX,
  generateSecret, newSubscription, type Application, type Bounds, type ContentFilter, type Subscription, type SubscriptionSettings,
} from '../domain/index.ts';
import { CONTENT_FILTER_SCHEMA } from '../routing/content-filter-schema.ts';
import { Destination, DestinationView, checkDestination, destinationView } from './destinations.ts';
import { ApiError, invalidField, notFound } from './errors.ts';
import { rotatedSecretExample, secretExample, subscriptionExample, subscriptionListExample, subscriptionWithSecretExample } from './examples.ts';
import {
  ApplicationFilter, ApplicationParams, IdParams, NullableTimestamp, PageQuery, Timestamp, decodeCursor, encodeCursor, errorResponses, iso, isUuid,
  CHECKED_BY_HANDLER, FORMAT_MESSAGE, TARGET_URL_PATTERN,
} from './schemas.ts';
import type { Applications, Subscriptions } from '../store/contracts.ts';

const TargetUrl = Type.String({
  minLength: 1, maxLength: 2048, format: 'uri', pattern: TARGET_URL_PATTERN,
  [FORMAT_MESSAGE]: 'must be an absolute http:// or https:// URL, without credentials (user:pass@)',
  // Port 0 cannot be connected to: refused by the handler, which says so.
  allOf: [{ pattern: '^[^:]*://(?![^@/?#]*:0+([/?#]|$))', [CHECKED_BY_HANDLER]: true }],
  description: 'Absolute http:// or https:// URL that receives the webhooks, without credentials. A host that is an IP address in a blocked range gets 422 target_url_blocked.',
});
const EventTypes = Type.Union([
  Type.Array(Type.String({
    minLength: 1, maxLength: 100, pattern: VALID_PATTERN,
    [FORMAT_MESSAGE]: 'must be an event type name, "*", or "prefix.*" (letters, digits, "_", "-", dot-separated)',
  }), { minItems: 1, maxItems: 100, uniqueItems: true }),
  Type.Null(),
], { description: 'Event types to deliver: exact names, `*`, or `prefix.*`. Null or absent: every event type.' });
/** A whsec_ secret of at least MIN_SECRET_KEY_BYTES bytes in base64, or any other string of at least MIN_RAW_SECRET_LENGTH characters. */
const SECRET_STRENGTH_PATTERN = `^${WHSEC_PREFIX}[A-Za-z0-9+/_-]{${Math.ceil(MIN_SECRET_KEY_BYTES * 4 / 3)},}={0,2}$|^(?!${WHSEC_PREFIX})[\\s\\S]{${MIN_RAW_SECRET_LENGTH},}$`;
const Secret = Type.String({
  maxLength: 256,
  // Checked by the handler, whose 422 weak_secret says what a secret needs.
  allOf: [{ pattern: SECRET_STRENGTH_PATTERN, [CHECKED_BY_HANDLER]: true }],
  description: `HMAC signing secret: \`whsec_\` + base64 of at least ${MIN_SECRET_KEY_BYTES} bytes, or any other string of at least ${MIN_RAW_SECRET_LENGTH} characters (weaker ones get 422 weak_secret). A secret not in the \`whsec_\` form must be loaded as raw bytes by the Standard Webhooks libraries; the answer then carries a warning. Generated when absent.`,
});
const Warnings = Type.Array(Type.Object({
  code: Type.Union([Type.Literal('raw_secret'), Type.Literal('target_host_blocked')], {
    description: 'raw_secret: receivers using the Standard Webhooks libraries must load the secret with { format: "raw" }. target_host_blocked: target_url\'s host resolves to addresses deliveries may not reach.',
  }),
  message: Type.String(),
}), { description: 'Things that work, but not as one may expect; empty when none.' });
const Description = Type.Union([Type.String({ maxLength: 1024 }), Type.Null()]);
export const bounded = ({ min, max, integer }: Bounds) => (integer ? Type.Integer : Type.Number)({ minimum: min, maximum: max });
export const RetryPolicy = Type.Union([Type.Object({
  max_attempts: Type.Optional(bounded(RETRY_BOUNDS.maxAttempts)),
  initial_delay_ms: Type.Optional(bounded(RETRY_BOUNDS.initialDelayMs)),
  backoff_factor: Type.Optional(bounded(RETRY_BOUNDS.backoffFactor)),
  max_delay_ms: Type.Optional(bounded(RETRY_BOUNDS.maxDelayMs)),
  jitter: Type.Optional(bounded(RETRY_BOUNDS.jitter)),
}, { additionalProperties: false }), Type.Null()], { description: 'Overrides of the global retry settings; absent fields use them.' });
const Headers = Type.Union([
  Type.Unsafe<Record<string, string>>({
    type: 'object',
    maxProperties: MAX_CUSTOM_HEADERS,
    // Names are checked by the handler, whose messages say which name is wrong and why.
    propertyNames: { maxLength: MAX_HEADER_NAME_LENGTH, pattern: TOKEN.source, not: { pattern: RESERVED_NAME_PATTERN }, [CHECKED_BY_HANDLER]: true },
    additionalProperties: Type.String({ maxLength: MAX_HEADER_VALUE_BYTES, pattern: FIELD_VALUE.source, [FORMAT_MESSAGE]: 'must be printable ASCII without line breaks' }),
  }),
  Type.Null(),
], {
  description: 'Extra headers sent with every attempt (e.g. an Authorization header the receiver expects). Values are write-only: responses show them masked. Kept when absent, even on PUT; null or {} removes them all.',
});
export const MaxInFlight = Type.Integer({ minimum: 1, maximum: 1000, description: `Most deliveries in flight at once, across all hookd processes (default ${SUBSCRIPTION_DEFAULTS.maxInFlight}).` });
export const RateLimit = Type.Union([Type.Number({ minimum: MIN_RATE_LIMIT_PER_SECOND, maximum: 100_000 }), Type.Null()], {
  description: `Most attempts started per second, across all hookd processes, at least ${MIN_RATE_LIMIT_PER_SECOND} (one every ${1 / MIN_RATE_LIMIT_PER_SECOND} s); excess deliveries wait without spending attempts. Null: unlimited.`,
});
const Ordering = Type.Union([Type.Literal('parallel'), Type.Literal('fifo')], {
  description: 'fifo: one delivery at a time in ingestion order; a failing head holds the rest until it succeeds or runs out of attempts.',
});
const Filter = Type.Union([Type.Unsafe<ContentFilter>(CONTENT_FILTER_SCHEMA), Type.Null()], {
  description: 'Content filter over the JSON body, e.g. {"data.total": {"$gte": 100}}; events it rejects are recorded as filtered. See README "Content filters". A filter that does not follow the grammar gets 422 invalid_filter.',
  [CHECKED_BY_HANDLER]: true,
});
const CircuitView = Type.Object({
  state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')]),
  consecutive_failures: Type.Integer(),
  retry_at: NullableTimestamp,
  failing_since: NullableTimestamp,
}, { description: 'Circuit breaker: open after too many consecutive failures; deliveries then wait until retry_at, when one probe goes out.' });
const GRACE_SECONDS_DEFAULT = 86_400;
const RotateBody = Type.Object({
  secret: Type.Optional(Secret),
  grace_seconds: Type.Optional(Type.Integer({
    minimum: 0, maximum: 30 * 86_400, default: GRACE_SECONDS_DEFAULT,
    description: 'How long the replaced secret keeps signing deliveries (beside the new one) and verifying signed ingest.',
  })),
}, { additionalProperties: false });

const settings = {
  target_url: Type.Optional(TargetUrl),
  destination: Type.Optional(Destination),
  secret: Type.Optional(Secret),
  event_types: Type.Optional(EventTypes),
  description: Type.Optional(Description),
  active: Type.Optional(Type.Boolean({ description: 'Inactive subscriptions get no new deliveries.' })),
  require_signed_ingest: Type.Optional(Type.Boolean({ description: 'Reject ingest requests not signed with the secret (Standard Webhooks headers or X-Hub-Signature-256); a signed request then needs no API key.' })),
  retry_policy: Type.Optional(RetryPolicy),
  headers: Type.Optional(Headers),
  max_in_flight: Type.Optional(MaxInFlight),
  rate_limit_per_second: Type.Optional(RateLimit),
  ordering: Type.Optional(Ordering),
  filter: Type.Optional(Filter),
};
// Deliveries go to target_url (HTTP) or to destination (a broker): one of them, never both.
// Setting one on a subscription that has the other switches it over.
const ONE_DESTINATION = {
  not: { required: ['target_url', 'destination'] },
  [FORMAT_MESSAGE]: 'give target_url (an HTTP receiver) or destination (a broker), not both',
};
const CreateBody = Type.Object(settings, { additionalProperties: false, anyOf: [{ required: ['target_url'] }, { required: ['destination'] }], ...ONE_DESTINATION });
const ReplaceBody = CreateBody;
const PatchBody = Type.Object(settings, { additionalProperties: false, minProperties: 1, ...ONE_DESTINATION });
type PatchBody = Static<typeof PatchBody>;

const SubscriptionView = Type.Object({
  id: Type.String(),
  application_id: Type.String({ description: 'The application the subscription belongs to.' }),
  target_url: Type.Union([Type.String(), Type.Null()], { description: 'Where deliveries are POSTed; null when they go to a broker (destination).' }),
  destination: DestinationView,
  event_types: Type.Union([Type.Array(Type.String()), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
  require_signed_ingest: Type.Boolean(),
  retry_policy: Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()]),
  headers: Type.Record(Type.String(), Type.String(), { description: 'Custom header names, each value shown as "[redacted]".' }),
  max_in_flight: Type.Integer(),
  rate_limit_per_second: Type.Union([Type.Number(), Type.Null()]),
  ordering: Ordering,
  filter: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'The content filter, as set.' }),
  circuit: CircuitView,
  disabled_reason: Type.Union([Type.String(), Type.Null()], { description: 'Why hookd disabled the subscription (410 Gone, or failing for too long).' }),
  system: Type.Boolean({ description: "True for hookd's own operations subscription (HOOKD_OPERATIONS_URL)." }),
  previous_secret_expires_at: Type.Union([Timestamp, Type.Null()], {
    description: 'Until when the secret replaced by the last rotation still signs deliveries beside the current one (past: no longer); null when no rotation left one.',
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { examples: [subscriptionExample] });
const CreatedSubscription = Type.Object({ ...SubscriptionView.properties, secret: Type.String(), warnings: Warnings }, { examples: [subscriptionWithSecretExample] });
const SubscriptionList = Type.Object({
  items: Type.Array(SubscriptionView),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
}, { examples: [subscriptionListExample] });
const NestedListQuery = Type.Object({
  ...PageQuery.properties,
  event_type: Type.Optional(Type.String({ pattern: EVENT_TYPE_PATTERN, description: 'Only subscriptions that would receive this event type.' })),
}, { additionalProperties: false });
const ListQuery = Type.Object({ ...NestedListQuery.properties, application: Type.Optional(ApplicationFilter) }, { additionalProperties: false });
type ListQuery = Static<typeof ListQuery>;

export function retryPolicyView(policy: NonNullable<Subscription['retryPolicy']>) {
  return {
    ...(policy.maxAttempts !== undefined && { max_attempts: policy.maxAttempts }),
    ...(policy.initialDelayMs !== undefined && { initial_delay_ms: policy.initialDelayMs }),
    ...(policy.backoffFactor !== undefined && { backoff_factor: policy.backoffFactor }),
    ...(policy.maxDelayMs !== undefined && { max_delay_ms: policy.maxDelayMs }),
    ...(policy.jitter !== undefined && { jitter: policy.jitter }),
  };
}

export function subscriptionView(s: Subscription) {
  return {
    id: s.id,
    application_id: s.applicationId,
    target_url: s.targetUrl,
    destination: destinationView(s.destination),
    event_types: s.eventTypes,
    description: s.description,
    active: s.active,
    require_signed_ingest: s.requireSignedIngest,
    retry_policy: s.retryPolicy && retryPolicyView(s.retryPolicy),
    headers: maskHeaderValues(s.headers),
    max_in_flight: s.maxInFlight,
    rate_limit_per_second: s.rateLimitPerSecond,
    ordering: s.ordering,
    filter: s.filter,
    circuit: {
      state: s.circuit.state,
      consecutive_failures: s.circuit.consecutiveFailures,
      retry_at: iso(s.circuit.retryAt),
      failing_since: iso(s.circuit.failingSince),
    },
    disabled_reason: s.disabledReason,
    system: s.system,
    previous_secret_expires_at: s.previousSecret === null ? null : iso(s.previousSecretExpiresAt),
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
  };
}

function checkTargetUrl(raw: string, policy: NetworkPolicy): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidField('target_url', 'must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidField('target_url', 'must use http:// or https://');
  if (url.port === '0') throw invalidField('target_url', 'port 0 cannot receive connections: give the receiver\'s port, or none for the default');
  if (url.username || url.password) {
    throw invalidField('target_url', 'must not contain credentials; put them in the receiver or use the signing secret');
  }
  // Host names are checked when connecting (what they resolve to may change); literals can be refused now.
  const blocked = blockedUrlReason(raw, policy);
  if (blocked !== null) {
    const message = `deliveries may not go there: ${blocked} ${ALLOW_NETWORKS_HINT}`;
    throw new ApiError(422, 'target_url_blocked', `target_url: ${message}`, [{ field: 'target_url', message }]);
  }
  return raw;
}

/**
 * Without HOOKD_ENCRYPTION_KEY values are stored as given, so one that begins like an encrypted
 * value (secret-box.ts) could not be told from one: it is refused rather than stored ambiguously.
 */
function refuseSealedLooking(field: string, value: string, encrypting: boolean): void {
  if (encrypting || !value.startsWith(SEALED_PREFIX)) return;
  const message = `must not begin with "${SEALED_PREFIX}", which marks an encrypted value, while HOOKD_ENCRYPTION_KEY is not set`;
  throw new ApiError(422, 'value_looks_encrypted', `${field}: ${message}`, [{ field, message }]);
}

function checkHeaders(headers: Record<string, string> | null, encrypting: boolean): Record<string, string> {
  if (headers === null) return {};
  const problem = customHeadersProblem(headers);
  if (problem !== null) throw invalidField('headers', problem);
  for (const [name, value] of Object.entries(headers)) refuseSealedLooking(`headers.${name}`, value, encrypting);
  return headers;
}

function weakSecret(message: string): ApiError {
  return new ApiError(422, 'weak_secret', `secret: ${message}`, [{ field: 'secret', message }]);
}

/** A new secret (stored ones are not checked again, so older, weaker ones keep working). */
function checkSecret(secret: string, encrypting: boolean): string {
  refuseSealedLooking('secret', secret, encrypting);
  let key: Buffer;
  try {
    key = secretKey(secret);
  } catch {
    throw invalidField('secret', 'a whsec_ secret must be followed by valid base64');
  }
  if (secret.startsWith(WHSEC_PREFIX) && key.length < MIN_SECRET_KEY_BYTES) {
    throw weakSecret(`a whsec_ secret must hold at least ${MIN_SECRET_KEY_BYTES} bytes (${Math.ceil(MIN_SECRET_KEY_BYTES * 4 / 3)} base64 characters after whsec_); this one holds ${key.length}`);
  }
  // Characters as JSON Schema counts them (code points), as the document states the minimum.
  if (!secret.startsWith(WHSEC_PREFIX) && [...secret].length < MIN_RAW_SECRET_LENGTH) {
    throw weakSecret(`must be at least ${MIN_RAW_SECRET_LENGTH} characters long (or whsec_ + base64 of at least ${MIN_SECRET_KEY_BYTES} random bytes)`);
  }
  return secret;
}

type Warning = Static<typeof Warnings>[number];

/** How receivers must load a secret that is not in the whsec_ form. */
function secretWarnings(secret: string): Warning[] {
  if (secret.startsWith(WHSEC_PREFIX)) return [];
  return [{
    code: 'raw_secret',
    message: 'secret is not in the whsec_ form, so it is used as its UTF-8 bytes: receivers using the Standard Webhooks libraries must load it as raw bytes, new Webhook(secret, { format: "raw" }) in standardwebhooks and svix (hookd/verify and hookd listen take it as it is).',
  }];
}

/** Broker destinations are checked when connecting (their hosts pass the same policy). */
async function targetWarnings(url: string | null, policy: NetworkPolicy): Promise<Warning[]> {
  if (url === null) return [];
  const blocked = await blockedTargetReason(url, policy);
  if (blocked === null) return [];
  return [{ code: 'target_host_blocked', message: `target_url: deliveries will be blocked while ${blocked} ${ALLOW_NETWORKS_HINT}` }];
}

function checkFilter(filter: ContentFilter | null): ContentFilter | null {
  if (filter === null) return null;
  const problem = filterProblem(filter);
  if (problem !== null) throw new ApiError(422, 'invalid_filter', `filter: ${problem}`, [{ field: 'filter', message: problem }]);
  return filter;
}

function checkEventTypes(types: string[] | null | undefined): string[] | null {
  if (!types) return null;
  const bad = types.find((t) => !isValidPattern(t));
  if (bad !== undefined) throw invalidField('event_types', `"${bad}" is not a valid pattern: use a name, "*", or "prefix.*"`);
  return types;
}

export function retryPolicyFrom(body: PatchBody['retry_policy']): Subscription['retryPolicy'] {
  if (!body) return null;
  const policy: NonNullable<Subscription['retryPolicy']> = {};
  if (body.max_attempts !== undefined) policy.maxAttempts = body.max_attempts;
  if (body.initial_delay_ms !== undefined) policy.initialDelayMs = body.initial_delay_ms;
  if (body.backoff_factor !== undefined) policy.backoffFactor = body.backoff_factor;
  if (body.max_delay_ms !== undefined) policy.maxDelayMs = body.max_delay_ms;
  if (body.jitter !== undefined) policy.jitter = body.jitter;
  return Object.keys(policy).length > 0 ? policy : null;
}

/** The settings a subscription of `application` takes when its request leaves them out: hookd's, then the application's. */
export function defaultsOf(application: Application | undefined): SubscriptionSettings {
  const own = application?.subscriptionDefaults ?? {};
  return {
    ...SUBSCRIPTION_DEFAULTS,
    ...(own.retryPolicy !== undefined && { retryPolicy: own.retryPolicy }),
    ...(own.rateLimitPerSecond !== undefined && { rateLimitPerSecond: own.rateLimitPerSecond }),
    ...(own.maxInFlight !== undefined && { maxInFlight: own.maxInFlight }),
  };
}

/** Applies body fields over a base; with `replace`, absent optional fields fall back to `defaults`. */
function applySettings(base: Subscription, body: PatchBody, replace: boolean, now: number, policy: NetworkPolicy, defaults: SubscriptionSettings, encrypting: boolean): Subscription {
  const pick = <K extends keyof PatchBody, V>(key: K, current: V, fallback: V, convert: (v: NonNullable<PatchBody[K]> | null) => V): V => {
    if (body[key] !== undefined) return convert(body[key] as NonNullable<PatchBody[K]> | null);
    return replace ? fallback : current;
  };
  const target = body.target_url !== undefined
    ? { targetUrl: checkTargetUrl(body.target_url, policy), destination: null }
    : body.destination !== undefined
      ? { targetUrl: null, destination: checkDestination(body.destination, base.destination, policy) }
      : { targetUrl: base.targetUrl, destination: base.destination };
  return {
    ...base,
    ...target,
    // A secret changes only when one is given explicitly, even on PUT, and then at once:
    // a rotation's grace period ends with it (use .../secret/rotate for a gradual change).
    secret: body.secret !== undefined ? checkSecret(body.secret, encrypting) : base.secret,
    ...(body.secret !== undefined && { previousSecret: null, previousSecretExpiresAt: null }),
    // Write-only like the secret: clients cannot read the values back to resend them.
    headers: body.headers !== undefined ? checkHeaders(body.headers, encrypting) : base.headers,
    eventTypes: pick('event_types', base.eventTypes, defaults.eventTypes, (v) => checkEventTypes(v as string[] | null)),
    description: pick('description', base.description, defaults.description, (v) => (v as string | null) ?? null),
    active: pick('active', base.active, defaults.active, (v) => v as boolean),
    requireSignedIngest: pick('require_signed_ingest', base.requireSignedIngest, defaults.requireSignedIngest, (v) => v as boolean),
    retryPolicy: pick('retry_policy', base.retryPolicy, defaults.retryPolicy, (v) => retryPolicyFrom(v as PatchBody['retry_policy'])),
    maxInFlight: pick('max_in_flight', base.maxInFlight, defaults.maxInFlight, (v) => v as number),
    rateLimitPerSecond: pick('rate_limit_per_second', base.rateLimitPerSecond, defaults.rateLimitPerSecond, (v) => v as number | null),
    ordering: pick('ordering', base.ordering, defaults.ordering, (v) => v as Subscription['ordering']),
    filter: pick('filter', base.filter, defaults.filter, (v) => checkFilter(v as ContentFilter | null)),
    updatedAt: now,
  };
}

/** Turning a subscription back on forgets why it was off and its past failures. */
function reactivated(current: Subscription, updated: Subscription): boolean {
  return !current.active && updated.active;
}

export interface SubscriptionRoutesDeps {
  subscriptions: Subscriptions;
  applications: Pick<Applications, 'find'>;
  /** Registered under /applications/{app}: the path names the application. */
  nested?: boolean;
  /** HOOKD_ALLOW_NETWORKS: target URLs with IP literals in these ranges are accepted although private. */
  allowNetworks: readonly string[];
  /** HOOKD_ENCRYPTION_KEY is set: secrets and header values are stored encrypted. */
  encrypting: boolean;
  clock: () => number;
}

export const subscriptionRoutes = ({ subscriptions, applications, nested = false, allowNetworks, encrypting, clock }: SubscriptionRoutesDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const policy = new NetworkPolicy([...allowNetworks]);
  // The same routes on both paths; nested, the path's {app} is a parameter too, and lists take no ?application=.
  const Params = nested ? Type.Object({ ...ApplicationParams.properties, ...IdParams.properties }) : IdParams;
  const AppParams = nested ? ApplicationParams : undefined;
  const owns = { owns: { param: 'id', resource: 'subscription' as const } };

  /** The settings defaults of an application (the one in the path, already read, or another). */
  async function defaultsFor(request: FastifyRequest, applicationId: string): Promise<SubscriptionSettings> {
    const named = request.scope.application;
    return defaultsOf(named?.id === applicationId ? named : await applications.find(applicationId));
  }

  async function load(id: string): Promise<Subscription> {
    const subscription = isUuid(id) ? await subscriptions.get(id.toLowerCase()) : undefined;
    if (!subscription) throw notFound('subscription', id);
    return subscription;
  }

  api.post('/subscriptions', {
    schema: {
      tags: ['subscriptions'], summary: 'Create a subscription',
      ...(AppParams && { params: AppParams }),
      body: CreateBody,
      response: { 201: CreatedSubscription, ...errorResponses },
    },
  }, async (request, reply) => {
    const now = clock();
    const blank = newSubscription({ id: uuidv7(), applicationId: request.scope.home, targetUrl: null, secret: request.body.secret ?? generateSecret() }, now);
    const subscription = applySettings(blank, request.body, true, now, policy, await defaultsFor(request, request.scope.home), encrypting);
    const warnings = [...secretWarnings(subscription.secret), ...await targetWarnings(subscription.targetUrl, policy)];
    await subscriptions.create(subscription);
    request.log.info({ subscriptionId: subscription.id }, 'subscription created');
    reply.status(201);
    return { ...subscriptionView(subscription), secret: subscription.secret, warnings };
  });

  api.get('/subscriptions', {
    schema: {
      tags: ['subscriptions'], summary: 'List subscriptions, oldest first',
      ...(AppParams && { params: AppParams }),
      querystring: nested ? NestedListQuery : ListQuery,
      response: { 200: SubscriptionList, ...errorResponses },
    },
  }, async (request) => {
    const query = request.query as ListQuery;
    const after = decodeCursor(query.cursor);
    const visible = request.scope.visible;
    const page = await subscriptions.list({
      limit: query.limit ?? 50,
      ...(after !== undefined && { after }),
      ...(visible !== null && { applicationId: visible }),
      ...(query.event_type !== undefined && { eventType: query.event_type }),
    });
    return { items: page.items.map(subscriptionView), next_cursor: encodeCursor(page.nextAfter) };
  });

  api.get('/subscriptions/:id', {
    schema: { tags: ['subscriptions'], summary: 'Get a subscription', params: Params, response: { 200: SubscriptionView, ...errorResponses } },
    config: owns,
  }, async (request) => subscriptionView(await load(request.params.id)));

  api.get('/subscriptions/:id/secret', {
    schema: {
      tags: ['subscriptions'], summary: "Reveal a subscription's signing secret",
      params: Params, response: { 200: Type.Object({ secret: Type.String() }, { examples: [secretExample] }), ...errorResponses },
    },
    config: owns,
  }, async (request) => ({ secret: (await load(request.params.id)).secret }));

  api.post('/subscriptions/:id/secret/rotate', {
    schema: {
      tags: ['subscriptions'],
      summary: 'Replace the signing secret; the old one keeps signing beside it for grace_seconds',
      params: Params,
      body: RotateBody,
      response: {
        200: Type.Object({
          secret: Type.String(),
          previous_secret_expires_at: Type.Union([Timestamp, Type.Null()], { description: 'Until when deliveries carry the old signature too; null with grace_seconds 0.' }),
          warnings: Warnings,
        }, { examples: [rotatedSecretExample] }),
        ...errorResponses,
      },
    },
    config: owns,
  }, async (request) => {
    const current = await load(request.params.id);
    const now = clock();
    const secret = request.body.secret !== undefined ? checkSecret(request.body.secret, encrypting) : generateSecret();
    if (secret === current.secret) throw invalidField('secret', 'must differ from the current secret');
    const graceMs = (request.body.grace_seconds ?? GRACE_SECONDS_DEFAULT) * 1000;
    const rotated: Subscription = {
      ...current,
      secret,
      previousSecret: graceMs > 0 ? current.secret : null,
      previousSecretExpiresAt: graceMs > 0 ? now + graceMs : null,
      updatedAt: now,
    };
    if (!(await subscriptions.update(rotated))) throw notFound('subscription', request.params.id);
    request.log.info({ subscriptionId: rotated.id, graceSeconds: graceMs / 1000 }, 'subscription secret rotated');
    return { secret, previous_secret_expires_at: iso(rotated.previousSecretExpiresAt), warnings: secretWarnings(secret) };
  });

  for (const method of ['put', 'patch'] as const) {
    const replace = method === 'put';
    api[method]('/subscriptions/:id', {
      schema: {
        tags: ['subscriptions'],
        summary: replace ? 'Replace the settings of a subscription (an omitted secret is kept)' : 'Change some settings of a subscription',
        params: Params,
        body: replace ? ReplaceBody : PatchBody,
        response: { 200: SubscriptionView, ...errorResponses },
      },
      config: owns,
    }, async (request) => {
      const current = await load(request.params.id);
      const changed = applySettings(current, request.body as PatchBody, replace, clock(), policy,
        replace ? await defaultsFor(request, current.applicationId) : SUBSCRIPTION_DEFAULTS, encrypting);
      const resetHealth = reactivated(current, changed);
      const updated = resetHealth ? { ...changed, disabledReason: null, circuit: CLOSED_CIRCUIT } : changed;
      if (!(await subscriptions.update(updated, { resetHealth }))) throw notFound('subscription', request.params.id);
      return subscriptionView(updated);
    });
  }

  api.delete('/subscriptions/:id', {
    schema: {
      tags: ['subscriptions'], summary: 'Delete a subscription; its unfinished deliveries are cancelled',
      params: Params, response: { 204: Type.Null(), ...errorResponses },
    },
    config: owns,
  }, async (request, reply) => {
    const id = request.params.id;
    if (!isUuid(id) || !(await subscriptions.delete(id.toLowerCase(), clock()))) throw notFound('subscription', id);
    request.log.info({ subscriptionId: id }, 'subscription deleted');
    reply.status(204);
  });
};
