// Applications (tenants) at /api/v1/applications[/{app}], where {app} is the id or the uid.
// An admin creates and deletes them; an application's key sees and may change its own.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { uuidv7 } from 'uuidv7';
import {
  APPLICATION_UID_PATTERN, DEFAULT_APPLICATION_ID, MAX_METADATA_ENTRIES, MAX_METADATA_KEY_LENGTH, MAX_METADATA_VALUE_LENGTH,
  type Application, type SubscriptionDefaults,
} from '../domain/index.ts';
import type { Applications } from '../store/contracts.ts';
import { StoreConflictError } from '../store/errors.ts';
import { ApiError, notFound } from './errors.ts';
import { ApplicationParams, ErrorSchema, FORMAT_MESSAGE, PageQuery, Timestamp, decodeCursor, encodeCursor, errorResponses, iso } from './schemas.ts';
import { MaxInFlight, RateLimit, RetryPolicy, retryPolicyFrom, retryPolicyView } from './subscriptions.ts';

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

const Uid = Type.String({
  pattern: APPLICATION_UID_PATTERN, not: { pattern: UUID_PATTERN },
  [FORMAT_MESSAGE]: 'must be 1 to 100 letters, digits, "_", ".", ":" or "-", starting with a letter or digit, and not look like a UUID',
  description: "Your own stable id for the application (e.g. your customer's id); unique among live applications, accepted in paths wherever the id is.",
});
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Metadata = Type.Record(
  Type.String({ maxLength: MAX_METADATA_KEY_LENGTH }),
  Type.String({ maxLength: MAX_METADATA_VALUE_LENGTH }),
  { maxProperties: MAX_METADATA_ENTRIES, description: `Your own key-value strings: at most ${MAX_METADATA_ENTRIES}, keys up to ${MAX_METADATA_KEY_LENGTH} characters, values up to ${MAX_METADATA_VALUE_LENGTH}.` },
);
const Defaults = Type.Object({
  retry_policy: Type.Optional(RetryPolicy),
  rate_limit_per_second: Type.Optional(RateLimit),
  max_in_flight: Type.Optional(MaxInFlight),
}, { additionalProperties: false, description: "What the application's new subscriptions take when their request leaves these settings out (hookd's defaults otherwise)." });

const CreateBody = Type.Object({
  uid: Uid,
  name: Name,
  metadata: Type.Optional(Metadata),
  subscription_defaults: Type.Optional(Defaults),
}, { additionalProperties: false });
const PatchBody = Type.Object({
  uid: Type.Optional(Uid),
  name: Type.Optional(Name),
  metadata: Type.Optional(Metadata),
  subscription_defaults: Type.Optional(Defaults),
}, { additionalProperties: false, minProperties: 1 });
type PatchBody = Static<typeof PatchBody>;

const applicationExample = {
  id: '0197a3c2-1b00-7a6e-9f3d-5c2b8e4f7a10',
  uid: 'customer-4711',
  name: 'Acme Corp',
  metadata: { plan: 'enterprise' },
  subscription_defaults: { max_in_flight: 5 },
  created_at: '2025-06-01T12:00:00.000Z',
  updated_at: '2025-06-01T12:00:00.000Z',
};

const ApplicationView = Type.Object({
  id: Type.String(),
  uid: Type.String(),
  name: Type.String(),
  metadata: Type.Record(Type.String(), Type.String()),
  subscription_defaults: Type.Object({
    retry_policy: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()])),
    rate_limit_per_second: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    max_in_flight: Type.Optional(Type.Integer()),
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { examples: [applicationExample] });
const ApplicationList = Type.Object({
  items: Type.Array(ApplicationView),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
}, { examples: [{ items: [applicationExample], next_cursor: null }] });

export function applicationView(a: Application) {
  const d = a.subscriptionDefaults;
  return {
    id: a.id,
    uid: a.uid,
    name: a.name,
    metadata: a.metadata,
    subscription_defaults: {
      ...(d.retryPolicy !== undefined && { retry_policy: retryPolicyView(d.retryPolicy) }),
      ...(d.rateLimitPerSecond !== undefined && { rate_limit_per_second: d.rateLimitPerSecond }),
      ...(d.maxInFlight !== undefined && { max_in_flight: d.maxInFlight }),
    },
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt),
  };
}

