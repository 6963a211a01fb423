// The OpenAPI 3.1 document, generated from the route schemas, at /api/v1/openapi.json, and
// the interactive reference at /docs (Swagger UI, its assets served from the package: no
// CDN, so it works offline and behind strict firewalls).
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { DOCS_BRAND } from './docs-brand.ts';
import { markOptionalBodies } from './empty-body.ts';
import { PAGE_HEADERS } from '../ui/ui-routes.ts';

export const OPENAPI_PATH = '/api/v1/openapi.json';
export const DOCS_PATH = '/docs';

const TAGS = [
  { name: 'subscriptions', description: 'Where events go: target URLs, secrets, event-type filters, retry settings.' },
  { name: 'ingest', description: 'Hand hookd an event; answered 202 once it and its deliveries are committed.' },
  { name: 'event types', description: 'The catalog of event types: descriptions, JSON Schemas and examples; optional validation of ingested data.' },
  { name: 'deliveries', description: 'Each event bound for one subscription, with every attempt made.' },
  { name: 'health', description: 'Liveness and the operator\'s summary.' },
  { name: 'operations', description: 'Prometheus metrics.' },
];

/** The document without security requirements: what a hookd without keys serves, where no route needs one. */
function withoutSecurity(document: Record<string, unknown>): Record<string, unknown> {
  const { security: _security, paths, ...rest } = structuredClone(document) as Record<string, unknown> & { paths?: Record<string, Record<string, Record<string, unknown>>> };
  for (const item of Object.values(paths ?? {})) {
    for (const operation of Object.values(item)) {
      if (Array.isArray(operation?.security) && operation.security.length > 0) delete operation.security;
    }
  }
  return { ...rest, paths };
}

/**
 * Registers the document generator on `app` itself (not in a child context), so that it sees
 * every route registered afterwards: call it before any route. The document says what this
 * hookd requires now: while no API key exists (`keyless`), no route needs one.
 */
export async function registerOpenApi(app: FastifyInstance, version: string, keyless: () => Promise<boolean>): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'hookd',
        version,
        description: 'Durable, self-hosted webhook delivery. Every 4xx and 5xx answer has the body `{ "error": { "code", "message", "details"? } }`.',
      },
      tags: TAGS,
      // Once any API key exists every route needs it, except health (see api/auth.ts).
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from `hookd keys create` or HOOKD_API_KEY: `Authorization: Bearer hk_...`.' },
        },
      },
      security: [{ apiKey: [] }],
    },
    transformObject: (document) => markOptionalBodies('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  });
  // The page and its assets (Swagger UI serves them in its own context, so the hook is added
  // around it) get the web UI's headers: a CSP that allows only this server's scripts and
  // refuses framing (frame-ancestors 'none'), nosniff, no referrer.
  await app.register(async (docs) => {
    docs.addHook('onSend', async (_request, reply) => {
      reply.headers(PAGE_HEADERS);
    });
    await docs.register(swaggerUi, { routePrefix: DOCS_PATH, uiConfig: { validatorUrl: null }, ...DOCS_BRAND });
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => {
    const document = app.swagger() as unknown as Record<string, unknown>;
    return (await keyless()) ? withoutSecurity(document) : document;
  });
}
