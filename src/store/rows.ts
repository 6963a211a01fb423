// Converts rows as either driver returns them into the domain's types, and back.
// SQLite gives 0/1 and JSON text; pg gives booleans and parsed JSON. Both give numbers for
// the BIGINT times (the pg pool parses int8 as a JS number, see postgres/postgres-store.ts).
// Subscription secrets and custom header values are sealed and opened here (secret-box.ts),
// the one place where stored secrets are converted.
import type {
  ApiKey, Application, Attempt, AttemptOutcome, AttemptTrigger, BrokerDestination, CircuitStatus, ContentFilter, Delivery, DeliveryStatus, EventRecord,
  EventType, OperationalEvent, Ordering, Subscription, TraceContext,
} from '../domain/index.ts';
import type { AttemptSummary } from './contracts.ts';
import type { SecretBox } from './secret-box.ts';

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

/** Where a sealed value lives; it is bound to that place (see secret-box.ts). */
export function secretContext(subscriptionId: string, column: 'secret' | 'previous_secret' | 'headers' | 'destination', header?: string): string {
  return `subscriptions.${column}${header === undefined ? '' : `.${header.toLowerCase()}`}:${subscriptionId}`;
}

function mapHeaderValues(id: string, headers: Record<string, string>, convert: (value: string, context: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, convert(value, secretContext(id, 'headers', name))]));
}

/** A stored broker destination, its URL opened (null for an HTTP target). */
export function toDestination(id: string, value: unknown, secrets: SecretBox): BrokerDestination | null {
  const stored = json<BrokerDestination>(value);
  return stored && { ...stored, url: secrets.open(stored.url, secretContext(id, 'destination')) };
}

