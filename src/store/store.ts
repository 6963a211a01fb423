// The Store contract: everything the rest of hookd may ask of storage. Both adapters
// (store/sqlite, store/postgres) implement it through one SqlStore; nothing above this
// line knows which database it runs on.
//
// Glossary
//   subscription  a target URL with its secret, event-type filter and delivery settings
//   event         one ingested payload, kept as the exact bytes received
//   delivery      one event bound for one subscription; the unit of work of the queue
//   attempt       one HTTP request of a delivery, with its outcome
//   lease         a claim on a delivery by one worker: a random token and an expiry.
//                 Outcomes are written only while the token still matches (fencing).
//
// Times are integers: milliseconds since the Unix epoch, UTC. They come from the caller's
// clock so that retry schedules can be tested without waiting.
import type { RetryDefaults } from '../config.ts';

export type StoreKind = 'sqlite' | 'postgres';

export type RetryPolicy = RetryDefaults;

export interface Subscription {
  id: string;
  targetUrl: string;
  secret: string;
  /** Event-type patterns; null means every event type. */
  eventTypes: string[] | null;
  description: string | null;
  active: boolean;
  requireSignedIngest: boolean;
  /** Per-subscription overrides of the global retry defaults. */
  retryPolicy: Partial<RetryPolicy> | null;
  createdAt: number;
  updatedAt: number;
}

export const DELIVERY_STATUSES = ['queued', 'delivering', 'succeeded', 'failed', 'filtered', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** Statuses a delivery never leaves on its own; only these are removed by retention. */
export const TERMINAL_STATUSES: readonly DeliveryStatus[] = ['succeeded', 'failed', 'filtered', 'cancelled'];

export interface EventRecord {
  id: string;
  eventType: string;
  /** The request body exactly as received. */
  payload: Uint8Array;
  createdAt: number;
}

export interface Delivery {
  id: string;
  eventId: string;
  subscriptionId: string;
  eventType: string;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due (queued only). */
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export const ATTEMPT_OUTCOMES = ['success', 'http_error', 'timeout', 'network_error', 'blocked'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
export type AttemptTrigger = 'scheduled' | 'manual';

export interface Attempt {
  id: string;
  deliveryId: string;
  attemptNumber: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  errorDetails: string | null;
  durationMs: number;
  /** The first bytes of the response body, decoded as text. */
  responseBody: string | null;
  /** The request headers sent, for the attempt detail view. */
  requestHeaders: Record<string, string>;
  trigger: AttemptTrigger;
  createdAt: number;
}

/** An event and the deliveries it creates, written in one transaction. */
export interface NewEvent {
  event: EventRecord;
  deliveries: Delivery[];
}

/** A delivery handed to a worker under a lease, with what it needs to send. */
export interface ClaimedDelivery {
  delivery: Delivery;
  payload: Uint8Array;
  leaseToken: string;
}

export interface ClaimRequest {
  now: number;
  limit: number;
  leaseToken: string;
  leaseExpiresAt: number;
}

/** The result of one attempt and the delivery's next state, to be written under the lease. */
export interface AttemptResult {
  deliveryId: string;
  leaseToken: string;
  attempt: Attempt;
  status: DeliveryStatus;
  nextAttemptAt: number | null;
}

export interface Page<T> {
  items: T[];
  /** The id of the last item when more may follow. */
  nextAfter: string | null;
}

export interface SubscriptionQuery {
  limit: number;
  after?: string;
  /** Only subscriptions that would receive this event type. */
  eventType?: string;
}

export interface DeliveryQuery {
  limit: number;
  /** Newest first: only ids older than this one. */
  before?: string;
  subscriptionId?: string;
  status?: DeliveryStatus;
  eventType?: string;
  since?: number;
  until?: number;
}

export interface QueueFigures {
  /** Deliveries not yet finished: queued or delivering. */
  depth: number;
  dueNow: number;
  inFlight: number;
  /** Age of the oldest delivery that is due and waiting, in ms (0 when none). */
  oldestDueAgeMs: number;
  succeededLastHour: number;
  failedLastHour: number;
}

export type Topic = 'deliveries-due' | 'subscription-changed';
export type Listener = (payload: string) => void;

/**
 * Wake-ups between hookd processes: in-process on SQLite, LISTEN/NOTIFY on PostgreSQL.
 * A lost notification only delays work until the next poll; correctness never depends on it.
 */
export interface Notifier {
  publish(topic: Topic, payload: string): void;
  subscribe(topic: Topic, listener: Listener): () => void;
}

export interface Store {
  readonly kind: StoreKind;
  /** Where the data lives, for the start-up log (never includes a password). */
  readonly location: string;
  readonly notifier: Notifier;

  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  createSubscription(subscription: Subscription): Promise<void>;
  getSubscription(id: string): Promise<Subscription | undefined>;
  listSubscriptions(query: SubscriptionQuery): Promise<Page<Subscription>>;
  /** Active subscriptions whose event-type filter matches. */
  subscriptionsForEventType(eventType: string): Promise<Subscription[]>;
  /** Replaces the stored settings; false when the subscription does not exist. */
  updateSubscription(subscription: Subscription): Promise<boolean>;
  /** Removes the subscription and cancels its unfinished deliveries; their history stays readable. */
  deleteSubscription(id: string, now: number): Promise<boolean>;
  countSubscriptions(): Promise<number>;

  /** The transactional outbox: every event and all its deliveries commit together, or nothing does. */
  insertEvents(items: readonly NewEvent[]): Promise<void>;
  getEvent(id: string): Promise<EventRecord | undefined>;

  /** Leases up to `limit` due deliveries (queued and due, or delivering with an expired lease). */
  claimDue(request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /** Writes attempt results whose lease still holds; returns, per result, whether it was written. */
  recordAttempts(results: readonly AttemptResult[]): Promise<boolean[]>;
  /** When the earliest queued delivery becomes due, if any. */
  nextDueAt(): Promise<number | null>;

  getDelivery(id: string): Promise<Delivery | undefined>;
  listDeliveries(query: DeliveryQuery): Promise<Page<Delivery>>;
  listAttempts(deliveryId: string): Promise<Attempt[]>;
  deliveryCounts(): Promise<Record<DeliveryStatus, number>>;
  queueFigures(now: number): Promise<QueueFigures>;

  /** Deletes up to `batchSize` finished deliveries (with their attempts) created before `before`, then orphaned events. */
  deleteExpired(before: number, batchSize: number): Promise<number>;
}
