// Who may call what. Every /api/v1 route except health and the OpenAPI document needs
// `Authorization: Bearer <API key>` once any key exists; /metrics too unless
// HOOKD_METRICS_PUBLIC=true. The web UI and /docs are static and open. Per-subscription
// ingest also accepts, instead of a key, a valid signature (Standard Webhooks headers or
// X-Hub-Signature-256) when the subscription requires signed ingest: the sender proves it
// holds the subscription secret (api/ingest-signature.ts decides before the body is parsed).
//
// Routes are classified by their registered pattern, not the raw URL, so encodings and
// trailing slashes cannot move a request into an open class. Anything not listed as open
// under /api/v1, including unknown paths, needs a key.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FailedAuthLimit } from '../auth/failed-auth-limit.ts';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import { hashPortalToken, isPortalToken } from '../auth/portal-tokens.ts';
import type { PortalSessions } from '../store/contracts.ts';
import type { Subscription } from '../domain/index.ts';
import { ApiError } from './errors.ts';
import { OPENAPI_PATH } from './openapi.ts';
import { adminOnly, ADMIN_TENANT, type Tenant } from './tenancy.ts';

/** How a request was let in: by key (which), by a portal session, openly (no key exists), or pending an ingest signature. */
export type RequestAuth = { by: 'key'; keyId: string } | { by: 'portal'; sessionId: string } | { by: 'open' } | { by: 'public' } | { by: 'ingest-signature' };

declare module 'fastify' {
  interface FastifyRequest {
    auth?: RequestAuth;
  }
}

const OPEN_ROUTES = new Set(['/api/v1/health', OPENAPI_PATH]);
const SIGNED_INGEST_ROUTE = '/api/v1/ingest/:subscription_id';
const METRICS_PATH = '/metrics';
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

type Access = 'public' | 'key' | 'key-or-ingest-signature';

export interface AuthOptions {
  keys: KeyVerifier;
  /** False when hookd is reachable from other machines (see auth/access-policy.ts). */
  openWithoutKeys: boolean;
  metricsPublic: boolean;
  /** Wrong keys allowed per client address (auth/failed-auth-limit.ts). */
  failedAuth: FailedAuthLimit;
  /** Consumer portal sessions, whose tokens are accepted like keys of one application; absent: none are. */
  portalSessions?: { sessions: Pick<PortalSessions, 'active'>; clock: () => number };
}

function accessOf(request: FastifyRequest, metricsPublic: boolean): Access {
  const route = request.routeOptions.url;
  const path = route ?? request.url.split('?', 1)[0]!;
  if (path === METRICS_PATH) return metricsPublic ? 'public' : 'key';
  if (path !== '/api/v1' && !path.startsWith('/api/v1/')) return 'public';
  if (route !== undefined && OPEN_ROUTES.has(route)) return 'public';
  if (route === SIGNED_INGEST_ROUTE) return 'key-or-ingest-signature';
  return 'key';
}

/** What a keyless ingest request that is not let in is told, whatever the reason. */
export const KEYLESS_INGEST_REFUSED = 'This API needs an API key: send Authorization: Bearer <key>. A subscription with require_signed_ingest also accepts a request signed with its secret instead.';

/** Whether the request carries an ingest signature of either kind (it may then come without a key). */
function carriesIngestSignature(headers: FastifyRequest['headers']): boolean {
  return headers['webhook-signature'] !== undefined || headers['x-hub-signature-256'] !== undefined;
}

export function unauthorized(reply: FastifyReply, message: string): ApiError {
  reply.header('www-authenticate', 'Bearer realm="hookd"');
  return new ApiError(401, 'unauthorized', message);
}

/** Adds the check to every route of `app`, including those registered later. */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const { keys, openWithoutKeys, metricsPublic, failedAuth, portalSessions } = options;
  app.decorateRequest('tenant', null as unknown as Tenant);
  app.addHook('onRequest', async (request, reply) => {
    const access = accessOf(request, metricsPublic);
    if (access === 'public') {
      request.auth = { by: 'public' };
      request.tenant = ADMIN_TENANT;
      return;
    }
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    const retryAfter = failedAuth.retryAfterSeconds(request.ip);
    if (retryAfter !== null && (token !== undefined || await keys.keysConfigured())) {
      reply.header('retry-after', String(retryAfter));
      throw new ApiError(429, 'too_many_auth_failures',
        `Too many requests with a wrong API key from this address: at most ${failedAuth.perMinute} per minute. Retry in ${retryAfter} seconds.`);
    }
    if (token !== undefined && isPortalToken(token)) {
      const session = portalSessions && await portalSessions.sessions.active(hashPortalToken(token), portalSessions.clock());
      if (!session) {
        failedAuth.recordFailure(request.ip);
        throw unauthorized(reply, 'The portal session is not valid (unknown, expired or revoked).');
      }
      request.auth = { by: 'portal', sessionId: session.id };
      request.tenant = { applicationId: session.applicationId, readOnly: session.readOnly, portal: true };
      if ((request.routeOptions.url ?? '') === METRICS_PATH) throw adminOnly();
      return;
    }
    const key = token === undefined ? null : await keys.verify(token);
    if (token !== undefined && key === null && await keys.keysConfigured()) failedAuth.recordFailure(request.ip);
    if (key) {
      request.auth = { by: 'key', keyId: key.id };
      request.tenant = { applicationId: key.applicationId, readOnly: key.readOnly };
      // The metrics cover every application: an application's key may not read them.
      if (key.applicationId !== null && (request.routeOptions.url ?? '') === METRICS_PATH) throw adminOnly();
      return;
    }
    request.tenant = ADMIN_TENANT;
    if (openWithoutKeys && !(await keys.keysConfigured())) {
      request.auth = { by: 'open' };
      return;
    }
    if (access === 'key-or-ingest-signature' && header === undefined) {
      // Decided by the route before its body is parsed (api/ingest-signature.ts), with the
      // same answer as here for whatever it refuses.
      if (carriesIngestSignature(request.headers)) {
        request.auth = { by: 'ingest-signature' };
        return;
      }
      throw unauthorized(reply, KEYLESS_INGEST_REFUSED);
    }
    throw unauthorized(reply, token === undefined
      ? 'This API needs an API key: send Authorization: Bearer <key>.'
      : 'The API key is not valid (unknown or revoked).');
  });
}
