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
import type { ClaimReserve } from '../delivery/claim-plan.ts';

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
  /** Extra headers sent with every attempt, name → value; values may be credentials. */
  headers: Record<string, string>;
  /** The secret replaced by the last rotation; it still signs until previousSecretExpiresAt. */
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  /** Most deliveries in flight at once, across every hookd process. */
  maxInFlight: number;
  /** Most attempts started per second, across every hookd process; null: unlimited. */
  rateLimitPerSecond: number | null;
  /** fifo: one delivery at a time, in ingestion order. */
  ordering: Ordering;
  /** Content filter over the JSON payload (routing/content-filter.ts); null: everything. */
  filter: ContentFilter | null;
  /** Why the subscription was disabled by hookd (410 Gone, failing too long); null otherwise. */
  disabledReason: string | null;
  /** Receives hookd's own operational events; never part of fan-out. */
  system: boolean;
  /** Kept by the store from attempt results; ignored on update. */
  circuit: CircuitStatus;
  createdAt: number;
  updatedAt: number;
}

export type Ordering = 'parallel' | 'fifo';
export type ContentFilter = Record<string, unknown>;

/**
 * The circuit breaker of a subscription. closed: deliveries flow. open: after too many
 * consecutive failures, deliveries wait (spending no attempts) until retryAt. half_open: one
 * probe is out; its success closes the circuit, its failure opens it again.
 */
export interface CircuitStatus {
  state: 'closed' | 'open' | 'half_open';
  consecutiveFailures: number;
  retryAt: number | null;
  /** Start of the current run of failures; null after a success. */
  failingSince: number | null;
}

export interface CircuitPolicy {
  failureThreshold: number;
  cooldownMs: number;
}

export const CLOSED_CIRCUIT: CircuitStatus = { state: 'closed', consecutiveFailures: 0, retryAt: null, failingSince: null };

export type OperationalEventType = 'subscription.disabled' | 'delivery.failed';

/** Something hookd tells operators about: listed in status, and delivered to HOOKD_OPERATIONS_URL when set. */
export interface OperationalEvent {
  id: string;
  type: OperationalEventType;
  subscriptionId: string;
  deliveryId: string | null;
  reason: string;
  createdAt: number;
}

/** An operational event and, when an operations subscription exists, its delivery to it. */
export interface OperationalNotice {
  event: OperationalEvent;
  delivery: NewEvent | null;
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
  /** The next attempt was asked for by an operator (retry or replay). */
  manualRetry: boolean;
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
  /** Stored with the event, so a repeated request gets the same answer and no second event. */
  idempotency?: IdempotentResponse;
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
  /** How long an open circuit's probe has before another may go. */
  circuitCooldownMs?: number;
  /** The claiming process's worker-pool reserve: what subscriptions not known to answer promptly may take. */
  reserve?: ClaimReserve;
}

/** The result of one attempt and the delivery's next state, to be written under the lease. */
export interface AttemptResult {
  deliveryId: string;
  subscriptionId: string;
  leaseToken: string;
  attempt: Attempt;
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  /** Written in the same transaction when the result is (e.g. delivery.failed). */
  notice?: OperationalNotice;
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

export interface RequeueQuery {
  subscriptionId: string;
  status: 'failed' | 'succeeded';
  since?: number;
  until?: number;
}

/** A response kept for an Idempotency-Key, with the hash of the request that produced it. */
export interface IdempotentResponse {
  scope: string;
  key: string;
  requestHash: string;
  /** The JSON body answered with 202. */
  response: string;
  createdAt: number;
}

export interface PendingFigures {
  /** Deliveries not yet finished: queued or delivering. */
  depth: number;
  dueNow: number;
  inFlight: number;
  /** Age of the oldest delivery that is due and waiting, in ms (0 when none). */
  oldestDueAgeMs: number;
}

export interface QueueFigures extends PendingFigures {
  succeededLastHour: number;
  failedLastHour: number;
}

/** An API key as stored: never the key itself, only its SHA-256 hash and a short prefix to recognise it by. */
export interface ApiKey {
  id: string;
  name: string | null;
  /** The first characters of the key, e.g. `hk_3fZq9`, for listings. */
  prefix: string;
  /** Hex SHA-256 of the whole key. */
  hash: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
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
  /** Whether `id` is a subscription, or a deleted one whose deliveries' history is still kept. */
  subscriptionKnown(id: string): Promise<boolean>;
  listSubscriptions(query: SubscriptionQuery): Promise<Page<Subscription>>;
  /** Active subscriptions whose event-type filter matches. */
  subscriptionsForEventType(eventType: string): Promise<Subscription[]>;
  /**
   * Replaces the stored settings (not the circuit, which attempts move); false when the
   * subscription does not exist. `resetHealth` closes the circuit and forgets failures.
   */
  updateSubscription(subscription: Subscription, options?: { resetHealth?: boolean }): Promise<boolean>;
  /** Removes the subscription and cancels its unfinished deliveries; their history stays readable. */
  deleteSubscription(id: string, now: number): Promise<boolean>;
  countSubscriptions(): Promise<number>;

  /** The transactional outbox: every event and all its deliveries commit together, or nothing does. */
  insertEvents(items: readonly NewEvent[]): Promise<void>;
  getEvent(id: string): Promise<EventRecord | undefined>;