function defaultsFrom(body: Static<typeof Defaults>): SubscriptionDefaults {
  const defaults: SubscriptionDefaults = {};
  if (body.retry_policy !== undefined) {
    const policy = retryPolicyFrom(body.retry_policy);
    if (policy !== null) defaults.retryPolicy = policy;
  }
  if (body.rate_limit_per_second !== undefined) defaults.rateLimitPerSecond = body.rate_limit_per_second;
  if (body.max_in_flight !== undefined) defaults.maxInFlight = body.max_in_flight;
  return defaults;
}

function uidTaken(uid: string): ApiError {
  return new ApiError(409, 'application_uid_taken', `Another application has the uid "${uid}".`);
}

/** Stores a change, answering 409 when another live application took the uid meanwhile. */
async function storing<T>(uid: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof StoreConflictError) throw uidTaken(uid);
    throw error;
  }
}

const withForbidden = { ...errorResponses, 403: ErrorSchema };

export const applicationRoutes = ({ applications, clock }: { applications: Applications; clock: () => number }): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post('/applications', {
    schema: {
      tags: ['applications'], summary: 'Create an application (an admin key only)',
      body: CreateBody, response: { 201: ApplicationView, ...withForbidden },
    },
    config: { adminOnly: true },
  }, async (request, reply) => {
    const now = clock();
    const body = request.body;
    if (await applications.find(body.uid)) throw uidTaken(body.uid);
    const application: Application = {
      id: uuidv7(), uid: body.uid, name: body.name, metadata: body.metadata ?? {},
      subscriptionDefaults: defaultsFrom(body.subscription_defaults ?? {}), createdAt: now, updatedAt: now,
    };
    await storing(body.uid, () => applications.create(application));
    request.log.info({ applicationId: application.id }, 'application created');
    reply.status(201);
    return applicationView(application);
  });

  api.get('/applications', {
    schema: {
      tags: ['applications'], summary: 'List applications, oldest first (an application key sees its own)',
      querystring: PageQuery, response: { 200: ApplicationList, ...errorResponses },
    },
  }, async (request) => {
    const after = decodeCursor(request.query.cursor);
    const own = request.tenant.applicationId;
    const page = await applications.list({ limit: request.query.limit ?? 50, ...(after !== undefined && { after }), ...(own !== null && { id: own }) });
    return { items: page.items.map(applicationView), next_cursor: encodeCursor(page.nextAfter) };
  });

  // The wall (tenancy.ts) has found the path's application, or answered 404.
  api.get('/applications/:app', {
    schema: { tags: ['applications'], summary: 'Get an application by id or uid', params: ApplicationParams, response: { 200: ApplicationView, ...errorResponses } },
  }, async (request) => applicationView(request.scope.application!));

  api.patch('/applications/:app', {
    schema: {
      tags: ['applications'], summary: 'Change an application: uid, name, metadata, subscription defaults (replaced whole when given)',
      params: ApplicationParams, body: PatchBody, response: { 200: ApplicationView, ...withForbidden },
    },
    config: { noPortal: true },
  }, async (request) => {
    const current = request.scope.application!;
    const body: PatchBody = request.body;
    if (body.uid !== undefined && body.uid !== current.uid && await applications.find(body.uid)) throw uidTaken(body.uid);
    const updated: Application = {
      ...current,
      ...(body.uid !== undefined && { uid: body.uid }),
      ...(body.name !== undefined && { name: body.name }),
      ...(body.metadata !== undefined && { metadata: body.metadata }),
      ...(body.subscription_defaults !== undefined && { subscriptionDefaults: defaultsFrom(body.subscription_defaults) }),
      updatedAt: clock(),
    };
    if (!(await storing(updated.uid, () => applications.update(updated)))) throw notFound('application', request.params.app);
    return applicationView(updated);
  });

  api.delete('/applications/:app', {
    schema: {
      tags: ['applications'],
      summary: 'Delete an application (an admin key only): its subscriptions go, their unfinished deliveries are cancelled, its keys and portal sessions revoked; its history stays readable until retention',
      params: ApplicationParams, response: { 204: Type.Null(), ...withForbidden },
    },
    config: { adminOnly: true },
  }, async (request, reply) => {
    const application = request.scope.application!;
    if (application.id === DEFAULT_APPLICATION_ID) {
      throw new ApiError(409, 'default_application', 'The default application cannot be deleted: the flat API (/api/v1/subscriptions, /events, …) works on it.');
    }
    if (!(await applications.delete(application.id, clock()))) throw notFound('application', request.params.app);
    request.log.info({ applicationId: application.id }, 'application deleted');
    reply.status(204);
  });
};
