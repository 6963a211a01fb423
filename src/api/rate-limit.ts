// The API rate limit: HOOKD_RATE_LIMIT_PER_MINUTE requests per minute per API key, or per
// client address while hookd runs without keys. Open routes (health, docs, UI) are not
// counted. Counts are kept per process, so N API processes allow up to N times the limit.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.ts';

const WINDOW_MS = 60_000;

/** Register before any route: the limit is attached to each route as it is added, after the auth check. */
export async function registerRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  if (perMinute === 0) return;
  await app.register(rateLimit, {
    max: perMinute,
    timeWindow: WINDOW_MS,
    allowList: (request) => request.auth?.by === 'public',
    keyGenerator: (request) => (request.auth?.by === 'key' ? `key:${request.auth.keyId}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) => new ApiError(
      429, 'rate_limited', `Too many requests: at most ${context.max} per minute. Retry in ${context.after}.`,
    ),
  });
}
