// A subscription: where deliveries go and how. Its settings are the user's; its circuit and
// disabledReason are kept by hookd from the attempts' outcomes.
import type { BrokerDestination } from './destination.ts';
import { DEFAULT_APPLICATION_ID } from './application.ts';
import type { RetryPolicy } from './policies.ts';

/**
 * The lowest rate limit: one attempt every 100 seconds. A rate near zero would never refill a
 * token (5e-324 per second rounds to nothing), so the subscription's second delivery would
 * wait forever; the API refuses lower rates, and any stored before are read as this one.
 */
export const MIN_RATE_LIMIT_PER_SECOND = 0.01;

export const ORDERINGS = ['parallel', 'fifo'] as const;
/** parallel: up to maxInFlight at once. fifo: one delivery at a time, in ingestion order. */
export type Ordering = (typeof ORDERINGS)[number];

/** Content filter over the JSON payload (grammar in routing/content-filter.ts). */
export type ContentFilter = Record<string, unknown>;

export const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

/**
 * closed: deliveries flow. open: after too many consecutive failures, deliveries wait
 * (spending no attempts) until retryAt. half_open: one probe is out; its success closes the
 * circuit, its failure opens it again.
 */
export interface CircuitStatus {
  state: CircuitState;
  consecutiveFailures: number;
  retryAt: number | null;
  /** Start of the current run of failures; null after a success. */
  failingSince: number | null;
}

export const CLOSED_CIRCUIT: Readonly<CircuitStatus> = { state: 'closed', consecutiveFailures: 0, retryAt: null, failingSince: null };

export interface Subscription {
  id: string;
  /** The application it belongs to; its events and deliveries do too. */
  applicationId: string;
  /** The HTTP receiver; null when the deliveries go to a broker (destination). */
  targetUrl: string | null;
  /** The broker the deliveries are published to; null for an HTTP receiver (targetUrl). */
  destination: BrokerDestination | null;
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
  ordering: Ordering;
  filter: ContentFilter | null;
  /** Why hookd disabled the subscription (410 Gone, failing too long); null otherwise. */
  disabledReason: string | null;
  /** Receives hookd's own operational events; never part of fan-out. */
  system: boolean;
  /** Kept by the store from attempt results; ignored on update. */
  circuit: CircuitStatus;
  createdAt: number;
  updatedAt: number;
}

/** The settings a user may choose, and what each is when not chosen. */
export type SubscriptionSettings = Pick<Subscription,
  'eventTypes' | 'description' | 'active' | 'requireSignedIngest' | 'retryPolicy' | 'headers' | 'maxInFlight'
  | 'rateLimitPerSecond' | 'ordering' | 'filter'>;

export const SUBSCRIPTION_DEFAULTS: Readonly<SubscriptionSettings> = {
  eventTypes: null,
  description: null,
  active: true,
  requireSignedIngest: false,
  retryPolicy: null,
  headers: {},
  maxInFlight: 10,
  rateLimitPerSecond: null,
  ordering: 'parallel',
  filter: null,
};

/** A subscription as first stored: the defaults, then the given settings; healthy, not yet rotated. */
export function newSubscription(
  fields: Pick<Subscription, 'id' | 'targetUrl' | 'secret'> & Partial<SubscriptionSettings> & { system?: boolean; destination?: BrokerDestination | null; applicationId?: string },
  now: number,
): Subscription {
  return {
    ...SUBSCRIPTION_DEFAULTS,
    destination: null,
    applicationId: DEFAULT_APPLICATION_ID,
    headers: {},
    previousSecret: null,
    previousSecretExpiresAt: null,
    disabledReason: null,
    system: false,
    circuit: { ...CLOSED_CIRCUIT },
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}
