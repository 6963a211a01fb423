// Examples of the main responses, shown in the OpenAPI document and at /docs. They tell one
// story (one subscription, one event, one delivery retried once) and are validated against
// their schemas by test/openapi.test.ts, so a schema change that breaks them fails the tests.

const SUBSCRIPTION_ID = '0197a3c2-5f10-7c3e-8a41-2b9d6e0f4a11';
const EVENT_ID = '0197a3c2-7d42-7e19-9c55-41f0b8a2d3e7';
const DELIVERY_ID = '0197a3c2-7d42-7e19-9c55-5a7c3e91b0f2';
const CREATED_AT = '2025-06-01T12:00:00.000Z';

export const subscriptionExample = {
  application_id: '00000000-0000-7000-8000-000000000000',
  id: SUBSCRIPTION_ID,
  target_url: 'https://example.com/webhooks/hookd',
  destination: null,
  event_types: ['order.created', 'order.*'],
  description: 'Order events for the billing service',
  active: true,
  require_signed_ingest: false,
  retry_policy: { max_attempts: 5 },
  headers: { authorization: '[redacted]' },
  max_in_flight: 10,
  rate_limit_per_second: null,
  ordering: 'parallel',
  filter: { 'data.total': { $gte: 100 } },
  circuit: { state: 'closed', consecutive_failures: 0, retry_at: null, failing_since: null },
  disabled_reason: null,
  system: false,
  previous_secret_expires_at: null,
  created_at: CREATED_AT,
  updated_at: CREATED_AT,
};

export const secretExample = { secret: 'whsec_LEn2DIbz+8l5ICQwbmXpL8AW2ArSdDJN' };

export const subscriptionWithSecretExample = { ...subscriptionExample, ...secretExample, warnings: [] };

export const rotatedSecretExample = { secret: 'whsec_dGhlIG5ldyBzZWNyZXQgYWZ0ZXIgcm90YXRpb24=', previous_secret_expires_at: '2025-06-02T12:00:00.000Z', warnings: [] };

/** A subscription whose deliveries go to a broker: a RabbitMQ exchange, the password masked. */
export const brokerSubscriptionExample = {
  ...subscriptionExample,
  id: '0197a3c2-6a20-7b11-9e07-3c1d5f8a2b40',
  target_url: null,
  destination: { type: 'rabbitmq', url: 'amqp://hookd:****@rabbitmq.internal:5672/%2F', exchange: 'orders', routing_key: 'order.events' },
  description: 'Order events for the warehouse queue',
  headers: {},
  filter: null,
};

export const subscriptionListExample = { items: [subscriptionExample, brokerSubscriptionExample], next_cursor: null };

export const ingestedExample = { delivery_id: DELIVERY_ID, event_id: EVENT_ID, status: 'queued' };

export const fannedOutExample = { event_id: EVENT_ID, deliveries: 1, delivery_ids: [DELIVERY_ID] };

export const deliveryExample = {
  id: DELIVERY_ID,
  subscription_id: SUBSCRIPTION_ID,
  event_id: EVENT_ID,
  event_type: 'order.created',
  status: 'succeeded',
  attempts: 2,
  next_attempt_at: null,
  last_attempt_at: '2025-06-01T12:00:30.412Z',
  created_at: CREATED_AT,
  updated_at: '2025-06-01T12:00:30.412Z',
};

const requestHeaders = {
  'content-type': 'application/json',
  'user-agent': 'hookd/0.1.0',
  'webhook-id': EVENT_ID,
  'x-hookd-delivery-id': DELIVERY_ID,
  'x-hookd-event-type': 'order.created',
};

export const deliveryWithLogsExample = {
  ...deliveryExample,
  logs: [
    {
      attempt_number: 1, outcome: 'http_error', status_code: 503, error_details: 'HTTP 503',
      duration_ms: 87, response_body: 'Service Unavailable', request_headers: { ...requestHeaders, 'x-hookd-attempt': '1' },
      trigger: 'scheduled', created_at: '2025-06-01T12:00:00.095Z',
    },
    {
      attempt_number: 2, outcome: 'success', status_code: 200, error_details: null,
      duration_ms: 41, response_body: '{"received":true}', request_headers: { ...requestHeaders, 'x-hookd-attempt': '2' },
      trigger: 'scheduled', created_at: '2025-06-01T12:00:30.412Z',
    },
  ],
};

export const deliveryListExample = { items: [deliveryExample], next_cursor: null };

export const healthExamples = [
  { status: 'ok', checks: { database: 'ok' } },
  { status: 'unavailable', checks: { database: 'unavailable' } },
];

export const statusExample = {
  version: '0.1.0',
  uptime_seconds: 86400,
  store: 'sqlite',
  subscriptions: 12,
  deliveries: { queued: 3, delivering: 2, succeeded: 48210, failed: 17, filtered: 140, cancelled: 0 },
  queue: { depth: 5, due_now: 1, in_flight: 2, oldest_due_age_seconds: 0.4, succeeded_last_hour: 2011, failed_last_hour: 1 },
  open_circuits: 0,
  operational_events: [{
    id: '0197a3c2-8000-7000-8000-000000000042', type: 'delivery.failed', subscription_id: SUBSCRIPTION_ID,
    delivery_id: DELIVERY_ID, reason: 'failed after 8 attempt(s): HTTP 503', created_at: '2025-06-01T14:07:12.000Z',
  }],
};

export const errorExample = {
  error: {
    code: 'validation_failed',
    message: 'target_url: must be an absolute http:// or https:// URL, without credentials (user:pass@)',
    details: [{ field: 'target_url', message: 'must be an absolute http:// or https:// URL, without credentials (user:pass@)' }],
  },
};
