// Tenants are walls. Every request acts for a tenant: an admin (an admin key, or an open
// hookd without keys), one application (an application key or a portal session), maybe
// read-only. Before a route validates anything, this hook decides what the request may
// reach, in one place:
//
// - `/applications/{app}/…` must name a live application the tenant may see;
// - a route's path id (declared with `config.owns`) must belong to the tenant's application,
//   else it is answered 404 exactly as an unknown id is: another application's records are
//   not revealed to exist;
// - admin-only routes (`config.adminOnly`) refuse application tenants (403), and read-only
//   tenants may not change anything (403).
//
// Handlers then read `request.scope`: `visible`, the application whose records a list may
// show (null: any, for an admin on a flat path, narrowed by `?application=`), and `home`,
// where created records go (the default application on the flat paths).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEFAULT_APPLICATION_ID, type Application } from '../domain/index.ts';
import type { Applications } from '../store/contracts.ts';
import { ApiError, notFound } from './errors.ts';
import { isUuid } from './schemas.ts';

export interface Tenant {
  /** The one application the request may reach; null: an admin, who reaches every one. */
  applicationId: string | null;
  readOnly: boolean;
  /** A consumer portal session: its application's records, through the routes the portal uses. */
  portal?: boolean;
}

export const ADMIN_TENANT: Tenant = { applicationId: null, readOnly: false };

export interface Scope {
  /** Lists show this application's records only; null: every application's. */
  visible: string | null;
  /** The application created records belong to. */
  home: string;
  /** The application named in the path, when there is one. */
  application?: Application;
}

/** What a route's path id names, so the wall can find the application it belongs to. */
export type OwnedResource = 'subscription' | 'delivery' | 'event';

declare module 'fastify' {
  interface FastifyRequest {
    tenant: Tenant;
    scope: Scope;
  }
  interface FastifyContextConfig {
    /** The path parameter that names a record of one application, and what it names. */
    owns?: { param: string; resource: OwnedResource };
    /** Only an admin may call the route. */
    adminOnly?: boolean;
    /** A portal session may not call the route (it manages the application or its access). */
    noPortal?: boolean;
  }
}

/** The application each kind of record belongs to; undefined when there is no such record. */
export type Owners = Record<OwnedResource, (id: string) => Promise<string | undefined>>;

const WRITES_ALLOWED = new Set(['GET', 'HEAD', 'OPTIONS']);

export function adminOnly(): ApiError {
  return new ApiError(403, 'admin_key_required', 'Only an admin API key may do this; this key (or portal session) belongs to one application.');
}

/** Adds the wall to every route of `app` (the /api/v1 routes). */
export function registerTenancy(app: FastifyInstance, deps: { applications: Pick<Applications, 'find'>; owners: Owners }): void {
  app.decorateRequest('scope', null as unknown as Scope);
  app.addHook('preValidation', async (request) => {
    const tenant = request.tenant ?? ADMIN_TENANT;
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const scope: Scope = { visible: tenant.applicationId, home: tenant.applicationId ?? DEFAULT_APPLICATION_ID };
    const named = params.app ?? listFilter(request);
    if (named !== undefined) {
      const application = await deps.applications.find(named);
      if (!application || (tenant.applicationId !== null && tenant.applicationId !== application.id)) throw notFound('application', named);
      scope.visible = application.id;
      if (params.app !== undefined) {
        scope.home = application.id;
        scope.application = application;
      }
    }
    request.scope = scope;
    const config = request.routeOptions.config;
    if (config.adminOnly && tenant.applicationId !== null) throw adminOnly();
    if (config.noPortal && tenant.portal) {
      throw new ApiError(403, 'portal_not_allowed', 'A portal session may not do this: it works on its application\'s subscriptions and deliveries only.');
    }
    if (tenant.readOnly && !WRITES_ALLOWED.has(request.method)) {
      throw new ApiError(403, 'read_only_key', 'This API key (or portal session) is read-only: it cannot change anything.');
    }
    const owns = config.owns;
    if (owns && scope.visible !== null) {
      const id = params[owns.param] ?? '';
      const owner = isUuid(id) ? await deps.owners[owns.resource](id.toLowerCase()) : undefined;
      if (owner !== scope.visible) throw notFound(owns.resource, id);
    }
  });
}

/** `?application=` on a flat route that takes it (lists, stats, the live stream): which application to show. */
function listFilter(request: FastifyRequest): string | undefined {
  const query = request.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined;
  if (query?.properties?.application === undefined) return undefined;
  const value = (request.query as Record<string, unknown> | undefined)?.application;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Where records created on a flat path go, and the idempotency scope of their events. */
export function eventsScope(applicationId: string): string {
  // The default application keeps the scope it had before applications, so keys stored then still replay.
  return applicationId === DEFAULT_APPLICATION_ID ? 'events' : `events:${applicationId}`;
}
