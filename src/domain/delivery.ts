// Events, their deliveries and each delivery's attempts: the records of the outbox and of
// the delivery log.

/**
 * The W3C trace context an event carries to its deliveries: the `traceparent` (version 00,
 * validated) and the `tracestate` that came with it, if any.
 */
export interface TraceContext {
  traceparent: string;
  tracestate: string | null;
}

export interface EventRecord {
  id: string;
  /** The application it was sent to. */
  applicationId: string;
  eventType: string;
  /** The request body exactly as received; sent byte for byte. */
  payload: Uint8Array;
  createdAt: number;
  /** The trace the event belongs to (the ingest request's), when it had one. */
  trace?: TraceContext | null;
}

export const DELIVERY_STATUSES = ['queued', 'delivering', 'succeeded', 'failed', 'filtered', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** Statuses a delivery never leaves on its own; only these are removed by retention. */
export const TERMINAL_STATUSES = ['succeeded', 'failed', 'filtered', 'cancelled'] as const satisfies readonly DeliveryStatus[];
/** What a delivery becomes at ingestion: due at once, or kept as a record of what was not sent. */
export type IngestedStatus = Extract<DeliveryStatus, 'queued' | 'filtered'>;
/** Finished deliveries an operator may send again (replay). */
export const REPLAYABLE_STATUSES = ['failed', 'succeeded'] as const satisfies readonly DeliveryStatus[];
export type ReplayableStatus = (typeof REPLAYABLE_STATUSES)[number];

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

/** rejected: a broker answered but refused the message or the credentials (see the attempt's error). */
export const ATTEMPT_OUTCOMES = ['success', 'http_error', 'timeout', 'network_error', 'blocked', 'rejected'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
export const ATTEMPT_TRIGGERS = ['scheduled', 'manual'] as const;
export type AttemptTrigger = (typeof ATTEMPT_TRIGGERS)[number];

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

/** A response kept for an Idempotency-Key, with the hash of the request that produced it. */
export interface IdempotentResponse {
  scope: string;
  key: string;
  requestHash: string;
  /** The JSON body answered with 202. */
  response: string;
  createdAt: number;
}

/** An event and the deliveries it creates, written in one transaction. */
export interface NewEvent {
  event: EventRecord;
  deliveries: Delivery[];
  /** Stored with the event, so a repeated request gets the same answer and no second event. */
  idempotency?: IdempotentResponse;
}

/** A delivery as ingestion creates it: due now when queued, never attempted. */
export function newDelivery(fields: Pick<Delivery, 'id' | 'eventId' | 'subscriptionId' | 'eventType'> & { status: IngestedStatus }, now: number): Delivery {
  return {
    ...fields,
    attempts: 0,
    nextAttemptAt: fields.status === 'queued' ? now : null,
    lastAttemptAt: null,
    manualRetry: false,
    createdAt: now,
    updatedAt: now,
  };
}
