// How a backend uses hookd/client, checked by `npm run typecheck` (never run): right calls
// compile, and each @ts-expect-error marks a wrong one that must not (were it to compile, the
// unused directive would fail the type check). Unknown extra fields in a body are not caught:
// openapi-fetch infers the body, which turns off TypeScript's excess-property check; the
// server refuses them (422). test/client.test.ts compiles a wrong body
// against the built package export as well.
import { createHookdClient } from '../src/client/client.ts';

export async function usage(): Promise<void> {
  const hookd = createHookdClient({ baseUrl: 'http://127.0.0.1:8000', apiKey: 'hk_example' });

  const subscription = await hookd.POST('/api/v1/subscriptions', { body: { target_url: 'https://example.com/hook', event_types: ['order.*'] } });
  const id: string | undefined = subscription.data?.id;
  const secret: string | undefined = subscription.data?.secret;
  const sent = await hookd.POST('/api/v1/events', { body: { event_type: 'order.created', data: { order_id: 'ORD-1' } } });
  const deliveries: number | undefined = sent.data?.deliveries;
  const code: string | undefined = sent.error?.error.code;
  const listed = await hookd.GET('/api/v1/deliveries', { params: { query: { subscription_id: id ?? '', status: 'failed' } } });
  const status: string | undefined = listed.data?.items[0]?.status;
  const catalog = await hookd.GET('/api/v1/event-types/{name}', { params: { path: { name: 'order.created' } } });
  const validates: boolean | undefined = catalog.data?.validate;
  void [secret, deliveries, code, status, validates];

  // (target_url or destination: the document states it with anyOf, which the generated types
  // leave to the server, as they do an unknown field.)
  // @ts-expect-error a destination's type is one of the broker kinds
  await hookd.POST('/api/v1/subscriptions', { body: { destination: { type: 'kafka', url: 'kafka://broker:9092', topic: 't' } } });
  // @ts-expect-error event_types is a list
  await hookd.POST('/api/v1/subscriptions', { body: { target_url: 'https://example.com/hook', event_types: 'order.*' } });
  // @ts-expect-error event_type is a string
  await hookd.POST('/api/v1/events', { body: { event_type: 7 } });
  // @ts-expect-error the path needs its parameter
  await hookd.GET('/api/v1/event-types/{name}', {});
  // @ts-expect-error no such route
  await hookd.GET('/api/v1/nothing-here');
  // @ts-expect-error status is one of the delivery statuses
  await hookd.GET('/api/v1/deliveries', { params: { query: { status: 'lost' } } });
}
