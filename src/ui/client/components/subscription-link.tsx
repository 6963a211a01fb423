// A table cell's link to a subscription, named by its description or URL; by the end of its
// id when it is not known (deleted, or beyond the subscriptions loaded).
import type { Subscription } from '../api.ts';
import { shortId } from '../format.ts';
import { subscriptionName, whereTo } from '../subscription-index.ts';
import { Clipped } from './clipped.tsx';
import { at } from '../paths.ts';

export function SubscriptionLink({ id, subscription }: { id: string; subscription: Subscription | undefined }) {
  const href = at(`/subscriptions/${id}`);
  if (!subscription) return <a class="mono" href={href} title={id}>{shortId(id)}</a>;
  const whole = subscription.description ? `${subscription.description} — ${whereTo(subscription)}` : whereTo(subscription);
  return <Clipped href={href} text={whole}>{subscriptionName(subscription)}</Clipped>;
}
