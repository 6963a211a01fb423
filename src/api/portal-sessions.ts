// The consumer portal's sessions: POST /applications/{app}/portal-sessions hands out a URL on
// hookd's own origin carrying a short-lived token for that one application; DELETE revokes it
// at once. GET /portal/session tells the portal page whose it is and how to look. The token is
// not an API key: it reaches only its application's subscriptions and deliveries (tenancy.ts).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { uuidv7 } from 'uuidv7';
import { generatePortalToken, hashPortalToken } from '../auth/portal-tokens.ts';
import {
  PORTAL_SESSION_DEFAULT_SECONDS, PORTAL_SESSION_MAX_SECONDS, type PortalSession, type PortalTheme,
} from '../domain/index.ts';
import type { PortalSessions } from '../store/contracts.ts';
import { notFound } from './errors.ts';
import { ApplicationParams, ErrorSchema, Timestamp, errorResponses, iso, isUuid } from './schemas.ts';

const ThemeBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Your product name, shown in the portal header.' })),
  accent: Type.Optional(Type.String({ pattern: '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$', description: 'Accent colour, #rgb or #rrggbb.' })),
  logo_url: Type.Optional(Type.String({ format: 'uri', pattern: '^https://', maxLength: 2048, description: 'An https:// image shown in the portal header.' })),
}, { additionalProperties: false });

const CreateBody = Type.Object({
  expires_in: Type.Optional(Type.Integer({
    minimum: 60, maximum: PORTAL_SESSION_MAX_SECONDS, default: PORTAL_SESSION_DEFAULT_SECONDS,
    description: `Seconds the session lasts: ${PORTAL_SESSION_DEFAULT_SECONDS} (an hour) by default, a week at most.`,
  })),
  read_only: Type.Optional(Type.Boolean({ default: false, description: 'The portal shows everything but changes nothing.' })),
  theme: Type.Optional(ThemeBody),
}, { additionalProperties: false });

const Created = Type.Object({
  id: Type.String(),
  url: Type.String({ description: 'Open it (or put it in an iframe, see HOOKD_PORTAL_FRAME_ANCESTORS): the portal of this one application. The token is in the fragment, so it is not sent in requests for the page or in Referer headers.' }),
  token: Type.String({ description: 'The session token, shown only here; the portal sends it as Authorization: Bearer <token>.' }),
  expires_at: Timestamp,
}, {
  examples: [{
    id: '0197a3c2-3d22-7c8a-9b5f-7e4daf6b9c32',
    url: 'https://hookd.example.com/portal#token=hps_Q2hhbmdlIG1lIHRvIGEgcmVhbCB0b2tlbiBwbGVhc2U',
    token: 'hps_Q2hhbmdlIG1lIHRvIGEgcmVhbCB0b2tlbiBwbGVhc2U',
    expires_at: '2025-06-01T13:00:00.000Z',
  }],
});

const SessionView = Type.Object({
  application: Type.Object({ id: Type.String(), uid: Type.String(), name: Type.String() }),
  read_only: Type.Boolean(),
  expires_at: Timestamp,
  theme: Type.Object({
    name: Type.Optional(Type.String()),
    accent: Type.Optional(Type.String()),
    logo_url: Type.Optional(Type.String()),
  }),
}, {
  examples: [{
    application: { id: '0197a3c2-1b00-7a6e-9f3d-5c2b8e4f7a10', uid: 'customer-4711', name: 'Acme Corp' },
    read_only: false, expires_at: '2025-06-01T13:00:00.000Z', theme: { name: 'Example Inc webhooks', accent: '#0a7d52' },
  }],
});

const SessionParams = Type.Object({ ...ApplicationParams.properties, id: Type.String({ format: 'uuid', description: 'A UUID; any other id is not found (404).' }) });
const responses = { ...errorResponses, 403: ErrorSchema };

function themeFrom(body: { name?: string; accent?: string; logo_url?: string } | undefined): PortalTheme {
  const theme: PortalTheme = {};
  if (body?.name !== undefined) theme.name = body.name;
  if (body?.accent !== undefined) theme.accent = body.accent;
  if (body?.logo_url !== undefined) theme.logoUrl = body.logo_url;
  return theme;
}

/** Under /applications/{app}: creating and revoking its portal sessions (keys only, not a portal session itself). */
export const portalSessionRoutes = ({ portalSessions, clock }: { portalSessions: PortalSessions; clock: () => number }): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post('/portal-sessions', {
    schema: {
      tags: ['portal'], summary: 'Open a consumer portal session for the application: a URL with a short-lived token',
      params: ApplicationParams, body: CreateBody, response: { 201: Created, ...responses },
    },
    config: { noPortal: true },
  }, async (request, reply) => {
    const now = clock();
    const token = generatePortalToken();
    const session: PortalSession = {
      id: uuidv7(),
      applicationId: request.scope.home,
      tokenHash: hashPortalToken(token),
      theme: themeFrom(request.body.theme),
      readOnly: request.body.read_only ?? false,
      createdAt: now,
      expiresAt: now + (request.body.expires_in ?? PORTAL_SESSION_DEFAULT_SECONDS) * 1000,
      revokedAt: null,
    };
    await portalSessions.create(session);
    request.log.info({ applicationId: session.applicationId, portalSessionId: session.id }, 'portal session created');
    reply.status(201);
    return { id: session.id, url: `${request.protocol}://${request.host}/portal#token=${token}`, token, expires_at: iso(session.expiresAt) };
  });

  api.delete('/portal-sessions/:id', {
    schema: { tags: ['portal'], summary: 'Revoke a portal session at once', params: SessionParams, response: { 204: Type.Null(), ...responses } },
    config: { noPortal: true },
  }, async (request, reply) => {
    const id = request.params.id;
    if (!isUuid(id) || !(await portalSessions.revoke(request.scope.home, id.toLowerCase(), clock()))) throw notFound('portal_session', id);
    reply.status(204);
  });
};

/** GET /portal/session: the session the portal page runs in. */
export const portalRoutes = ({ portalSessions, applications, clock }: {
  portalSessions: Pick<PortalSessions, 'active'>; applications: { find(id: string): Promise<{ id: string; uid: string; name: string } | undefined> }; clock: () => number;
}): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/portal/session', {
    schema: { tags: ['portal'], summary: 'The portal session of the request (a portal token only): its application, how long it lasts, its theme', response: { 200: SessionView, ...errorResponses } },
  }, async (request) => {
    const header = request.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const session = request.auth?.by === 'portal' && token ? await portalSessions.active(hashPortalToken(token), clock()) : undefined;
    const application = session && await applications.find(session.applicationId);
    if (!session || !application) throw notFound('portal_session', 'of this request');
    return {
      application: { id: application.id, uid: application.uid, name: application.name },
      read_only: session.readOnly,
      expires_at: iso(session.expiresAt),
      theme: {
        ...(session.theme.name !== undefined && { name: session.theme.name }),
        ...(session.theme.accent !== undefined && { accent: session.theme.accent }),
        ...(session.theme.logoUrl !== undefined && { logo_url: session.theme.logoUrl }),
      },
    };
  });
};