export function toSubscription(row: Record<string, unknown>, secrets: SecretBox): Subscription {
  const id = row.id as string;
  const previousSecret = (row.previous_secret as string | null) ?? null;
  const destination = toDestination(id, row.destination, secrets);
  return {
    id,
    applicationId: row.application_id as string,
    // A broker subscription keeps '' in the NOT NULL column of the HTTP target.
    targetUrl: destination ? null : row.target_url as string,
    destination,
    secret: secrets.open(row.secret as string, secretContext(id, 'secret')),
    eventTypes: json<string[]>(row.event_types),
    description: (row.description as string | null) ?? null,
    active: bool(row.active),
    requireSignedIngest: bool(row.require_signed_ingest),
    retryPolicy: json<Subscription['retryPolicy']>(row.retry_policy),
    headers: mapHeaderValues(id, json<Record<string, string>>(row.headers) ?? {}, (value, context) => secrets.open(value, context)),
    previousSecret: previousSecret === null ? null : secrets.open(previousSecret, secretContext(id, 'previous_secret')),
    previousSecretExpiresAt: row.previous_secret_expires_at == null ? null : Number(row.previous_secret_expires_at),
    maxInFlight: Number(row.max_in_flight),
    rateLimitPerSecond: row.rate_limit_per_second == null ? null : Number(row.rate_limit_per_second),
    ordering: row.ordering as Ordering,
    filter: json<ContentFilter>(row.filter),
    disabledReason: (row.disabled_reason as string | null) ?? null,
    system: bool(row.system),
    circuit: {
      state: row.circuit_state as CircuitStatus['state'],
      consecutiveFailures: Number(row.consecutive_failures),
      retryAt: row.circuit_retry_at == null ? null : Number(row.circuit_retry_at),
      failingSince: row.failing_since == null ? null : Number(row.failing_since),
    },
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function fromSubscription(s: Subscription, secrets: SecretBox) {
  return {
    id: s.id,
    application_id: s.applicationId,
    target_url: s.targetUrl ?? '',
    destination: s.destination && JSON.stringify({ ...s.destination, url: secrets.seal(s.destination.url, secretContext(s.id, 'destination')) }),
    secret: secrets.seal(s.secret, secretContext(s.id, 'secret')),
    event_types: s.eventTypes === null ? null : JSON.stringify(s.eventTypes),
    description: s.description,
    active: s.active,
    require_signed_ingest: s.requireSignedIngest,
    retry_policy: s.retryPolicy === null ? null : JSON.stringify(s.retryPolicy),
    headers: JSON.stringify(mapHeaderValues(s.id, s.headers, (value, context) => secrets.seal(value, context))),
    previous_secret: s.previousSecret === null ? null : secrets.seal(s.previousSecret, secretContext(s.id, 'previous_secret')),
    previous_secret_expires_at: s.previousSecretExpiresAt,
    max_in_flight: s.maxInFlight,
    rate_limit_per_second: s.rateLimitPerSecond,
    ordering: s.ordering,
    filter: s.filter === null ? null : JSON.stringify(s.filter),
    disabled_reason: s.disabledReason,
    system: s.system,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

/** A delivery from the queue: queued, or delivering while a lease on it holds. */
export function fromQueueRow(row: Record<string, unknown>, leased: boolean): Delivery {
  return {
    id: row.id as string,
    eventId: row.event_id as string,
    subscriptionId: row.subscription_id as string,
    eventType: row.event_type as string,
    status: leased ? 'delivering' : 'queued',
    attempts: Number(row.attempts),
    nextAttemptAt: leased ? null : Number(row.due_at),
    manualRetry: bool(row.manual_retry),
    lastAttemptAt: row.last_attempt_at == null ? null : Number(row.last_attempt_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** A finished delivery, from the delivery log. */
export function fromFinishedRow(row: Record<string, unknown>): Delivery {
  return {
    id: row.id as string,
    eventId: row.event_id as string,
    subscriptionId: row.subscription_id as string,
    eventType: row.event_type as string,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: null,
    manualRetry: false,
    lastAttemptAt: row.last_attempt_at == null ? null : Number(row.last_attempt_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The queue row of an unfinished delivery. */
export function queueRow(d: Delivery) {
  return {
    id: d.id,
    event_id: d.eventId,
    subscription_id: d.subscriptionId,
    event_type: d.eventType,
    attempts: d.attempts,
    due_at: d.nextAttemptAt ?? d.updatedAt,
    last_attempt_at: d.lastAttemptAt,
    manual_retry: d.manualRetry,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}

/** The delivery log's row of a finished delivery. */
export function finishedRow(d: Delivery) {
  return {
    id: d.id,
    event_id: d.eventId,
    subscription_id: d.subscriptionId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    last_attempt_at: d.lastAttemptAt,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}

export function toEvent(row: Record<string, unknown>): EventRecord {
  return {
    id: row.id as string,
    applicationId: row.application_id as string,
    eventType: row.event_type as string,
    payload: bytes(row.payload),
    createdAt: Number(row.created_at),
    trace: traceContextOf(row),
  };
}

/** An event row's trace context, or null when it was ingested without one. */
export function traceContextOf(row: { traceparent?: unknown; tracestate?: unknown }): TraceContext | null {
  return typeof row.traceparent === 'string' ? { traceparent: row.traceparent, tracestate: typeof row.tracestate === 'string' ? row.tracestate : null } : null;
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

/** An attempt's row, with its delivery's subscription and event type beside it. */
export function fromAttempt(a: Attempt, subscriptionId: string, eventType: string) {
  return {
    id: a.id,
    delivery_id: a.deliveryId,
    subscription_id: subscriptionId,
    event_type: eventType,
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

export function toApiKey(row: Record<string, unknown>): ApiKey {
  return {
    id: row.id as string,
    name: (row.name as string | null) ?? null,
    prefix: row.prefix as string,
    hash: row.key_hash as string,
    applicationId: (row.application_id as string | null) ?? null,
    readOnly: bool(row.read_only),
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at == null ? null : Number(row.last_used_at),
    revokedAt: row.revoked_at == null ? null : Number(row.revoked_at),
  };
}

export function fromApiKey(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    key_hash: k.hash,
    application_id: k.applicationId,
    read_only: k.readOnly,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt,
    revoked_at: k.revokedAt,
  };
}

export function toAttemptSummary(row: Record<string, unknown>): AttemptSummary {
  return {
    id: row.id as string,
    deliveryId: row.delivery_id as string,
    subscriptionId: row.subscription_id as string,
    applicationId: row.application_id as string,
    eventType: row.event_type as string,
    attemptNumber: Number(row.attempt_number),
    outcome: row.outcome as AttemptOutcome,
    statusCode: row.status_code === null ? null : Number(row.status_code),
    durationMs: Number(row.duration_ms),
    trigger: row.trigger as AttemptTrigger,
    createdAt: Number(row.created_at),
  };
}

export function toOperationalEvent(row: Record<string, unknown>): OperationalEvent {
  return {
    id: row.id as string,
    type: row.type as OperationalEvent['type'],
    subscriptionId: row.subscription_id as string,
    deliveryId: (row.delivery_id as string | null) ?? null,
    reason: row.reason as string,
    createdAt: Number(row.created_at),
  };
}

export function fromOperationalEvent(e: OperationalEvent) {
  return {
    id: e.id,
    type: e.type,
    subscription_id: e.subscriptionId,
    delivery_id: e.deliveryId,
    reason: e.reason,
    created_at: e.createdAt,
  };
}

export function toEventType(row: Record<string, unknown>): EventType {
  return {
    name: row.name as string,
    description: (row.description as string | null) ?? null,
    schema: json<Record<string, unknown>>(row.schema),
    example: json<unknown>(row.example),
    deprecated: bool(row.deprecated),
    validate: bool(row.validate),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toApplication(row: Record<string, unknown>): Application {
  return {
    id: row.id as string,
    uid: row.uid as string,
    name: row.name as string,
    metadata: json<Record<string, string>>(row.metadata) ?? {},
    subscriptionDefaults: json<Application['subscriptionDefaults']>(row.subscription_defaults) ?? {},
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function fromEventType(t: EventType) {
  return {
    name: t.name,
    description: t.description,
    schema: t.schema === null ? null : JSON.stringify(t.schema),
    example: t.example === null ? null : JSON.stringify(t.example),
    deprecated: t.deprecated,
    validate: t.validate,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}

export function fromApplication(a: Application) {
  return {
    id: a.id,
    uid: a.uid,
    name: a.name,
    metadata: JSON.stringify(a.metadata),
    subscription_defaults: JSON.stringify(a.subscriptionDefaults),
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}
