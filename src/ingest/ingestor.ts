// Turns an accepted request into an event and its deliveries, committed together (the
// transactional outbox): the caller answers 202 only once this resolves. Concurrent ingests
// share transactions (group commit): each still resolves only after its own rows commit.
import { uuidv7 } from 'uuidv7';
import { Batcher } from '../batcher.ts';
import type { IngestPath, Metrics } from '../metrics.ts';
import { matchesFilter } from '../routing/content-filter.ts';
import { eventTypeMatches } from '../routing/event-types.ts';
import { newDelivery, type Delivery, type IdempotentResponse, type IngestedStatus, type NewEvent, type Subscription, type TraceContext } from '../domain/index.ts';
import type { Queue, SubscriptionLookup } from '../store/contracts.ts';

const MAX_EVENTS_PER_COMMIT = 256;
/** How long an Idempotency-Key's answer is kept and replayed. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

export interface IngestedDelivery {
  id: string;
  subscriptionId: string;
  status: IngestedStatus;
}

export interface Ingested {
  eventId: string;
  deliveries: IngestedDelivery[];
}

/** An accepted request: its event type, its exact bytes, and the parsed body for content filters. */
export interface IncomingEvent {
  eventType: string;
  payload: Uint8Array;
  body: unknown;
  /** The trace context to store with the event and carry to its deliveries. */
  trace?: TraceContext | null;
  /** Set when the request carried an Idempotency-Key: the answer is stored with the event. */
  idempotency?: Omit<IdempotentResponse, 'response' | 'createdAt'>;
}

function contentStatus(subscription: Subscription, body: unknown): IngestedStatus {
  return subscription.filter === null || matchesFilter(subscription.filter, body) ? 'queued' : 'filtered';
}

export class Ingestor {
  readonly #subscriptions: SubscriptionLookup;
  readonly #clock: () => number;
  readonly #commits: Batcher<NewEvent, Error | null>;
  readonly #metrics: Metrics | undefined;

  constructor(queue: Pick<Queue, 'enqueue'>, subscriptions: SubscriptionLookup, clock: () => number, options: { metrics?: Metrics } = {}) {
    this.#subscriptions = subscriptions;
    this.#clock = clock;
    this.#metrics = options.metrics;
    this.#commits = new Batcher(async (items) => {
      try {
        await queue.enqueue(items);
        return items.map(() => null);
      } catch (error) {
        if (items.length === 1) throw error;
        // One bad event must not fail the others that shared its transaction: commit each alone.
        const each = await Promise.allSettled(items.map((item) => queue.enqueue([item])));
        return each.map((r) => (r.status === 'rejected' ? (r.reason as Error) : null));
      }
    }, { maxBatch: MAX_EVENTS_PER_COMMIT });
  }

  /**
   * One event for one subscription (POST /ingest/{subscription_id}); filtered when its event types
   * or its content filter do not match.
   */
  forSubscription(subscription: Subscription, event: IncomingEvent): Promise<Ingested> {
    const status = eventTypeMatches(subscription.eventTypes, event.eventType) ? contentStatus(subscription, event.body) : 'filtered';
    return this.#commit('subscription', event, [{ subscription, status }]);
  }

  /** One event for every active subscription of the application whose event types match; filtered where its content filter does not. */
  async fanOut(applicationId: string, event: IncomingEvent): Promise<Ingested> {
    const targets = await this.#subscriptions.forEventType(applicationId, event.eventType);
    return this.#commit('fan_out', event, targets.map((subscription) => ({ subscription, status: contentStatus(subscription, event.body) })), applicationId);
  }

  async #commit(
    path: IngestPath, incoming: IncomingEvent, targets: { subscription: Subscription; status: IngestedStatus }[],
    applicationId = targets[0]!.subscription.applicationId,
  ): Promise<Ingested> {
    const { eventType, payload } = incoming;
    const committed = this.#metrics?.startIngest(path);
    const now = this.#clock();
    const eventId = uuidv7();
    const deliveries: Delivery[] = targets.map(({ subscription, status }) =>
      newDelivery({ id: uuidv7(), eventId, subscriptionId: subscription.id, eventType, status }, now));
    const ingested: Ingested = {
      eventId,
      deliveries: deliveries.map((d) => ({ id: d.id, subscriptionId: d.subscriptionId, status: d.status as IngestedStatus })),
    };
    const idempotency: IdempotentResponse | undefined = incoming.idempotency && {
      ...incoming.idempotency, response: JSON.stringify(ingested), createdAt: now,
    };
    const failure = await this.#commits.submit({ event: { id: eventId, applicationId, eventType, payload, createdAt: now, trace: incoming.trace ?? null }, deliveries, ...(idempotency && { idempotency }) });
    if (failure) throw failure;
    committed?.(deliveries);
    return ingested;
  }
}
