// The claim loop of one hookd process. It leases due deliveries in batches, sends each one,
// and writes the outcomes in batches under the lease (fenced: a worker whose lease expired
// and was taken over cannot overwrite the newer result). It sleeps until woken by an
// ingest notification, a freed slot, or the next due time, with polling as the fallback.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { Batcher } from '../lib/batcher.ts';
import type { AttemptResult, ClaimedDelivery, Store } from '../store/store.ts';
import type { SubscriptionCache } from '../store/subscription-cache.ts';
import { uuidv7 } from 'uuidv7';
import { effectivePolicy, hasAttemptsLeft, retryDelayMs } from './retry-policy.ts';
import type { Sender, SendResult } from './sender.ts';

const MAX_CLAIM_BATCH = 100;
const MAX_WRITE_BATCH = 200;
/** The lease outlives the whole attempt (connect + request + body) by this margin. */
const LEASE_MARGIN_MS = 30_000;
const ERROR_BACKOFF_MS = 1000;

export interface DispatcherOptions {
  store: Store;
  subscriptions: SubscriptionCache;
  sender: Sender;
  config: Config;
  logger: Logger;
  clock?: () => number;
  random?: () => number;
}

export class Dispatcher {
  readonly #store: Store;
  readonly #subscriptions: SubscriptionCache;
  readonly #sender: Sender;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #writer: Batcher<AttemptResult, boolean>;
  readonly #leaseMs: number;
  #inFlight = 0;
  #running = false;
  #loop: Promise<void> | null = null;
  #wakeUp: (() => void) | null = null;
  #woken = false;
  #unsubscribe: (() => void) | null = null;
  readonly #sending = new Set<Promise<void>>();

  constructor(options: DispatcherOptions) {
    this.#store = options.store;
    this.#subscriptions = options.subscriptions;
    this.#sender = options.sender;
    this.#config = options.config;
    this.#log = options.logger.child({ component: 'dispatcher' });
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#leaseMs = options.config.connectTimeoutMs + options.config.requestTimeoutMs + LEASE_MARGIN_MS;
    this.#writer = new Batcher((results) => this.#store.recordAttempts(results), { maxBatch: MAX_WRITE_BATCH });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = this.#store.notifier.subscribe('deliveries-due', () => this.wake());
    this.#loop = this.#run();
  }

  /** Look for due work now instead of at the next timer. */
  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  /** Stops claiming and waits for the attempts in flight to be sent and recorded. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe?.();
    this.wake();
    await this.#loop;
    await Promise.allSettled([...this.#sending]);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let claimedAll = false;
      try {
        const free = this.#config.workerConcurrency - this.#inFlight;
        if (free > 0) {
          const limit = Math.min(free, MAX_CLAIM_BATCH);
          const now = this.#clock();
          const claimed = await this.#store.claimDue({
            now, limit, leaseToken: randomUUID(), leaseExpiresAt: now + this.#leaseMs,
          });
          for (const item of claimed) this.#track(this.#deliver(item));
          claimedAll = claimed.length === limit;
        }
      } catch (error) {
        this.#log.error({ err: error }, 'claiming due deliveries failed; retrying');
        await this.#sleep(ERROR_BACKOFF_MS);
        continue;
      }
      if (claimedAll) continue;
      await this.#sleep(await this.#idleDelay());
    }
  }

  /** Until the next delivery is due, at most the poll interval. */
  async #idleDelay(): Promise<number> {
    if (this.#inFlight >= this.#config.workerConcurrency) return this.#config.pollIntervalMs;
    try {
      const next = await this.#store.nextDueAt();
      if (next === null) return this.#config.pollIntervalMs;
      return Math.max(0, Math.min(next - this.#clock(), this.#config.pollIntervalMs));
    } catch {
      return this.#config.pollIntervalMs;
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken || !this.#running) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeUp = () => {
        this.#wakeUp = null;
        done();
      };
    }).then(() => {
      this.#woken = false;
    });
  }

  #track(sending: Promise<void>): void {
    this.#inFlight++;
    this.#sending.add(sending);
    sending.finally(() => {
      this.#sending.delete(sending);
      this.#inFlight--;
      this.wake();
    });
  }

  async #deliver(claimed: ClaimedDelivery): Promise<void> {
    const { delivery, payload, leaseToken } = claimed;
    const log = this.#log.child({ deliveryId: delivery.id, eventId: delivery.eventId, subscriptionId: delivery.subscriptionId });
    try {
      const subscription = await this.#subscriptions.get(delivery.subscriptionId);
      // Deleted meanwhile: deletion already cancelled the delivery, and our lease is void.
      if (!subscription) return;
      const attemptNumber = delivery.attempts + 1;
      const result = await this.#sender.send({
        url: subscription.targetUrl,
        secrets: [subscription.secret],
        messageId: delivery.eventId,
        deliveryId: delivery.id,
        eventType: delivery.eventType,
        attemptNumber,
        body: payload,
      });
      const outcome = this.#nextState(result, attemptNumber, effectivePolicy(this.#config.retry, subscription));
      const now = this.#clock();
      const written = await this.#writer.submit({
        deliveryId: delivery.id,
        leaseToken,
        status: outcome.status,
        nextAttemptAt: outcome.nextAttemptAt,
        attempt: {
          id: uuidv7(),
          deliveryId: delivery.id,
          attemptNumber,
          outcome: result.outcome,
          statusCode: result.statusCode,
          errorDetails: result.errorDetails,
          durationMs: result.durationMs,
          responseBody: result.responseBody,
          requestHeaders: result.requestHeaders,
          trigger: 'scheduled',
          createdAt: now,
        },
      });
      if (!written) {
        log.warn({ attemptNumber }, 'attempt result discarded: the lease expired and another worker took the delivery over');
        return;
      }
      const level = result.outcome === 'success' ? 'debug' : 'info';
      log[level]({ attemptNumber, outcome: result.outcome, statusCode: result.statusCode, durationMs: result.durationMs, status: outcome.status }, 'delivery attempt');
    } catch (error) {
      // The lease will expire and the delivery be claimed again: nothing is lost.
      log.error({ err: error }, 'delivery attempt could not be completed');
    }
  }

  #nextState(result: SendResult, attemptsMade: number, policy: ReturnType<typeof effectivePolicy>): Pick<AttemptResult, 'status' | 'nextAttemptAt'> {
    if (result.outcome === 'success') return { status: 'succeeded', nextAttemptAt: null };
    // A blocked address will stay blocked until an operator changes the allowlist or the
    // subscription's URL; retrying on a schedule would only repeat the refusal.
    if (result.outcome === 'blocked' || !hasAttemptsLeft(policy, attemptsMade)) return { status: 'failed', nextAttemptAt: null };
    return { status: 'queued', nextAttemptAt: this.#clock() + retryDelayMs(policy, attemptsMade, this.#random) };
  }
}
