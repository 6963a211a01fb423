// What the rest of hookd may ask of storage, one contract per role, each sized by its
// callers: the dispatcher sees the Queue, the subscription API sees Subscriptions, the
// dashboard sees ReadModels, and so on. Each is implemented once over Kysely for both
// databases (queue/, subscriptions.ts, delivery-log.ts, …); what differs between SQLite and
// PostgreSQL sits in sqlite/ and postgres/. Nothing above this folder knows which database
// it runs on. Failures are typed (errors.ts): unavailable, conflict, not found.
import type {
  ApiKey, Application, Attempt, AttemptOutcome, AttemptTrigger, CircuitPolicy, Delivery, DeliveryStatus, EventRecord, EventType, IdempotentResponse,
  NewEvent, OperationalEvent, OperationalNotice, PortalSession, ReplayableStatus, Subscription, TraceContext,
} from '../domain/index.ts';

export type StoreKind = 'sqlite' | 'postgres';

/** Which database to open: a SQLite file, or a PostgreSQL server. */
export type DatabaseTarget =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string };

export interface Page<T> {
  items: T[];
  /** The id of the last item when more may follow. */
  nextAfter: string | null;
}

// --- Queue: due work, leased to workers, and the outcomes written under the lease ---

/** A delivery handed to a worker under a lease, with what it needs to send. */
export interface ClaimedDelivery {
  delivery: Delivery;
  payload: Uint8Array;
  /** The event's trace context, carried to the receiver. */
  trace: TraceContext | null;
  leaseToken: string;
}

/**
 * The part of a claim's slots kept for subscriptions whose receivers answer promptly (see
 * delivery/pool-reserve.ts): the others may take `open` slots between them, and each its allowance
 * beyond that.
 */
export interface ClaimReserve {
  open: number;
  /** Slots beyond `open` a subscription may take; Infinity: it answers promptly, and `open` does not hold it. */
  allowance: (subscriptionId: string) => number;
}

