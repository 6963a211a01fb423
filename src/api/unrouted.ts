// Requests no route takes: 405 with `Allow` when the path exists with other methods, else
// 404. Answered in an onRequest hook, before any body is read, so an unknown method (QUERY,
// TRACE) or a body nobody will parse never gets a content-type complaint first.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';

interface RoutePattern {
  path: RegExp;
  method: string;
}

/** A route's URL pattern (`/subscriptions/:id`, `/assets/*`) as a regular expression over raw paths, trailing slash allowed. */
function patternOf(url: string): RegExp {
  const source = url.split(/(:\w+|\*)/).map((part) => {
    if (part === '*') return '.*';
    if (part.startsWith(':')) return '[^/]+';
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('');
  return new RegExp(`^${source.replace(/\/$/, '')}/?$`);
}

function unrouted(request: FastifyRequest, reply: FastifyReply, routes: readonly RoutePattern[]): ApiError {
  const path = request.url.split('?', 1)[0]!;
  const allowed = [...new Set(routes.filter((route) => route.path.test(path)).map((route) => route.method))].sort();
  if (allowed.length === 0) return new ApiError(404, 'route_not_found', `No route ${request.method} ${path}.`);
  reply.header('allow', allowed.join(', '));
  return new ApiError(405, 'method_not_allowed', `${path} does not take ${request.method}; it takes ${allowed.join(', ')}.`);
}

/**
 * Register after the checks every request passes (host, key) and before any route, so it
 * learns every route and answers only requests that passed them.
 */
export function registerUnrouted(app: FastifyInstance): void {
  const routes: RoutePattern[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ path: patternOf(route.url), method });
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) throw unrouted(request, reply, routes);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.send(unrouted(request, reply, routes));
  });
}
