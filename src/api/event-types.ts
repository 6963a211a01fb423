// The event-type catalog at /api/v1/event-types[/{name}]: what kinds of event this hookd
// sends, described, each optionally with a JSON Schema for its events' `data` and an example;
// with `validate` on, ingest refuses events of the type whose data does not match (the check
// itself is in api/ingest.ts, through ingest/event-schemas.ts). Listed per application at
// /api/v1/applications/{app}/event-types: the same catalog, each entry with how many of that
// application's subscriptions receive it (what a customer's portal shows).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { EVENT_TYPE_NAME, MAX_EVENT_SCHEMA_BYTES, type EventType } from '../domain/index.ts';
import { EventSchemaError, compileEventSchema, schemaIssue } from '../ingest/event-schemas.ts';
import { eventTypeMatches } from '../routing/event-types.ts';
import type { EventTypes, Subscriptions } from '../store/contracts.ts';
import { ApiError, invalidField } from './errors.ts';
import { ApplicationParams, CHECKED_BY_HANDLER, FORMAT_MESSAGE, Timestamp, errorResponses, iso } from './schemas.ts';

const NAME_MESSAGE = 'must be 1 to 100 letters, digits, "_", "." or "-"';
const Name = Type.String({
  minLength: 1, maxLength: 100, pattern: EVENT_TYPE_NAME, [FORMAT_MESSAGE]: NAME_MESSAGE,
  description: 'The event type, as events carry it (`event_type`); no `*`: patterns belong to subscriptions.', examples: ['order.created'],
});
const NameParams = Type.Object({
  name: Type.String({ pattern: EVENT_TYPE_NAME, description: 'An event type name; any other name is not found (404).', [CHECKED_BY_HANDLER]: true }),
});
const Description = Type.Union([Type.String({ maxLength: 1024 }), Type.Null()], { description: 'What the event means and when it is sent.' });
const SchemaField = Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
  description: `A JSON Schema (draft 2020-12, or draft-07 when \`$schema\` names it) for the events' \`data\`, at most ${MAX_EVENT_SCHEMA_BYTES / 1024} KiB as JSON. One that cannot be compiled gets 422 invalid_event_schema. References outside the schema are not fetched. Null: none.`,
});
const Example = Type.Unknown({
  description: `An example of the events' \`data\`, at most ${MAX_EVENT_SCHEMA_BYTES / 1024} KiB as JSON; it must match \`schema\` when both are given (else 422 validation_failed naming the path). Null: none.`,
});
const Deprecated = Type.Boolean({ description: 'Still accepted and delivered; subscribers are told to move away from it.' });
const Validate = Type.Boolean({
  description: 'Ingest refuses (422 event_data_invalid, naming the failing path) events of this type whose `data` does not match `schema`, which must then be set.',
});

const fields = {
  description: Type.Optional(Description),
  schema: Type.Optional(SchemaField),
  example: Type.Optional(Example),
  deprecated: Type.Optional(Deprecated),
  validate: Type.Optional(Validate),
};
const CreateBody = Type.Object({ name: Name, ...fields }, { additionalProperties: false });
const PatchBody = Type.Object(fields, { additionalProperties: false, minProperties: 1 });
type PatchBody = Static<typeof PatchBody>;

const eventTypeExample = {
  name: 'order.created',
  description: 'A customer placed an order.',
  schema: { type: 'object', required: ['order_id', 'total'], properties: { order_id: { type: 'string' }, total: { type: 'number', minimum: 0 } } },
  example: { order_id: 'ORD-12345', total: 99.5 },
  deprecated: false,
  validate: true,
  created_at: '2025-06-01T12:00:00.000Z',
  updated_at: '2025-06-01T12:00:00.000Z',
};

