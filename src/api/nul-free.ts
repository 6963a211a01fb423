// No string a request body sets may hold a NUL character (\u0000): PostgreSQL text and jsonb
// cannot store one (it answered 500), and SQLite would keep what PostgreSQL refuses. Rather
// than a check per field, every string of every route's body schema is given the constraint
// here, once, so the validator refuses it (422 naming the field) and the OpenAPI document says
// so. Event bodies are stored as bytes and may hold anything beyond their declared fields.
import type { FastifyInstance } from 'fastify';
import { FORMAT_MESSAGE } from './schemas.ts';

const NUL_FREE = { pattern: '^[^\\u0000]*$', [FORMAT_MESSAGE]: 'must not contain NUL characters (\\u0000)' };

function takesStrings(type: unknown): boolean {
  return type === 'string' || (Array.isArray(type) && type.includes('string'));
}

/** `schema` with NUL_FREE added to every schema in it that may be a string. */
export function nulFree<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(nulFree) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, nulFree(value)])) as Record<string, unknown>;
  if (takesStrings(copy.type)) copy.allOf = [...((copy.allOf as unknown[] | undefined) ?? []), NUL_FREE];
  return copy as T;
}

/** Before the OpenAPI document reads the routes: every body schema refuses NUL in its strings. */
export function registerNulFreeBodies(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.schema?.body) route.schema = { ...route.schema, body: nulFree(route.schema.body) };
  });
}
