// hookd/client: a typed client for hookd's HTTP API, for the backends that send events and
// manage subscriptions. openapi-fetch over the types generated from hookd's OpenAPI document
// (api-types.ts, `npm run gen:client`): paths, parameters, bodies and answers are checked by
// the type checker, e.g.
//
//   const hookd = createHookdClient({ baseUrl: 'http://127.0.0.1:8000', apiKey: process.env.HOOKD_API_KEY });
//   const { data, error } = await hookd.POST('/api/v1/events', { body: { event_type: 'order.created', data: { id: 1 } } });
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './api-types.ts';

export type { components, operations, paths } from './api-types.ts';

export type HookdClient = Client<paths>;

export interface HookdClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where hookd listens, e.g. `http://127.0.0.1:8000` (paths start with /api/v1). */
  baseUrl: string;
  /** An API key (`hk_...`), sent as `Authorization: Bearer` with every request. */
  apiKey?: string;
}

export function createHookdClient({ baseUrl, apiKey, ...options }: HookdClientOptions): HookdClient {
  const client = createClient<paths>({ ...options, baseUrl: baseUrl.replace(/\/+$/, '') });
  if (apiKey !== undefined) {
    client.use({
      onRequest({ request }) {
        request.headers.set('authorization', `Bearer ${apiKey}`);
        return request;
      },
    });
  }
  return client;
}
