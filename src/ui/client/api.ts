// The hookd API as the app uses it: one request function that adds the API key and turns
// every error answer into an ApiFailure, the shapes of the answers, and one function per call.
import { authHeaders, keyRejected } from './auth.ts';

const BASE = '/api/v1';

export interface FieldError {
  field: string;
  message: string;
}

/** A request that failed: the API's error code and message, or a network failure (status 0). */
export class ApiFailure extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[];

  constructor(status: number, code: string, message: string, fields: FieldError[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

function fieldErrors(details: unknown): FieldError[] {
  if (!Array.isArray(details)) return [];
  return details.filter((d): d is FieldError => typeof d?.field === 'string' && typeof d?.message === 'string');
}

interface RequestOptions {
  body?: unknown;
  /** Sent as is (for events, whose bytes are delivered exactly). */
  rawBody?: string;
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  let body: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = options.rawBody ?? JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(BASE + path, { method, headers, body, signal: options.signal ?? null });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiFailure(0, 'network_error', 'hookd could not be reached. Is it running?');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: a proxy's error page, say. Reported below by status.
  }
  if (response.ok) return json as T;
  const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
  if (response.status === 401 && error?.code === 'unauthorized') keyRejected();
  throw new ApiFailure(
    response.status,
    error?.code ?? 'http_error',
    error?.message ?? `hookd answered ${response.status} ${response.statusText}.`,
    fieldErrors(error?.details),
  );
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface RetryPolicy {
  max_attempts?: number;
  initial_delay_ms?: number;
  backoff_factor?: number;
  max_delay_ms?: number;
  jitter?: number;
}

export interface Subscription {
  id: string;
  target_url: string;
  event_types: string[] | null;
  description: string | null;
  active: boolean;
  require_signed_ingest: boolean;
  retry_policy: RetryPolicy | null;
  /** Until when the secret replaced by the last rotation still signs beside the current one. */
  previous_secret_expires_at?: string | null;
  created_at: string;
  updated_at: string;
  /** Settings that later versions of hookd add (caps, filters, circuit, …): shown when present. */
  [setting: string]: unknown;
}

export interface SubscriptionSettings {
  target_url?: string;
  description?: string | null;
  event_types?: string[] | null;
  active?: boolean;
  require_signed_ingest?: boolean;
  retry_policy?: RetryPolicy | null;
  secret?: string;
}

export const DELIVERY_STATUSES = ['queued', 'delivering', 'succeeded', 'failed', 'filtered', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const FINISHED: readonly string[] = ['succeeded', 'failed', 'filtered', 'cancelled'];

export interface Delivery {
  id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface Attempt {
  attempt_number: number;
  outcome: string;
  status_code: number | null;
  error_details: string | null;
  duration_ms: number;
  response_body: string | null;
  request_headers: Record<string, string>;
  trigger: string;
  created_at: string;
}

export interface DeliveryWithLogs extends Delivery {
  logs: Attempt[];
}

export interface StoredEvent {
  id: string;
  event_type: string;
  payload: string;
  created_at: string;
}

export interface LiveAttempt {
  id: string;
  delivery_id: string;
  subscription_id: string;
  event_type: string;
  attempt_number: number;
  outcome: string;
  status_code: number | null;
  duration_ms: number;
  trigger: string;
  created_at: string;
}

export type StatsWindow = '1h' | '24h';

export interface Stats {
  window: StatsWindow;
  from: string;
  to: string;
  deliveries: { last_hour: number; last_24h: number };
  attempts: {
    total: number;
    succeeded: number;
    failed: number;
    by_outcome: Record<string, number>;
    success_rate: number | null;
    latency_ms: { p50: number | null; p95: number | null };
  };
  queue: { depth: number; due_now: number; in_flight: number; oldest_due_age_seconds: number };
  series: { start: string; bucket_seconds: number; attempts: number[]; failures: number[]; p95_ms: (number | null)[] };
  subscriptions: {
    failing: { id: string; target_url: string; failures: number; last_failure_at: string }[];
    inactive: { id: string; target_url: string; updated_at: string; disabled_reason: string | null }[];
    inactive_total: number;
  };
}

export interface DeliveryFilter {
  subscription_id?: string;
  status?: string;
  event_type?: string;
  since?: string;
  until?: string;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

const enc = encodeURIComponent;

/** What a create or rotate answer warns about: it worked, but not as one may expect. */
export interface ApiWarning {
  code: string;
  message: string;
}

/** A secret not in the whsec_ form: the Standard Webhooks libraries must be told to take it as raw bytes. */
export function isRawSecret(secret: string): boolean {
  return !secret.startsWith('whsec_');
}

/** The same hint as the API's raw_secret warning. */
export const RAW_SECRET_HINT = 'Not a whsec_ secret: it signs as its UTF-8 bytes, so receivers using the Standard Webhooks libraries (standardwebhooks, svix) must load it with { format: "raw" }. hookd/verify takes it as it is.';

export const api = {
  stats: (window: StatsWindow, signal?: AbortSignal) => request<Stats>('GET', `/stats${query({ window })}`, { signal }),

  subscriptions: (cursor: string | undefined, signal?: AbortSignal) =>
    request<Page<Subscription>>('GET', `/subscriptions${query({ limit: 100, cursor })}`, { signal }),
  subscription: (id: string, signal?: AbortSignal) => request<Subscription>('GET', `/subscriptions/${enc(id)}`, { signal }),
  createSubscription: (settings: SubscriptionSettings) =>
    request<Subscription & { secret: string; warnings: ApiWarning[] }>('POST', '/subscriptions', { body: settings }),
  updateSubscription: (id: string, settings: SubscriptionSettings) =>
    request<Subscription>('PATCH', `/subscriptions/${enc(id)}`, { body: settings }),
  deleteSubscription: (id: string) => request<void>('DELETE', `/subscriptions/${enc(id)}`),
  secret: (id: string) => request<{ secret: string }>('GET', `/subscriptions/${enc(id)}/secret`),
  rotateSecret: (id: string, body: { secret?: string; grace_seconds?: number }) =>
    request<{ secret: string; previous_secret_expires_at: string | null; warnings: ApiWarning[] }>('POST', `/subscriptions/${enc(id)}/secret/rotate`, { body }),
  replayFailed: (id: string, range: { since?: string; until?: string }) =>
    request<{ count: number }>('POST', `/subscriptions/${enc(id)}/replay`, { body: { status: 'failed', ...range } }),
  sendEvent: (subscriptionId: string, payload: string) =>
    request<{ delivery_id: string; event_id: string; status: string }>('POST', `/ingest/${enc(subscriptionId)}`, { rawBody: payload }),

  deliveries: (filter: DeliveryFilter, cursor: string | undefined, limit: number, signal?: AbortSignal) =>
    request<Page<Delivery>>('GET', `/deliveries${query({ ...filter, cursor, limit })}`, { signal }),
  delivery: (id: string, signal?: AbortSignal) => request<DeliveryWithLogs>('GET', `/deliveries/${enc(id)}`, { signal }),
  retryDelivery: (id: string) => request<{ delivery_id: string; status: string }>('POST', `/deliveries/${enc(id)}/retry`),
  event: (id: string, signal?: AbortSignal) => request<StoredEvent>('GET', `/events/${enc(id)}`, { signal }),
};

/** Every subscription, page after page, up to `max`. */
export async function allSubscriptions(max: number, signal?: AbortSignal): Promise<{ items: Subscription[]; complete: boolean }> {
  const items: Subscription[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.subscriptions(cursor, signal);
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && items.length < max);
  return { items, complete: cursor === undefined };
}
