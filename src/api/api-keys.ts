// API keys over the API, at /api/v1/api-keys[/{id}]: an admin key creates, lists and revokes
// them (the CLI's `hookd keys` does the same straight in the database). A key is an admin key
// or bound to one application, and may be read-only. The key itself is answered once, at
// creation; only its hash is stored.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { apiKeyRecord, generateApiKey } from '../auth/api-keys.ts';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import type { ApiKey } from '../domain/index.ts';
import type { ApiKeys, Applications } from '../store/contracts.ts';
import { ApiError, notFound } from './errors.ts';
import { ErrorSchema, IdParams, NullableTimestamp, Timestamp, errorResponses, iso, isUuid } from './schemas.ts';

const CreateBody = Type.Object({
  name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()], { description: 'A label, shown in listings.' })),
  application: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()], {
    description: 'The id or uid of the one application the key may see; null or absent: an admin key.',
  })),
  read_only: Type.Optional(Type.Boolean({ default: false, description: 'A key that may only read: every change answers 403 read_only_key.' })),
}, { additionalProperties: false });

const keyExample = {
  id: '0197a3c2-2c11-7b7f-8a4e-6d3c9f5a8b21',
  name: 'acme backend',
  prefix: 'hk_3fZq9xYb',
  application_id: '0197a3c2-1b00-7a6e-9f3d-5c2b8e4f7a10',
  read_only: false,
  created_at: '2025-06-01T12:00:00.000Z',
  last_used_at: null,
  revoked_at: null,
};

const KeyView = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it by.' }),
  application_id: Type.Union([Type.String(), Type.Null()], { description: 'The application the key is bound to; null for an admin key.' }),
  read_only: Type.Boolean(),
  created_at: Timestamp,
  last_used_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
}, { examples: [keyExample] });
const CreatedKey = Type.Object({
  ...KeyView.properties,
  key: Type.String({ description: 'The key, shown only in this answer: send it as Authorization: Bearer <key>.' }),
}, { examples: [{ ...keyExample, key: 'hk_3fZq9xYbT0dPq1u2v3w4x5y6z7A8B9C0D1E2F3G4H5' }] });

function keyView(k: ApiKey) {
  return {
    id: k.id, name: k.name, prefix: k.prefix, application_id: k.applicationId, read_only: k.readOnly,
    created_at: iso(k.createdAt), last_used_at: iso(k.lastUsedAt), revoked_at: iso(k.revokedAt),
  };
}

export interface ApiKeyRoutesDeps {
  apiKeys: ApiKeys;
  applications: Pick<Applications, 'find'>;
  keys: KeyVerifier;
  clock: () => number;
}

const adminOnly = { adminOnly: true };
const responses = { ...errorResponses, 403: ErrorSchema };

export const apiKeyRoutes = ({ apiKeys, applications, keys, clock }: ApiKeyRoutesDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post('/api-keys', {
    schema: {
      tags: ['api keys'], summary: 'Create an API key (an admin key only; on a hookd without keys, the first key, which must be an admin key)',
      body: CreateBody, response: { 201: CreatedKey, ...responses },
    },
    config: adminOnly,
  }, async (request, reply) => {
    const body = request.body;
    let applicationId: string | null = null;
    if (body.application != null) {
      const application = await applications.find(body.application);
      if (!application) throw notFound('application', body.application);
      applicationId = application.id;
    }
    const readOnly = body.read_only ?? false;
    if (request.auth?.by === 'open' && (applicationId !== null || readOnly)) {
      throw new ApiError(409, 'first_key_must_be_admin', 'The first API key must be an admin key (no application, not read-only): once it exists, every request needs a key, and only an admin key can create others.');
    }
    const key = generateApiKey();
    const record = apiKeyRecord(key, body.name?.trim() || null, clock(), { applicationId, readOnly });
    await apiKeys.create(record);
    keys.forget();
    request.log.info({ keyId: record.id, applicationId, readOnly }, 'API key created');
    reply.status(201);
    return { ...keyView(record), key };
  });

  api.get('/api-keys', {
    schema: { tags: ['api keys'], summary: 'List the API keys, revoked ones included (never the keys themselves)', response: { 200: Type.Object({ items: Type.Array(KeyView) }, { examples: [{ items: [keyExample] }] }), ...responses } },
    config: adminOnly,
  }, async () => ({ items: (await apiKeys.list()).map(keyView) }));

  api.delete('/api-keys/:id', {
    schema: { tags: ['api keys'], summary: 'Revoke an API key at once', params: IdParams, response: { 204: Type.Null(), ...responses } },
    config: adminOnly,
  }, async (request, reply) => {
    const id = request.params.id;
    if (!isUuid(id) || !(await apiKeys.revoke(id.toLowerCase(), clock()))) throw notFound('api_key', id);
    keys.forget();
    request.log.info({ keyId: id }, 'API key revoked');
    reply.status(204);
  });
};
