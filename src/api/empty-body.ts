// A request body that is only a set of optional settings may be left out: an empty body,
// with or without a JSON content type, is taken as {} (e.g. POST .../secret/rotate with
// nothing to say). Routes that need some field still answer 422 naming it, and an event
// (an open object, stored and delivered byte for byte) is never empty.
import type { FastifyInstance, FastifyRequest } from 'fastify';

interface BodySchema {
  type?: unknown;
  required?: unknown[];
  additionalProperties?: unknown;
  minProperties?: number;
}

/** A closed object (only the properties it names) that requires none of them, nor any at all (PATCH needs one). */
function onlyOptionalSettings(schema: BodySchema | undefined): boolean {
  return schema?.type === 'object' && schema.additionalProperties === false && !(schema.required?.length) && !(schema.minProperties && schema.minProperties > 0);
}

/** Whether the route's body is only a set of optional settings. */
export function takesEmptyBody(request: FastifyRequest): boolean {
  return onlyOptionalSettings(request.routeOptions.schema?.body as BodySchema | undefined);
}

/** Before validation, a body that was not sent becomes {} where the route takes an empty body. */
export function registerEmptyBody(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && takesEmptyBody(request)) request.body = {};
  });
}

interface OperationLike {
  requestBody?: { required?: boolean; content?: Record<string, { schema?: BodySchema }> };
}

/** The OpenAPI document says the same: such a request body is optional. */
export function markOptionalBodies<T extends { paths?: object }>(document: T): T {
  for (const operations of Object.values(document.paths ?? {}) as Record<string, OperationLike>[]) {
    for (const operation of Object.values(operations)) {
      const body = operation?.requestBody;
      if (body && onlyOptionalSettings(body.content?.['application/json']?.schema)) body.required = false;
    }
  }
  return document;
}
