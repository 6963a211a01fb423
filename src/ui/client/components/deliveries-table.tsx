// Deliveries as a table: each links to its detail.
import type { Delivery, Subscription } from '../api.ts';
import { dateTime, shortId } from '../format.ts';
import { Badge } from './badge.tsx';
import { Clipped } from './clipped.tsx';
import { SubscriptionLink } from './subscription-link.tsx';
import { at } from '../paths.ts';

/** With `subscriptions`, a column names each delivery's subscription. */
export function DeliveriesTable({ items, subscriptions }: { items: Delivery[]; subscriptions?: ReadonlyMap<string, Subscription> }) {
  return (
    <div class="table-wrap">
      <table class="table responsive">
        <thead>
          <tr>
            <th scope="col">Delivery</th>
            <th scope="col">Event type</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">Attempts</th>
            {subscriptions && <th scope="col">Subscription</th>}
            <th scope="col">Created</th>
            <th scope="col">Last attempt</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <td data-label="Delivery" class="nowrap"><a class="mono" href={at(`/deliveries/${d.id}`)} title={d.id}>{shortId(d.id)}</a></td>
              <td data-label="Event type" class="clip-cell"><Clipped mono text={d.event_type} /></td>
              <td data-label="Status"><Badge value={d.status} /></td>
              <td data-label="Attempts" class="num">{d.attempts}</td>
              {subscriptions && (
                <td data-label="Subscription" class="clip-cell"><SubscriptionLink id={d.subscription_id} subscription={subscriptions.get(d.subscription_id)} /></td>
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