const EventTypeView = Type.Object({
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  schema: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  example: Type.Unknown({ description: 'The example data; null when none.' }),
  deprecated: Type.Boolean(),
  validate: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { examples: [eventTypeExample] });
const EventTypeList = Type.Object({
  items: Type.Array(EventTypeView),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
}, { examples: [{ items: [eventTypeExample], next_cursor: null }] });
const ApplicationEventTypeView = Type.Object({
  ...EventTypeView.properties,
  subscriptions: Type.Integer({
    minimum: 0,
    description: "How many of the application's subscriptions receive events of this type: their event-type filter names it, matches it by pattern, or is empty (paused ones included).",
  }),
}, { examples: [{ ...eventTypeExample, subscriptions: 2 }] });
const ApplicationEventTypeList = Type.Object({
  items: Type.Array(ApplicationEventTypeView),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
}, { examples: [{ items: [{ ...eventTypeExample, subscriptions: 2 }], next_cursor: null }] });
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ pattern: EVENT_TYPE_NAME, description: 'next_cursor of the previous page; anything else gets 422 invalid_cursor.' })),
}, { additionalProperties: false });

export function eventTypeView(t: EventType) {
  return {
    name: t.name,
    description: t.description,
    schema: t.schema,
    example: t.example,
    deprecated: t.deprecated,
    validate: t.validate,
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
  };
}

const nameOk = new RegExp(EVENT_TYPE_NAME);

