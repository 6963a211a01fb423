// In-process cache of the subscription lookups on the ingest path. Every change made through
// any hookd process publishes 'subscription-changed' (NOTIFY on PostgreSQL), which drops the
// entry here; the TTL bounds staleness if a notification is ever missed.
import type { Store, Subscription } from './store.ts';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

const MAX_ENTRIES = 10_000;

export class SubscriptionCache {
  readonly #store: Store;
  readonly #ttlMs: number;
  readonly #byId = new Map<string, Entry<Subscription | undefined>>();
  readonly #byEventType = new Map<string, Entry<Subscription[]>>();
  readonly #unsubscribe: () => void;
  /** Bumped on every invalidation, so a load that raced with a change is not cached. */
  #generation = 0;

  constructor(store: Store, ttlMs: number) {
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#unsubscribe = store.notifier.subscribe('subscription-changed', (id) => this.#invalidate(id));
  }

  async get(id: string): Promise<Subscription | undefined> {
    return this.#cached(this.#byId, id, () => this.#store.getSubscription(id));
  }

  /** Active subscriptions whose event-type filter matches, for fan-out. */
  async forEventType(eventType: string): Promise<Subscription[]> {
    return this.#cached(this.#byEventType, eventType, () => this.#store.subscriptionsForEventType(eventType));
  }

  /** Call after any write to a subscription; tells other processes too. */
  changed(id: string): void {
    this.#invalidate(id);
    this.#store.notifier.publish('subscription-changed', id);
  }

  close(): void {
    this.#unsubscribe();
  }

  #invalidate(id: string): void {
    this.#generation++;
    this.#byId.delete(id);
    // Any subscription may appear under any event type, so fan-out lists all go.
    this.#byEventType.clear();
  }

  async #cached<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = map.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const generation = this.#generation;
    const value = await load();
    if (this.#ttlMs > 0 && generation === this.#generation) {
      if (map.size >= MAX_ENTRIES) map.clear();
      map.set(key, { value, expiresAt: now + this.#ttlMs });
    }
    return value;
  }
}
