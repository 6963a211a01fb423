// The hookd API as the app uses it: one request function that adds the API key and turns
// every error answer into an ApiFailure, the shapes of the answers, and one function per call.
import type { paths } from '../../client/api-types.ts';
import { currentApplication } from './application.ts';
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

// The shapes of the answers and bodies come from hookd's OpenAPI document, through the types
// generated from it for hookd/client (src/client/api-types.ts, `npm run gen:client`): a change
// to a route's schema changes them here, and the type check finds what the UI must follow.
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** The JSON answer of `method path` with `status`, as the OpenAPI document states it. */
type Answer<P extends keyof paths, M extends Method, S extends number = 200> =
  Operation<P, M> extends { responses: { [K in S]: { content: { 'application/json': infer T } } } } ? T : never;

/** The JSON body `method path` takes. */
type Body<P extends keyof paths, M extends Method> =
  NonNullable<Operation<P, M> extends { requestBody?: infer B } ? B : never> extends { content: { 'application/json': infer T } } ? T : never;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Subscription = Answer<'/api/v1/subscriptions/{id}', 'get'>;
export type SubscriptionWithSecret = Answer<'/api/v1/subscriptions', 'post', 201>;
export type SubscriptionSettings = Body<'/api/v1/subscriptions/{id}', 'patch'>;
export type RetryPolicy = NonNullable<SubscriptionSettings['retry_policy']>;
export type RotateSecret = Body<'/api/v1/subscriptions/{id}/secret/rotate', 'post'>;
export type RotatedSecret = Answer<'/api/v1/subscriptions/{id}/secret/rotate', 'post'>;
export type Replayed = Answer<'/api/v1/subscriptions/{id}/replay', 'post'>;
export type Ingested = Answer<'/api/v1/ingest/{subscription_id}', 'post', 202>;

export type DeliveryWithLogs = Answer<'/api/v1/deliveries/{id}', 'get'>;
export type Delivery = Answer<'/api/v1/deliveries', 'get'>['items'][number];
export type DeliveryStatus = Delivery['status'];
export type Attempt = DeliveryWithLogs['logs'][number];
export type Retried = Answer<'/api/v1/deliveries/{id}/retry', 'post'>;
export type StoredEvent = Answer<'/api/v1/events/{id}', 'get'>;
/** A broker instead of an HTTP target URL; answers show the URL's password as ****. */
export type Destination = NonNullable<Subscription['destination']>;
export type DestinationKind = Destination['type'];
export type Application = Answer<'/api/v1/applications/{app}', 'get'>;
/** What a portal link opens: its application, whether it is read-only, when it ends, and its theme. */
export type PortalSession = Answer<'/api/v1/portal/session', 'get'>;
/** What the API key in use may do: every application or one, read-only or not. */
export type Access = Answer<'/api/v1/access', 'get'>;

/** One `attempt` event of the live stream (its data is JSON). */
export type LiveAttempt = Operation<'/api/v1/attempts/stream', 'get'>['responses'][200]['content']['text/event-stream'];

export type Stats = Answer<'/api/v1/stats', 'get'>;
export type StatsWindow = Stats['window'];

export type EventType = Answer<'/api/v1/event-types/{name}', 'get'>;
export type NewEventType = Body<'/api/v1/event-types', 'post'>;
export type EventTypeChanges = Body<'/api/v1/event-types/{name}', 'patch'>;
/** A catalog entry as one application sees it: with how many of its subscriptions receive the type. */
export type ApplicationEventType = Answer<'/api/v1/applications/{app}/event-types', 'get'>['items'][number];

export const DELIVERY_STATUSES = ['queued', 'delivering', 'succeeded', 'failed', 'filtered', 'cancelled'] as const satisfies readonly DeliveryStatus[];
export const FINISHED: readonly string[] = ['succeeded', 'failed', 'filtered', 'cancelled'] satisfies DeliveryStatus[];

/** The filters of the deliveries list (its query less the paging). */
export type DeliveryFilter = Omit<NonNullable<Operation<'/api/v1/deliveries', 'get'>['parameters']['query']>, 'cursor' | 'limit'>;

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

const enc = encodeURIComponent;

