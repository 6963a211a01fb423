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

export const IdParams = Type.Object({
  id: Type.String({ description: 'A UUID.' }),
});
export type IdParams = Static<typeof IdParams>;

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page.' })),
}, { additionalProperties: false });

export const Timestamp = Type.String({ format: 'date-time' });
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

/** Cursors are opaque to clients: base64url of the last id seen. */
export function encodeCursor(id: string | null): string | null {
  return id === null ? null : Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined | null {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return isUuid(id) ? id.toLowerCase() : null;
}