function notFound(name: string): ApiError {
  return new ApiError(404, 'event_type_not_found', `No event type named ${name}.`);
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** The entry's rules: a schema that compiles and is not too big, an example that matches it, validation only with a schema. */
function checked(entry: EventType): EventType {
  let validate: ReturnType<typeof compileEventSchema> | null = null;
  if (entry.schema !== null) {
    if (jsonBytes(entry.schema) > MAX_EVENT_SCHEMA_BYTES) {
      const message = `is larger than ${MAX_EVENT_SCHEMA_BYTES} bytes as JSON`;
      throw new ApiError(422, 'invalid_event_schema', `schema: ${message}`, [{ field: 'schema', message }]);
    }
    try {
      validate = compileEventSchema(entry.schema);
    } catch (error) {
      if (!(error instanceof EventSchemaError)) throw error;
      const message = `cannot be compiled: ${error.message}`;
      throw new ApiError(422, 'invalid_event_schema', `schema: ${message}`, [{ field: 'schema', message }]);
    }
  }
  if (entry.example !== null && jsonBytes(entry.example) > MAX_EVENT_SCHEMA_BYTES) {
    throw invalidField('example', `is larger than ${MAX_EVENT_SCHEMA_BYTES} bytes as JSON`);
  }
  if (validate && entry.example !== null) {
    const issue = schemaIssue(validate, entry.example, 'example');
    if (issue) throw invalidField(issue.path, `${issue.message} (the example must match the schema)`);
  }
  if (entry.validate && entry.schema === null) throw invalidField('validate', 'needs a schema to validate events against');
  return entry;
}

function applied(base: EventType, body: PatchBody, now: number): EventType {
  return checked({
    ...base,
    ...(body.description !== undefined && { description: body.description }),
    ...(body.schema !== undefined && { schema: body.schema as Record<string, unknown> | null }),
    ...(body.example !== undefined && { example: body.example }),
    ...(body.deprecated !== undefined && { deprecated: body.deprecated }),
    ...(body.validate !== undefined && { validate: body.validate }),
    updatedAt: now,
  });
}

export interface EventTypeRoutesDeps {
  eventTypes: EventTypes;
  clock: () => number;
}

/** Subscriptions read per page while counting an application's receivers. */
const SUBSCRIPTION_PAGE = 500;

/** Every event-type filter of an application's subscriptions (null: the subscription takes every type). */
async function eventTypeFiltersOf(subscriptions: Pick<Subscriptions, 'list'>, applicationId: string): Promise<(readonly string[] | null)[]> {
  const filters: (readonly string[] | null)[] = [];
  let after: string | undefined;
  do {
    const page = await subscriptions.list({ limit: SUBSCRIPTION_PAGE, applicationId, ...(after !== undefined && { after }) });
    for (const subscription of page.items) filters.push(subscription.eventTypes);
    after = page.nextAfter ?? undefined;
  } while (after !== undefined);
  return filters;
}

export interface ApplicationEventTypeRoutesDeps {
  eventTypes: Pick<EventTypes, 'list'>;
  subscriptions: Pick<Subscriptions, 'list'>;
}

/** GET /applications/{app}/event-types: the catalog as one application sees it (registered under the /applications/:app prefix). */
export const applicationEventTypeRoutes = ({ eventTypes, subscriptions }: ApplicationEventTypeRoutesDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get('/event-types', {
    schema: {
      tags: ['event types'], summary: "List the event-type catalog for an application, by name, with how many of its subscriptions receive each type",
      params: ApplicationParams, querystring: ListQuery,
      response: { 200: ApplicationEventTypeList, ...errorResponses },
    },
  }, async (request) => {
    const applicationId = request.scope.home;
    const [page, filters] = await Promise.all([
      eventTypes.list({ limit: request.query.limit ?? 50, ...(request.query.cursor !== undefined && { after: request.query.cursor }) }),
      eventTypeFiltersOf(subscriptions, applicationId),
    ]);
    return {
      items: page.items.map((t) => ({ ...eventTypeView(t), subscriptions: filters.filter((filter) => eventTypeMatches(filter, t.name)).length })),
      next_cursor: page.nextAfter,
    };
  });
};

export const eventTypeRoutes = ({ eventTypes, clock }: EventTypeRoutesDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  async function load(name: string): Promise<EventType> {
    const entry = nameOk.test(name) ? await eventTypes.get(name) : undefined;
    if (!entry) throw notFound(name);
    return entry;
  }

  // The catalog is one vocabulary shared by every application: any key may read it, only an
  // admin may change it (an application key or a portal session gets 403).
  const CATALOG_WRITE = { adminOnly: true };

  api.post('/event-types', {
    schema: {
      tags: ['event types'], summary: 'Add an event type to the catalog',
      body: CreateBody,
      response: { 201: EventTypeView, ...errorResponses },
    },
    config: CATALOG_WRITE,
  }, async (request, reply) => {
    const now = clock();
    const { name, ...body } = request.body;
    const blank: EventType = { name, description: null, schema: null, example: null, deprecated: false, validate: false, createdAt: now, updatedAt: now };
    const entry = applied(blank, body, now);
    if (!(await eventTypes.create(entry))) {
      throw new ApiError(409, 'event_type_exists', `The catalog has an event type named ${name} already; change it with PATCH.`);
    }
    request.log.info({ eventType: name }, 'event type created');
    reply.status(201);
    return eventTypeView(entry);
  });

  api.get('/event-types', {
    schema: {
      tags: ['event types'], summary: 'List the event-type catalog, by name',
      querystring: ListQuery,
      response: { 200: EventTypeList, ...errorResponses },
    },
  }, async (request) => {
    const page = await eventTypes.list({ limit: request.query.limit ?? 50, ...(request.query.cursor !== undefined && { after: request.query.cursor }) });
    return { items: page.items.map(eventTypeView), next_cursor: page.nextAfter };
  });

  api.get('/event-types/:name', {
    schema: { tags: ['event types'], summary: 'Get an event type', params: NameParams, response: { 200: EventTypeView, ...errorResponses } },
  }, async (request) => eventTypeView(await load(request.params.name)));

  api.patch('/event-types/:name', {
    schema: {
      tags: ['event types'], summary: 'Change an event type: description, schema, example, deprecated, validate',
      params: NameParams, body: PatchBody,
      response: { 200: EventTypeView, ...errorResponses },
    },
    config: CATALOG_WRITE,
  }, async (request) => {
    const entry = applied(await load(request.params.name), request.body, clock());
    if (!(await eventTypes.update(entry))) throw notFound(request.params.name);
    return eventTypeView(entry);
  });

  api.delete('/event-types/:name', {
    schema: {
      tags: ['event types'], summary: 'Remove an event type from the catalog (subscriptions and events that name it are unaffected)',
      params: NameParams, response: { 204: Type.Null(), ...errorResponses },
    },
    config: CATALOG_WRITE,
  }, async (request, reply) => {
    const name = request.params.name;
    if (!nameOk.test(name) || !(await eventTypes.delete(name))) throw notFound(name);
    request.log.info({ eventType: name }, 'event type deleted');
    reply.status(204);
  });
};
