// A started hookd for the delivery tests: loopback receivers allowed, fast polling, a short
// circuit cooldown, and helpers to load it with work.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { uuidv7 } from 'uuidv7';
import type { App } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import { DEFAULT_APPLICATION_ID, type NewEvent } from '../../src/domain/index.ts';
import { finished, ingest, subscribe } from './api.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import { newTarget, startTestApp, type StoreTarget } from './stores.ts';

export const LOOPBACK = ['127.0.0.0/8', '::1/128'];
/** A retry schedule of 20 ms steps, for tests that wait for retries. */
export const FAST_RETRY = { initial_delay_ms: 20, backoff_factor: 1, max_delay_ms: 20, jitter: 0 };

export const DELIVERY_CONFIG: Partial<Config> = {
  allowNetworks: LOOPBACK, pollIntervalMs: 50, requestTimeoutMs: 15_000, connectTimeoutMs: 1000,
  circuit: { failureThreshold: 3, cooldownMs: 300 }, shutdownGraceMs: 100, workerConcurrency: 64,
};

export interface DeliveryApp {
  /** The app, once the describe block's `before` hooks have run. */
  readonly app: App;
  /** A new receiver on loopback, closed after the block. */
  receiver(): Promise<Receiver>;
}

/**
 * Registers hooks on the enclosing describe block: a hookd on a fresh database of the named
 * store before its tests (with `clock` as its clock when given), and after them the app, its
 * database and every receiver closed.
 */
export function useDeliveryApp(name: StoreTarget['name'], config: Partial<Config> = DELIVERY_CONFIG, clock?: () => number): DeliveryApp {
  let target: StoreTarget | undefined;
  let app: App | undefined;
  const receivers: Receiver[] = [];
  before(async () => {
    target = newTarget(name);
    app = await startTestApp(target, { config, ...(clock && { clock }) });
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await app?.close();
    await target?.cleanup();
  });
  return {
    get app() {
      if (app === undefined) throw new Error('the app starts in the before hook');
      return app;
    },
    async receiver() {
      const r = await startReceiver();
      receivers.push(r);
      return r;
    },
  };
}

/**
 * Shows that the dispatcher has claimed since a point in a test, so that a test can tell
 * "nothing more was sent" without sleeping. `passed()` ingests an event for a subscription of
 * the witness's own and waits for its delivery to finish: the claim that took it began after
 * the call, and any delivery that was due and claimable then was claimed by that claim or an
 * earlier one (a claim has room for every subscription of these tests), which the store
 * records (status `delivering` or later) before anything is sent. So a delivery still
 * `queued` afterwards was held back on purpose (a cap, a pause, an open circuit, a schedule).
 */
export class ClaimWitness {
  readonly #app: App;
  readonly #subscriptionId: string;

  private constructor(app: App, subscriptionId: string) {
    this.#app = app;
    this.#subscriptionId = subscriptionId;
  }

  /** A witness delivering to `receiver`, which should answer 200. */
  static async create(app: App, receiver: Receiver): Promise<ClaimWitness> {
    return new ClaimWitness(app, await subscribe(app, receiver.url, { event_types: ['witness'] }));
  }

  async passed(): Promise<void> {
    const { delivery_id: deliveryId } = await ingest(this.#app, this.#subscriptionId, { event_type: 'witness' });
    const delivery = await finished(this.#app, deliveryId);
    assert.equal(delivery.status, 'succeeded', 'the witness delivery succeeds');
  }
}

/** Queues `count` events for a subscription straight into the store, as a backlog. */
export async function backlog(app: App, subscriptionId: string, count: number): Promise<void> {
  const now = Date.now();
  for (let done = 0; done < count; done += 500) {
    const items: NewEvent[] = [];
    for (let i = done; i < Math.min(count, done + 500); i++) {
      const eventId = uuidv7();
      items.push({
        event: { id: eventId, applicationId: DEFAULT_APPLICATION_ID, eventType: 'backlog', payload: Buffer.from(`{"n":${i}}`), createdAt: now },
        deliveries: [{ id: uuidv7(), eventId, subscriptionId, eventType: 'backlog', status: 'queued', attempts: 0, nextAttemptAt: now, lastAttemptAt: null, manualRetry: false, createdAt: now, updatedAt: now }],
      });
    }
    await app.store.queue.enqueue(items);
  }
}

