// Schemas shared by several resources. Route schemas validate requests (422 on mismatch),
// serialize responses, and are the source of the OpenAPI document.
import Type, { type Static } from 'typebox';
import { errorExample } from './examples.ts';

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable snake_case error code.', examples: ['validation_failed'] }),
    message: Type.String({ description: 'A sentence for humans.' }),
    details: Type.Optional(Type.Unknown()),
  }),
}, { description: 'Every 4xx and 5xx response has this body.', examples: [errorExample] });

/** Path ids: the handlers answer 404 for one that is not a UUID (path formats are not checked by the validator, see api/server.ts). */
export const IdParams = Type.Object({
  id: Type.String({ format: 'uuid', description: 'A UUID; any other id is not found (404).' }),
});
export type IdParams = Static<typeof IdParams>;

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ format: 'uuid', description: 'next_cursor of the previous page; anything else gets 422 invalid_cursor.' })),
}, { additionalProperties: false });

export const Timestamp = Type.String({ format: 'date-time' });

/**
 * Marks a schema the handler checks itself, with messages and codes of its own (a content
 * filter: 422 invalid_filter, saying where; an Idempotency-Key). The validator skips it
 * (api/server.ts); the OpenAPI document shows it whole.
 */
export const CHECKED_BY_HANDLER = 'x-checked-by-handler';

/** On a schema with a `pattern` or a `format`: what a validation message says instead of quoting them. */
export const FORMAT_MESSAGE = 'x-format-message';

/** http:// or https://, no credentials; the rest is the `uri` format's business. */
export const TARGET_URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://[^@/?#]+([/?#].*)?$';
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  413: ErrorSchema,
  415: ErrorSchema,
  422: ErrorSchema,
  503: ErrorSchema,
};

/** What any route may answer before its handler runs (api/edge-responses.ts adds these to every route). */
export const edgeErrorResponses = {
  400: ErrorSchema,
  403: ErrorSchema,
  408: ErrorSchema,
  421: ErrorSchema,
  429: ErrorSchema,
  431: ErrorSchema,
  500: ErrorSchema,
  503: ErrorSchema,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot name a row, so it is a 404 without a query. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * A page's next_cursor is the id of its last item: pages are ordered by id, so any UUID is a
 * valid place to continue from, and the OpenAPI document can say exactly what a cursor is
 * (the validator refuses anything else with 422 invalid_cursor, see api/errors.ts).
 */
export function encodeCursor(id: string | null): string | null {
  return id;
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  return cursor === undefined ? undefined : cursor.toLowerCase();
}

/** `?application=` on a flat list: only this application's records. */
export const ApplicationFilter = Type.String({
  minLength: 1, maxLength: 100,
  description: "Only this application's records: its id or uid. An application key or portal session sees its own application's records whatever this says; another application's answers 404.",
});

/** The `{app}` of the paths under /applications. */
export const ApplicationParams = Type.Object({
  app: Type.String({ minLength: 1, maxLength: 100, description: 'The application id, or its uid.' }),
});
