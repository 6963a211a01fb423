// Turns an accepted request into an event and its deliveries, committed together (the
// transactional outbox): the caller answers 202 only once this resolves. Concurrent ingests
// share transactions (group commit): each still resolves only after its own rows commit.
import { uuidv7 } from 'uuidv7';
import { Batcher } from '../lib/batcher.ts';
import { eventTypeMatches } from '../routing/event-types.ts';
import type { Delivery, NewEvent, Store, Subscription } from '../store/store.ts';
import type { SubscriptionCache } from '../store/subscription-cache.ts';

/** Event types name one kind of event; unlike filter patterns they hold no `*`. */
export const EVENT_TYPE_NAME = '^[A-Za-z0-9_.-]{1,100}$';

const MAX_EVENTS_PER_COMMIT = 256;

export interface IngestedDelivery {
  id: string;
  subscriptionId: string;
  status: 'queued' | 'filtered';
}

export interface Ingested {
  eventId: string;
  deliveries: IngestedDelivery[];
}

export class Ingestor {
  readonly #subscriptions: SubscriptionCache;
  readonly #clock: () => number;
  readonly #commits: Batcher<NewEvent, Error | null>;

  constructor(store: Store, subscriptions: SubscriptionCache, clock: () => number) {
    this.#subscriptions = subscriptions;
    this.#clock = clock;
    this.#commits = new Batcher(async (items) => {
      try {
        await store.insertEvents(items);
        return items.map(() => null);
      } catch (error) {
        if (items.length === 1) throw error;
        // One bad event must not fail the others that shared its transaction: commit each alone.
        const each = await Promise.allSettled(items.map((item) => store.insertEvents([item])));
        return each.map((r) => (r.status === 'rejected' ? (r.reason as Error) : null));
      }
    }, { maxBatch: MAX_EVENTS_PER_COMMIT });
  }

  /** One event for one subscription (the brief's ingest path); filtered when its types don't match. */
  forSubscription(subscription: Subscription, eventType: string, payload: Uint8Array): Promise<Ingested> {
    const status = eventTypeMatches(subscription.eventTypes, eventType) ? 'queued' : 'filtered';
    return this.#commit(eventType, payload, [{ subscription, status }]);
  }

  /** One event for every active subscription whose filter matches. */
  async fanOut(eventType: string, payload: Uint8Array): Promise<Ingested> {
    const targets = await this.#subscriptions.forEventType(eventType);
    return this.#commit(eventType, payload, targets.map((subscription) => ({ subscription, status: 'queued' as const })));
  }

  async #commit(eventType: string, payload: Uint8Array, targets: { subscription: Subscription; status: 'queued' | 'filtered' }[]): Promise<Ingested> {
    const now = this.#clock();
    const eventId = uuidv7();
    const deliveries: Delivery[] = targets.map(({ subscription, status }) => ({
      id: uuidv7(),
      eventId,
      subscriptionId: subscription.id,
      eventType,
      status,
      attempts: 0,
      nextAttemptAt: status === 'queued' ? now : null,
      lastAttemptAt: null,
      createdAt: now,
      updatedAt: now,
    }));
    const failure = await this.#commits.submit({ event: { id: eventId, eventType, payload, createdAt: now }, deliveries });
    if (failure) throw failure;
    return {
      eventId,
      deliveries: deliveries.map((d) => ({ id: d.id, subscriptionId: d.subscriptionId, status: d.status as 'queued' | 'filtered' })),
    };
  }
}
