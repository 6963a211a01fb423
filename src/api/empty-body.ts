// A request body every field of which is optional may be left out: an empty body, with or
// without a JSON content type, is taken as {} (e.g. POST .../secret/rotate with nothing
// to say). Routes that need some field still answer 422 naming it.
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Whether the route's body schema is an object that requires no property. */
export function takesEmptyBody(request: FastifyRequest): boolean {
  const schema = request.routeOptions.schema?.body as { type?: unknown; required?: unknown[] } | undefined;
  return schema?.type === 'object' && !(schema.required?.length);
}

/** Before validation, a body that was not sent becomes {} where the route takes an empty body. */
export function registerEmptyBody(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && takesEmptyBody(request)) request.body = {};
  });
}

interface OperationLike {
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { type?: unknown; required?: unknown[] } }> };
}

/** The OpenAPI document says the same: such a request body is optional. */
export function markOptionalBodies<T extends { paths?: object }>(document: T): T {
  for (const operations of Object.values(document.paths ?? {}) as Record<string, OperationLike>[]) {
    for (const operation of Object.values(operations)) {
      const body = operation?.requestBody;
      const schema = body?.content?.['application/json']?.schema;
      if (body && schema?.type === 'object' && !(schema.required?.length)) body.required = false;
    }
  }
  return document;
}
