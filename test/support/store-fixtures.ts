// Records and helpers for the store's contract suites (test/store-*.test.ts): each suite runs
// the same assertions on SQLite and PostgreSQL, every test on a store of its own (its own
// file or schema), so counts are exact.
import { afterEach } from 'node:test';
import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import {
  CIRCUIT_DEFAULTS, DEFAULT_APPLICATION_ID, newSubscription, type Attempt, type Delivery, type DeliveryStatus, type EventRecord, type Subscription,
} from '../../src/domain/index.ts';
import type { AttemptResult, ClaimRequest, ClaimedDelivery, Store } from '../../src/store/contracts.ts';
import type { Database } from '../../src/store/schema.ts';
import { countRows, openRawDb } from './raw-db.ts';
import { newTarget, openTestStore, type StoreTarget } from './stores.ts';

export const T0 = Date.UTC(2030, 0, 1);
export const HOUR = 3_600_000;

export function subscription(overrides: Partial<Subscription> = {}): Subscription {
  return {
    ...newSubscription({ id: uuidv7(), targetUrl: 'https://example.com/hook', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', maxInFlight: 100 }, T0),
    ...overrides,
  };
}

export function event(overrides: Partial<EventRecord> = {}): EventRecord {
  return { id: uuidv7(), applicationId: DEFAULT_APPLICATION_ID, eventType: 'order.created', payload: Buffer.from('{"n":1}'), createdAt: T0, trace: null, ...overrides };
}

export function delivery(ev: EventRecord, sub: Subscription, overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: uuidv7(), eventId: ev.id, subscriptionId: sub.id, eventType: ev.eventType, status: 'queued', attempts: 0,
    nextAttemptAt: ev.createdAt, manualRetry: false, lastAttemptAt: null, createdAt: ev.createdAt, updatedAt: ev.createdAt,
    ...overrides,
  };
}

export function attempt(deliveryId: string, at: number, overrides: Partial<Attempt> = {}): Attempt {
  return {
    id: uuidv7(), deliveryId, attemptNumber: 1, outcome: 'success', statusCode: 200, errorDetails: null, durationMs: 12,
    responseBody: 'ok', requestHeaders: { 'webhook-id': deliveryId, 'content-type': 'application/json' }, trigger: 'scheduled',
    createdAt: at,
    ...overrides,
  };
}

/** The result of an attempt of a claimed delivery: success when `status` is succeeded, HTTP 500 otherwise. */
export function result(claimed: ClaimedDelivery | Delivery, leaseToken: string, status: DeliveryStatus, at: number, nextAttemptAt: number | null = null, overrides: Partial<Attempt> = {}): AttemptResult {
  const d = 'delivery' in claimed ? claimed.delivery : claimed;
  const outcome = status === 'succeeded' ? 'success' : 'http_error';
  return {
    deliveryId: d.id, subscriptionId: d.subscriptionId, leaseToken, status, nextAttemptAt,
    attempt: attempt(d.id, at, { outcome, statusCode: outcome === 'success' ? 200 : 500, attemptNumber: d.attempts + 1, ...overrides }),
  };
}

/** A claim at `now` under `leaseToken`, its lease lasting `leaseMs`. */
export function claimAt(now: number, leaseToken: string, limit = 10, leaseMs = 30_000): ClaimRequest {
  return { now, limit, leaseToken, leaseExpiresAt: now + leaseMs, circuitCooldownMs: CIRCUIT_DEFAULTS.cooldownMs };
}

export const ids = (items: readonly { id: string }[]) => items.map((i) => i.id);
export const claimedIds = (items: readonly ClaimedDelivery[]) => items.map((c) => c.delivery.id).sort();

export interface FreshStore {
  store: Store;
  target: StoreTarget;
  /** A raw connection beside the store, for what no contract shows (row counts, stored bytes). */
  raw: Kysely<Database>;
  count(table: string): Promise<number>;
}

/** Opens a new store on its own file or schema for each call; each is closed after its test. */
export function freshStores(name: StoreTarget['name']): () => Promise<FreshStore> {
  const opened: FreshStore[] = [];
  afterEach(async () => {
    for (const { store, raw, target } of opened.splice(0)) {
      await raw.destroy();
      await store.close();
      await target.cleanup();
    }
  });
  return async () => {
    const target = newTarget(name);
    const store = await openTestStore(target);
    const raw = openRawDb(target);
    const fresh = { store, target, raw, count: (table: string) => countRows(raw, table) };
    opened.push(fresh);
    return fresh;
  };
}

/** Stores these subscriptions, each as given. */
export async function created(store: Store, ...subscriptions: Subscription[]): Promise<void> {
  for (const s of subscriptions) await store.subscriptions.create(s);
}

/**
 * Queues `count` deliveries of one event to `sub` and claims them, then finishes them one
 * transaction each (each moves from the queue to the history) while `read` runs over and
 * over; returns every reading, the last taken once all have finished.
 */
export async function readWhileFinishing(store: Store, sub: Subscription, count: number, read: () => Promise<number[]>): Promise<number[]> {
  const ev = event({ createdAt: T0 });
  await store.queue.enqueue([{ event: ev, deliveries: Array.from({ length: count }, () => delivery(ev, sub)) }]);
  const claimed = await store.queue.claimDue(claimAt(T0, 'l', count));
  if (claimed.length !== count) throw new Error(`claimed ${claimed.length} of ${count}`);
  let finishing = true;
  const readings: number[] = [];
  const reader = (async () => {
    while (finishing) readings.push(...(await read()));
  })();
  for (const [i, c] of claimed.entries()) await store.queue.recordAttempts([result(c, 'l', 'succeeded', T0 + i)], CIRCUIT_DEFAULTS);
  finishing = false;
  await reader;
  readings.push(...(await read()));
  return readings;
}
