// In-process cache of the subscription lookups on the ingest and delivery paths. The store
// announces every change to a subscription, made through any hookd process
// (Subscriptions.onChanged; NOTIFY on PostgreSQL), which drops the entry here; the TTL bounds
// staleness if a notification is ever missed.
import type { Subscription } from '../domain/index.ts';
import type { SubscriptionLookup, Subscriptions } from './contracts.ts';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

const MAX_ENTRIES = 10_000;

export class SubscriptionCache implements SubscriptionLookup {
  readonly #subscriptions: SubscriptionLookup;
  readonly #ttlMs: number;
  readonly #clock: () => number;
  readonly #byId = new Map<string, Entry<Subscription | undefined>>();
  readonly #byEventType = new Map<string, Entry<Subscription[]>>();
  readonly #unsubscribe: () => void;
  /** Bumped on every invalidation, so a load that raced with a change is not cached. */
  #generation = 0;

  constructor(subscriptions: Pick<Subscriptions, 'get' | 'forEventType' | 'onChanged'>, ttlMs: number, clock: () => number = Date.now) {
    this.#subscriptions = subscriptions;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
    this.#unsubscribe = subscriptions.onChanged((id) => this.#invalidate(id));
  }

  get(id: string): Promise<Subscription | undefined> {
    return this.#cached(this.#byId, id, () => this.#subscriptions.get(id));
  }

  forEventType(applicationId: string, eventType: string): Promise<Subscription[]> {
    return this.#cached(this.#byEventType, `${applicationId} ${eventType}`, () => this.#subscriptions.forEventType(applicationId, eventType));
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
    const now = this.#clock();
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
