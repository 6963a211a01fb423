// GET /api/v1/access: what the request's credentials may do. The web UI asks it once per key,
// so that a read-only key sees no button the API would refuse; scripts can check a key with
// it before they rely on it. It answers for any credential the API takes, and reveals nothing
// the caller does not already hold (its own key's id, its application, whether it may write).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from './schemas.ts';

const Access = Type.Object({
  by: Type.Union([Type.Literal('key'), Type.Literal('portal'), Type.Literal('open')], {
    description: '`key`: an API key; `portal`: a consumer portal session; `open`: no key, on a hookd that has none yet (loopback only).',
  }),
  key_id: Type.Union([Type.String(), Type.Null()], { description: 'The API key\'s id (`by: key`), else null.' }),
  application_id: Type.Union([Type.String(), Type.Null()], { description: 'The one application the credentials reach; null: every application (an admin).' }),
  read_only: Type.Boolean({ description: 'Every change answers 403 read_only_key.' }),
}, {
  examples: [{ by: 'key', key_id: '0197a3c2-2c11-7b7f-8a4e-6d3c9f5a8b21', application_id: null, read_only: true }],
});

export const accessRoutes = (): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/access', {
    schema: {
      tags: ['api keys'], summary: 'What the request\'s key (or portal session) may do: admin or one application, read-only or not',
      response: { 200: Access, ...errorResponses },
    },
  }, async (request) => {
    const auth = request.auth;
    const by: 'key' | 'portal' | 'open' = auth?.by === 'key' || auth?.by === 'portal' ? auth.by : 'open';
    return {
      by,
      key_id: auth?.by === 'key' ? auth.keyId : null,
      application_id: request.tenant.applicationId,
      read_only: request.tenant.readOnly,
    };
  });
};
