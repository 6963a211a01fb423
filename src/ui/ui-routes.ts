// Serves the web UI built into dist/ui (see README.md here): the page at each of the app's
// paths, its hashed assets under /assets/. Only these paths are taken, so every other path,
// /api/... included, still gets the API's JSON 404.
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const UI_DIR = path.resolve(import.meta.dirname, '../../dist/ui');

/** The client-side routes of the app (src/ui/client/app.tsx): each serves the same page. */
const UI_PAGES = [
  '/',
  '/subscriptions',
  '/subscriptions/new',
  '/subscriptions/:id',
  '/subscriptions/:id/edit',
  '/deliveries',
  '/deliveries/:id',
  '/event-types',
  '/event-types/new',
  '/event-types/:name/edit',
  '/live',
  '/applications',
] as const;

/** The consumer portal's routes (src/ui/client/portal.tsx), served with headers that let the configured origins frame it. */
const PORTAL_PAGES = [
  '/portal',
  '/portal/subscriptions',
  '/portal/subscriptions/new',
  '/portal/subscriptions/:id',
  '/portal/subscriptions/:id/edit',
  '/portal/deliveries',
  '/portal/deliveries/:id',
  '/portal/event-types',
] as const;

// Everything the UI loads comes from this server: no CDN, and it works offline. The API
// reference at /docs is served with the same headers (api/openapi.ts).
export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hookd: web UI not built</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem">
<h1>The web UI has not been built</h1>
<p>hookd is running and its API answers at <a href="/api/v1/health"><code>/api/v1/health</code></a>,
but the pages of the web UI are missing from <code>dist/ui</code>.</p>
<p><code>npm install</code> builds them; to build them again, run <code>npm run build:ui</code>, then reload this page.</p>
</body></html>
`;

const hide = { schema: { hide: true } };

/**
 * The portal's headers: framed only by the operator's origins (HOOKD_PORTAL_FRAME_ANCESTORS),
 * and its theme's logo may come from any https:// address.
 */
export function portalHeaders(frameAncestors: readonly string[]): Record<string, string> {
  const ancestors = frameAncestors.length > 0 ? frameAncestors.join(' ') : "'none'";
  return {
    ...PAGE_HEADERS,
    'content-security-policy': `default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; frame-ancestors ${ancestors}; base-uri 'none'; form-action 'self'`,
  };
}

export const uiRoutes = ({ portalFrameAncestors }: { portalFrameAncestors: readonly string[] }) => async (app: FastifyInstance): Promise<void> => {
  const built = existsSync(path.join(UI_DIR, 'index.html'));
  const page = (headers: Record<string, string>) => built
    ? (reply: FastifyReply) => reply.headers(headers).sendFile('index.html', UI_DIR, { cacheControl: false })
    : (reply: FastifyReply) => reply.status(503).headers(headers).type('text/html; charset=utf-8').send(NOT_BUILT);
  const adminPage = page(PAGE_HEADERS);
  const portalPage = page(portalHeaders(portalFrameAncestors));
  if (built) {
    // Asset names carry a hash of their content, so they can be cached for good.
    await app.register(fastifyStatic, { root: path.join(UI_DIR, 'assets'), prefix: '/assets/', immutable: true, maxAge: '365d' });
  }
  for (const url of UI_PAGES) app.get(url, hide, (_request, reply) => adminPage(reply));
  for (const url of PORTAL_PAGES) app.get(url, hide, (_request, reply) => portalPage(reply));
};
