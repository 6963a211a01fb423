// Deliveries as a table: each links to its detail.
import type { Delivery } from '../api.ts';
import { dateTime, shortId } from '../format.ts';
import { Badge } from './badge.tsx';

export function DeliveriesTable({ items, showSubscription }: { items: Delivery[]; showSubscription?: boolean }) {
  return (
    <div class="table-wrap">
      <table class="table responsive">
        <thead>
          <tr>
            <th scope="col">Delivery</th>
            <th scope="col">Event type</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">Attempts</th>
            {showSubscription && <th scope="col">Subscription</th>}
            <th scope="col">Created</th>
            <th scope="col">Last attempt</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <td data-label="Delivery"><a class="mono" href={`/deliveries/${d.id}`} title={d.id}>{shortId(d.id)}</a></td>
              <td data-label="Event type" class="mono">{d.event_type}</td>
              <td data-label="Status"><Badge value={d.status} /></td>
              <td data-label="Attempts" class="num">{d.attempts}</td>
              {showSubscription && (
                <td data-label="Subscription"><a class="mono" href={`/subscriptions/${d.subscription_id}`} title={d.subscription_id}>{shortId(d.subscription_id)}</a></td>
              )}
              <td data-label="Created" class="nowrap">{dateTime(d.created_at)}</td>
              <td data-label="Last attempt" class="nowrap">{dateTime(d.last_attempt_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