/** The chosen application as a list filter (none: every application's). */
const inApplication = () => ({ application: currentApplication() ?? undefined });
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
  stats: (window: StatsWindow, signal?: AbortSignal) => request<Stats>('GET', `/stats${query({ window, ...inApplication() })}`, { signal }),

  applications: (signal?: AbortSignal) => request<Page<Application>>('GET', '/applications?limit=100', { signal }),
  createApplication: (body: { uid: string; name: string }) => request<Application>('POST', '/applications', { body }),
  deleteApplication: (id: string) => request<void>('DELETE', `/applications/${enc(id)}`),

  subscriptions: (cursor: string | undefined, signal?: AbortSignal) =>
    request<Page<Subscription>>('GET', `/subscriptions${query({ limit: 100, cursor, ...inApplication() })}`, { signal }),
  subscription: (id: string, signal?: AbortSignal) => request<Subscription>('GET', `/subscriptions/${enc(id)}`, { signal }),
  // In the chosen application; with none chosen, in the default one (the flat path).
  createSubscription: (settings: SubscriptionSettings) => {
    const application = currentApplication();
    return request<SubscriptionWithSecret>('POST', application ? `/applications/${enc(application)}/subscriptions` : '/subscriptions', { body: settings });
  },
  updateSubscription: (id: string, settings: SubscriptionSettings) =>
    request<Subscription>('PATCH', `/subscriptions/${enc(id)}`, { body: settings }),
  deleteSubscription: (id: string) => request<void>('DELETE', `/subscriptions/${enc(id)}`),
  secret: (id: string) => request<{ secret: string }>('GET', `/subscriptions/${enc(id)}/secret`),
  rotateSecret: (id: string, body: RotateSecret) => request<RotatedSecret>('POST', `/subscriptions/${enc(id)}/secret/rotate`, { body }),
  replayFailed: (id: string, range: { since?: string; until?: string }) =>
    request<Replayed>('POST', `/subscriptions/${enc(id)}/replay`, { body: { status: 'failed', ...range } }),
  sendEvent: (subscriptionId: string, payload: string) => request<Ingested>('POST', `/ingest/${enc(subscriptionId)}`, { rawBody: payload }),

  deliveries: (filter: DeliveryFilter, cursor: string | undefined, limit: number, signal?: AbortSignal) =>
    request<Page<Delivery>>('GET', `/deliveries${query({ ...filter, cursor, limit, ...inApplication() })}`, { signal }),
  delivery: (id: string, signal?: AbortSignal) => request<DeliveryWithLogs>('GET', `/deliveries/${enc(id)}`, { signal }),
  retryDelivery: (id: string) => request<Retried>('POST', `/deliveries/${enc(id)}/retry`),
  event: (id: string, signal?: AbortSignal) => request<StoredEvent>('GET', `/events/${enc(id)}`, { signal }),

  eventTypes: (cursor: string | undefined, signal?: AbortSignal) =>
    request<Page<EventType>>('GET', `/event-types${query({ limit: 100, cursor })}`, { signal }),
  eventType: (name: string, signal?: AbortSignal) => request<EventType>('GET', `/event-types/${enc(name)}`, { signal }),
  createEventType: (body: NewEventType) => request<EventType>('POST', '/event-types', { body }),
  updateEventType: (name: string, changes: EventTypeChanges) => request<EventType>('PATCH', `/event-types/${enc(name)}`, { body: changes }),
  portalSession: (signal?: AbortSignal) => request<PortalSession>('GET', '/portal/session', { signal }),
  access: (signal?: AbortSignal) => request<Access>('GET', '/access', { signal }),
  applicationEventTypes: (application: string, cursor: string | undefined, signal?: AbortSignal) =>
    request<Page<ApplicationEventType>>('GET', `/applications/${enc(application)}/event-types${query({ limit: 100, cursor })}`, { signal }),
};

/** A list read page after page, until it ends or `max` items are read; `complete`: it ended. */
async function pages<T>(page: (cursor: string | undefined) => Promise<Page<T>>, max: number): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    items.push(...next.items);
    cursor = next.next_cursor ?? undefined;
  } while (cursor && items.length < max);
  return { items, complete: cursor === undefined };
}

/** The whole catalog, page after page, up to `max`. */
export async function allEventTypes(max: number, signal?: AbortSignal): Promise<EventType[]> {
  return (await pages((cursor) => api.eventTypes(cursor, signal), max)).items;
}

/** The catalog as one application sees it, page after page, up to `max`. */
export async function allApplicationEventTypes(application: string, max: number, signal?: AbortSignal): Promise<ApplicationEventType[]> {
  return (await pages((cursor) => api.applicationEventTypes(application, cursor, signal), max)).items;
}

/** Every subscription, page after page, up to `max`. */
export function allSubscriptions(max: number, signal?: AbortSignal): Promise<{ items: Subscription[]; complete: boolean }> {
  return pages((cursor) => api.subscriptions(cursor, signal), max);
}