export interface ClaimRequest {
  now: number;
  limit: number;
  leaseToken: string;
  leaseExpiresAt: number;
  /** How long an open circuit's probe has before another may go. */
  circuitCooldownMs: number;
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

/** What recording one attempt result did. */
export interface RecordedAttempt {
  /** False when the lease had expired and another worker took the delivery over: nothing was written. */
  written: boolean;
  /** For a written failure: since when its subscription has been failing without a success. */
  failingSince: number | null;
}

export interface Lease {
  deliveryId: string;
  leaseToken: string;
}

export interface Queue {
  /** The transactional outbox: every event and all its deliveries commit together, or nothing does. */
  enqueue(items: readonly NewEvent[]): Promise<void>;
  /**
   * Leases up to `limit` due deliveries (queued and due, or delivering with an expired
   * lease), sharing the batch fairly between subscriptions within their caps, rate limits
   * and circuits.
   */
  claimDue(request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /**
   * Writes attempt results whose lease still holds, and moves each subscription's circuit
   * breaker by the outcome; returns what happened to each result, in order.
   */
  recordAttempts(results: readonly AttemptResult[], circuit: CircuitPolicy): Promise<RecordedAttempt[]>;
  /** Puts deliveries whose lease is still held by these tokens back in the queue, due now; returns how many. */
  releaseLeases(leases: readonly Lease[], now: number): Promise<number>;
  /**
   * Makes this process one of the queue's workers: on SQLite it takes the database for
   * itself (throws DatabaseTakenError when another process has it); on PostgreSQL it
   * announces itself, so that its leases count only while it lives. Claiming joins by itself.
   */
  join(): Promise<void>;
  /** When the earliest delivery that may be sent now (not leased, its subscription active, its circuit not open) is due, if any. */
  nextDueAt(now: number): Promise<number | null>;
  /** Calls `listener` whenever deliveries may have become due, through any hookd process. */
  onDue(listener: () => void): () => void;
}

// --- Applications (tenants) ---

export interface ApplicationQuery {
  limit: number;
  after?: string;
  /** Only this one (an application key's listing). */
  id?: string;
}

export interface Applications {
  /** Throws StoreConflictError when a live application has the uid. */
  create(application: Application): Promise<void>;
  /** A live application by its id or its uid. */
  find(idOrUid: string): Promise<Application | undefined>;
  /** Whether an application has this id, a deleted one included (its history is kept until retention). */
  known(id: string): Promise<boolean>;
  list(query: ApplicationQuery): Promise<Page<Application>>;
  /** Replaces name, uid, metadata and defaults; false when it does not exist. Throws StoreConflictError when the uid is taken. */
  update(application: Application): Promise<boolean>;
  /**
   * Deletes the application with its subscriptions (their unfinished deliveries are
   * cancelled; the history stays readable), and revokes its API keys and portal sessions.
   */
  delete(id: string, now: number): Promise<boolean>;
}

/** Consumer portal sessions: short-lived, revocable access to one application. */
export interface PortalSessions {
  create(session: PortalSession): Promise<void>;
  /** The session whose token hashes to `tokenHash`, if it is neither revoked nor expired at `now`. */
  active(tokenHash: string, now: number): Promise<PortalSession | undefined>;
  /** Revokes one of the application's sessions; false when there is no such unrevoked session. */
  revoke(applicationId: string, id: string, now: number): Promise<boolean>;
}

// --- Subscriptions ---

export interface SubscriptionQuery {
  limit: number;
  after?: string;
  /** Only the subscriptions of this application. */
  applicationId?: string;
  /** Only subscriptions that would receive this event type. */
  eventType?: string;
}

/** The lookups of the ingest and delivery paths, which a cache may answer (subscription-cache.ts). */
export interface SubscriptionLookup {
  get(id: string): Promise<Subscription | undefined>;
  /** The application's active subscriptions whose event-type filter matches, for fan-out (never the system one). */
  forEventType(applicationId: string, eventType: string): Promise<Subscription[]>;
}

/** Subscription records. Every change is announced (onChanged), in every hookd process. */
export interface Subscriptions extends SubscriptionLookup {
  create(subscription: Subscription): Promise<void>;
  /** Whether `id` is a subscription, or a deleted one whose deliveries' history is still kept. */
  known(id: string): Promise<boolean>;
  /** The application of a subscription, a deleted one included; undefined when there is no such subscription. */
  applicationOf(id: string): Promise<string | undefined>;
  list(query: SubscriptionQuery): Promise<Page<Subscription>>;
  /**
   * Replaces the stored settings (not the circuit, which attempts move); false when the
   * subscription does not exist. `resetHealth` closes the circuit and forgets failures.
   */
  update(subscription: Subscription, options?: { resetHealth?: boolean }): Promise<boolean>;
  /** Removes the subscription and cancels its unfinished deliveries; their history stays readable. */
  delete(id: string, now: number): Promise<boolean>;
  /** Deactivates a subscription with a reason (its queued deliveries wait) and records the notice. */
  disable(id: string, reason: string, now: number, notice: OperationalNotice | null): Promise<boolean>;
  count(): Promise<number>;
  /** Calls `listener` with the id of every subscription created, changed, disabled or deleted. */
  onChanged(listener: (id: string) => void): () => void;
}

// --- The event-type catalog ---

export interface EventTypeQuery {
  limit: number;
  /** Only names that sort after this one (bytewise). */
  after?: string;
}

/** The event-type catalog. Every change is announced (onChanged), in every hookd process. */
export interface EventTypes {
  /** Adds an entry; false when one with this name exists already. */
  create(eventType: EventType): Promise<boolean>;
  get(name: string): Promise<EventType | undefined>;
  /** Entries by name; the page's `nextAfter` is the last name when more may follow. */
  list(query: EventTypeQuery): Promise<Page<EventType>>;
  /** Replaces the entry's fields (not its name or creation time); false when it does not exist. */
  update(eventType: EventType): Promise<boolean>;
  delete(name: string): Promise<boolean>;
  /** Every entry with `validate` on: what the ingest path checks events against. */
  validating(): Promise<EventType[]>;
  /** Calls `listener` with the name of every entry created, changed or deleted. */
  onChanged(listener: (name: string) => void): () => void;
}

// --- The delivery log: what happened to each delivery, and operators' requests to send again ---

export interface DeliveryQuery {
  limit: number;
  /** Newest first: only ids older than this one. */
  before?: string;
  /** Only deliveries to this application's subscriptions. */
  applicationId?: string;
  subscriptionId?: string;
  status?: DeliveryStatus;
  eventType?: string;
  since?: number;
  until?: number;
}

export type DeliveryFilter = Omit<DeliveryQuery, 'limit' | 'before'>;

export interface RequeueQuery {
  subscriptionId: string;
  status: ReplayableStatus;
  since?: number;
  until?: number;
}

export interface DeliveryLog {
  getDelivery(id: string): Promise<Delivery | undefined>;
  listDeliveries(query: DeliveryQuery): Promise<Page<Delivery>>;
  countDeliveries(filter: DeliveryFilter): Promise<number>;
  /** A delivery's attempts, in order. */
  listAttempts(deliveryId: string): Promise<Attempt[]>;
  getEvent(id: string): Promise<EventRecord | undefined>;
  /** Queues a delivery for an immediate manual attempt (then its status is 'queued', even if a worker took it at once); its current state when it cannot be; undefined when it does not exist. */
  retryDelivery(id: string, now: number): Promise<Delivery | undefined>;
  /** Queues for a manual attempt up to `limit` finished deliveries matching the query; returns how many. */
  requeueDeliveries(query: RequeueQuery, now: number, limit: number): Promise<number>;
}

// --- Read models: status, metrics, the dashboard and the live attempt feed ---

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
  targetUrl: Subscription['targetUrl'];
  destination: Subscription['destination'];
  /** Failed attempts in the range. */
  failures: number;
  lastFailureAt: number;
}

/** An attempt with what a live view shows about its delivery. */
export interface AttemptSummary {
  id: string;
  deliveryId: string;
  subscriptionId: string;
  /** The application of its subscription. */
  applicationId: string;
  eventType: string;
  attemptNumber: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  durationMs: number;
  trigger: AttemptTrigger;
  createdAt: number;
}

export interface ReadModels {
  deliveryCounts(): Promise<Record<DeliveryStatus, number>>;
  /** The unfinished deliveries: cheap enough for every metrics scrape. */
  pendingFigures(now: number): Promise<PendingFigures>;
  /** pendingFigures and the last hour's finished deliveries. */
  queueFigures(now: number): Promise<QueueFigures>;
  /** The queue figures of one application's subscriptions, counted from its rows. */
  applicationQueueFigures(applicationId: string, now: number): Promise<PendingFigures>;
  countOpenCircuits(): Promise<number>;
  recentOperationalEvents(limit: number): Promise<OperationalEvent[]>;
  /** How many deliveries were created at or after `since` (to one application's subscriptions, when given). */
  countDeliveriesSince(since: number, applicationId?: string): Promise<number>;
  /**
   * Attempts made in a time range: counts by outcome, latency percentiles and per-bucket
   * figures; from the counters, or from one application's attempt rows when given.
   */
  attemptStats(range: StatsRange, applicationId?: string): Promise<AttemptStats>;
  /** Live subscriptions with failed attempts in [from, to), most failures first. */
  failingSubscriptions(from: number, to: number, limit: number, applicationId?: string): Promise<FailingSubscription[]>;
  /** Live inactive subscriptions, most recently changed first, and how many there are. */
  inactiveSubscriptions(limit: number, applicationId?: string): Promise<{ items: Subscription[]; total: number }>;
  /** Attempts whose id sorts after `after` (all when null), oldest first. */
  attemptsAfter(after: string | null, limit: number, applicationId?: string): Promise<AttemptSummary[]>;
  /** The `limit` most recent attempts, oldest first. */
  latestAttempts(limit: number, applicationId?: string): Promise<AttemptSummary[]>;
}

// --- API keys and idempotency keys ---

export interface ApiKeys {
  /** Stores a new API key; false when a key with the same hash exists already. */
  create(key: ApiKey): Promise<boolean>;
  /** Every API key, revoked ones included, oldest first. */
  list(): Promise<ApiKey[]>;
  /** Marks a key revoked; false when there is no such unrevoked key. */
  revoke(id: string, now: number): Promise<boolean>;
  /** Records when a key was last used. */
  touch(id: string, now: number): Promise<void>;
}

/** Answers kept for Idempotency-Keys; they are written with their events (Queue.enqueue). */
export interface IdempotencyKeys {
  /** The stored answer for this scope and key, if created at or after `notBefore`. */
  find(scope: string, key: string, notBefore: number): Promise<IdempotentResponse | undefined>;
  /** Deletes up to `batchSize` keys created before `before`; returns how many. */
  deleteExpired(before: number, batchSize: number): Promise<number>;
}

// --- Maintenance: schema, health, secrets at rest, retention ---

export interface Maintenance {
  migrate(): Promise<void>;
  /** Throws (StoreUnavailableError) when the database cannot be reached. */
  ping(): Promise<void>;
  /**
   * Checks that stored encrypted secrets open with the configured key (throws
   * SecretUnavailableError otherwise) and, when encrypting, encrypts those still stored in
   * plain text. Returns how many subscriptions were encrypted.
   */
  prepareSecrets(): Promise<number>;
  /** Deletes up to `batchSize` finished deliveries (with their attempts) created before `before`, then orphaned events. */
  deleteExpired(before: number, batchSize: number): Promise<number>;
}

/** An open database: every contract over it, and how to close it. */
export interface Store {
  readonly kind: StoreKind;
  /** Where the data lives, for the start-up log (never includes a password). */
  readonly location: string;
  readonly queue: Queue;
  readonly applications: Applications;
  readonly portalSessions: PortalSessions;
  readonly subscriptions: Subscriptions;
  readonly eventTypes: EventTypes;
  readonly deliveryLog: DeliveryLog;
  readonly readModels: ReadModels;
  readonly apiKeys: ApiKeys;
  readonly idempotencyKeys: IdempotencyKeys;
  readonly maintenance: Maintenance;
  close(): Promise<void>;
}