  /** Leases up to `limit` due deliveries (queued and due, or delivering with an expired lease). */
  claimDue(request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /**
   * Writes attempt results whose lease still holds, and moves each subscription's circuit
   * breaker by the outcome; returns, per result, whether it was written.
   */
  recordAttempts(results: readonly AttemptResult[], circuit?: CircuitPolicy): Promise<boolean[]>;
  /** Puts deliveries whose lease is still held by these tokens back in the queue, due now; returns how many. */
  releaseLeases(leases: readonly { deliveryId: string; leaseToken: string }[], now: number): Promise<number>;
  /** Deactivates a subscription with a reason (its queued deliveries wait) and records the notice. */
  disableSubscription(id: string, reason: string, now: number, notice: OperationalNotice | null): Promise<boolean>;
  /** Queues a delivery for an immediate manual attempt; undefined when it does not exist. */
  retryDelivery(id: string, now: number): Promise<Delivery | undefined>;
  /** Queues for a manual attempt up to `limit` finished deliveries matching the query; returns how many. */
  requeueDeliveries(query: RequeueQuery, now: number, limit: number): Promise<number>;
  countDeliveries(query: Omit<DeliveryQuery, 'limit' | 'before'>): Promise<number>;
  recentOperationalEvents(limit: number): Promise<OperationalEvent[]>;
  countOpenCircuits(): Promise<number>;
  /** Deletes up to `batchSize` idempotency keys created before `before`; returns how many. */
  deleteExpiredIdempotencyKeys(before: number, batchSize: number): Promise<number>;
  /** A stored idempotent response for this scope and key, if younger than `notBefore`. */
  findIdempotentResponse(scope: string, key: string, notBefore: number): Promise<IdempotentResponse | undefined>;
  /** When the earliest queued delivery becomes due, if any. */
  nextDueAt(): Promise<number | null>;

  getDelivery(id: string): Promise<Delivery | undefined>;
  listDeliveries(query: DeliveryQuery): Promise<Page<Delivery>>;
  listAttempts(deliveryId: string): Promise<Attempt[]>;
  deliveryCounts(): Promise<Record<DeliveryStatus, number>>;
  /** The unfinished deliveries: read through partial indexes, cheap enough for every metrics scrape. */
  pendingFigures(now: number): Promise<PendingFigures>;
  /** pendingFigures and the last hour's finished deliveries, which take a read of every retained one. */
  queueFigures(now: number): Promise<QueueFigures>;

  /** Deletes up to `batchSize` finished deliveries (with their attempts) created before `before`, then orphaned events. */
  deleteExpired(before: number, batchSize: number): Promise<number>;

  /** Stores a new API key; false when a key with the same hash exists already. */
  createApiKey(key: ApiKey): Promise<boolean>;
  /** Every API key, revoked ones included, oldest first. */
  listApiKeys(): Promise<ApiKey[]>;
  /** Marks a key revoked; false when there is no such unrevoked key. */
  revokeApiKey(id: string, now: number): Promise<boolean>;
  /** Records when a key was last used. */
  touchApiKey(id: string, now: number): Promise<void>;

  /**
   * Checks that stored encrypted secrets open with the configured key (throws
   * SecretUnavailableError otherwise) and, when encrypting, encrypts those still stored in
   * plain text. Returns how many subscriptions were encrypted.
   */
  prepareSecrets(): Promise<number>;

  // --- Read models of the web UI: dashboard statistics and the live attempt feed ---

  /** How many deliveries were created at or after `since`. */
  countDeliveriesSince(since: number): Promise<number>;
  /** Attempts made in a time range: counts by outcome, latency percentiles and per-bucket figures. */
  attemptStats(range: StatsRange): Promise<AttemptStats>;
  /** Live subscriptions with failed attempts in [from, to), most failures first. */
  failingSubscriptions(from: number, to: number, limit: number): Promise<FailingSubscription[]>;
  /** Live inactive subscriptions, most recently changed first, and how many there are. */
  inactiveSubscriptions(limit: number): Promise<{ items: Subscription[]; total: number }>;
  /** Attempts whose id sorts after `after` (all when null), oldest first. */
  attemptsAfter(after: string | null, limit: number): Promise<AttemptSummary[]>;
  /** The `limit` most recent attempts, oldest first. */
  latestAttempts(limit: number): Promise<AttemptSummary[]>;
}

// --- Types of the web UI's read models ---

/** A time range cut into equal buckets: [from, to), bucketMs long each, from aligned to bucketMs. */
export interface StatsRange {
  from: number;
  to: number;
  bucketMs: number;
}

export interface AttemptBucket {
  /** Start of the bucket, ms since the epoch. */
  start: number;
  attempts: number;
  /** Attempts whose outcome was not success. */
  failures: number;
  /** 95th percentile of attempt duration in ms (nearest rank); null when there were no attempts. */
  p95Ms: number | null;
}

export interface AttemptStats {
  byOutcome: Record<AttemptOutcome, number>;
  /** Nearest-rank percentiles of attempt duration in ms; null when there were no attempts. */
  p50Ms: number | null;
  p95Ms: number | null;
  /** Only buckets that had attempts, oldest first. */
  buckets: AttemptBucket[];
}

export interface FailingSubscription {
  id: string;
  targetUrl: string;
  /** Failed attempts in the range. */
  failures: number;
  lastFailureAt: number;
}

/** An attempt with what a live view shows about its delivery. */
export interface AttemptSummary {
  id: string;
  deliveryId: string;
  subscriptionId: string;
  eventType: string;
  attemptNumber: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  durationMs: number;
  trigger: AttemptTrigger;
  createdAt: number;
}
