// Converts rows as either driver returns them into the domain types of store.ts.
// SQLite gives 0/1 and JSON text; pg gives booleans and parsed JSON. Both give numbers for
// the BIGINT times (the pg pool parses int8 as a JS number, see postgres/postgres-store.ts).
import type { Attempt, AttemptOutcome, AttemptTrigger, Delivery, DeliveryStatus, EventRecord, Subscription } from './store.ts';

function json<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function bool(value: unknown): boolean {
  return value === true || value === 1 || value === 1n;
}

function bytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError('expected a byte column');
}

export function toSubscription(row: Record<string, unknown>): Subscription {
  return {
    id: row.id as string,
    targetUrl: row.target_url as string,
    secret: row.secret as string,
    eventTypes: json<string[]>(row.event_types),
    description: (row.description as string | null) ?? null,
    active: bool(row.active),
    requireSignedIngest: bool(row.require_signed_ingest),
    retryPolicy: json<Subscription['retryPolicy']>(row.retry_policy),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function fromSubscription(s: Subscription) {
  return {
    id: s.id,
    target_url: s.targetUrl,
    secret: s.secret,
    event_types: s.eventTypes === null ? null : JSON.stringify(s.eventTypes),
    description: s.description,
    active: s.active,
    require_signed_ingest: s.requireSignedIngest,
    retry_policy: s.retryPolicy === null ? null : JSON.stringify(s.retryPolicy),
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

export function toDelivery(row: Record<string, unknown>): Delivery {
  const status = row.status as DeliveryStatus;
  return {
    id: row.id as string,
    eventId: row.event_id as string,
    subscriptionId: row.subscription_id as string,
    eventType: row.event_type as string,
    status,
    attempts: Number(row.attempts),
    // A delivering row's next_attempt_at holds its lease expiry, which is not a schedule.
    nextAttemptAt: status === 'queued' && row.next_attempt_at !== null ? Number(row.next_attempt_at) : null,
    lastAttemptAt: row.last_attempt_at === null ? null : Number(row.last_attempt_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function fromDelivery(d: Delivery) {
  return {
    id: d.id,
    event_id: d.eventId,
    subscription_id: d.subscriptionId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt,
    last_attempt_at: d.lastAttemptAt,
    lease_token: null,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}

export function toEvent(row: Record<string, unknown>): EventRecord {
  return {
    id: row.id as string,
    eventType: row.event_type as string,
    payload: bytes(row.payload),
    createdAt: Number(row.created_at),
  };
}

export function toAttempt(row: Record<string, unknown>): Attempt {
  return {
    id: row.id as string,
    deliveryId: row.delivery_id as string,
    attemptNumber: Number(row.attempt_number),
    outcome: row.outcome as AttemptOutcome,
    statusCode: row.status_code === null ? null : Number(row.status_code),
    errorDetails: (row.error_details as string | null) ?? null,
    durationMs: Number(row.duration_ms),
    responseBody: (row.response_body as string | null) ?? null,
    requestHeaders: json<Record<string, string>>(row.request_headers) ?? {},
    trigger: row.trigger as AttemptTrigger,
    createdAt: Number(row.created_at),
  };
}

export function fromAttempt(a: Attempt) {
  return {
    id: a.id,
    delivery_id: a.deliveryId,
    attempt_number: a.attemptNumber,
    outcome: a.outcome,
    status_code: a.statusCode,
    error_details: a.errorDetails,
    duration_ms: a.durationMs,
    response_body: a.responseBody,
    request_headers: JSON.stringify(a.requestHeaders),
    trigger: a.trigger,
    created_at: a.createdAt,
  };
}
