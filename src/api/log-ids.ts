// The ids a request names in its path, under the field names the rest of hookd logs them
// with (subscriptionId, deliveryId, eventId), so that searching the logs for one id finds
// the API requests about it as well as its deliveries.
import type { FastifyRequest } from 'fastify';

const FIELD_BY_RESOURCE: Record<string, string> = {
  subscriptions: 'subscriptionId',
  deliveries: 'deliveryId',
  delivery: 'deliveryId',
  events: 'eventId',
};

/** `/api/v1/subscriptions/:id/deliveries` → `{ subscriptionId }`; `/ingest/:subscription_id` → `{ subscriptionId }`. */
export function idsInPath(request: FastifyRequest): Record<string, string> {
  const template = request.routeOptions.url;
  const params = request.params as Record<string, unknown> | undefined;
  if (!template || !params) return {};
  const ids: Record<string, string> = {};
  const segments = template.split('/');
  segments.forEach((segment, i) => {
    if (!segment.startsWith(':')) return;
    const name = segment.slice(1);
    const field = name === 'subscription_id' ? 'subscriptionId' : FIELD_BY_RESOURCE[segments[i - 1] ?? ''];
    const value = params[name];
    if (field && typeof value === 'string') ids[field] = value;
  });
  return ids;
}
