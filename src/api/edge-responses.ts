// The answers any route may give before its handler runs (a malformed request, a refused
// host or origin, a timeout, the rate limit, 401 where a key is needed, a fault), added to
// every documented route's responses so the OpenAPI document lists every status a route can
// answer. A route's own response schemas win.
import type { FastifyInstance } from 'fastify';
import { ErrorSchema, edgeErrorResponses } from './schemas.ts';

/** Register before any route (and before the OpenAPI generator, so it sees the result). */
export function registerEdgeResponses(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as (Record<string, unknown> & { hide?: boolean; security?: unknown[]; response?: Record<string, unknown> }) | undefined;
    if (!schema || schema.hide) return;
    // `security: []` marks a route open to everyone (health).
    const open = Array.isArray(schema.security) && schema.security.length === 0;
    route.schema = { ...schema, response: { ...edgeErrorResponses, ...(!open && { 401: ErrorSchema }), ...schema.response } } as typeof route.schema;
  });
}
