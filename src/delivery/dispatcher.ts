// The claim loop of one hookd process. It leases due deliveries in batches, sends each one,
// and writes the outcomes in batches under the lease (fenced: a worker whose lease expired
// and was taken over cannot overwrite the newer result). It sleeps until woken by an
// ingest notification, a freed slot, or the next due time, with polling as the fallback.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import { Batcher } from '../batcher.ts';
import type { Delivery, Subscription } from '../domain/index.ts';
import type { AttemptResult, ClaimedDelivery, Queue, RecordedAttempt, SubscriptionLookup, Subscriptions } from '../store/contracts.ts';
import { uuidv7 } from 'uuidv7';
import { signingSecrets } from '../signing/signing-secrets.ts';
import type { Operations } from './operations.ts';
import { PoolReserve } from './pool-reserve.ts';
import { effectivePolicy, nextStep } from './retry-policy.ts';
import type { Sender } from './sender.ts';
import type { Tracing } from '../tracing/tracing.ts';

const MAX_CLAIM_BATCH = 100;
const MAX_WRITE_BATCH = 200;
const ERROR_BACKOFF_MS = 1000;
/** How soon to look again when due work is held back by caps, rate limits or circuits. */
const HELD_BACK_RECHECK_MS = 100;
/**
 * How long claims and attempt records wait for company when hookd is lightly loaded. At a
 * steady 1,000 events/s each event otherwise had a claim and a record transaction of its
 * own, and their fixed cost (a commit each) took most of a core; a couple of milliseconds
 * of delivery lag buys batches several times larger. Under heavy load batches form anyway
 * and nothing waits.
 */
const LINGER_MS = 2;

export interface DispatcherOptions {
  queue: Queue;
  /** Where a delivery's subscription is looked up (a cache). */
  subscriptions: SubscriptionLookup;
  /** Where a subscription is disabled (410 Gone, failing too long). */
  disabler: Pick<Subscriptions, 'disable'>;
  sender: Sender;
  config: Config;
  logger: Logger;
  operations: Operations;
  metrics?: Metrics;
  /** OpenTelemetry tracing: a span per attempt. Absent when off. */
  tracing?: Tracing | null;
  clock?: () => number;
  random?: () => number;
}

export class Dispatcher {
  readonly #queue: Queue;
  readonly #subscriptions: SubscriptionLookup;
  readonly #disabler: Pick<Subscriptions, 'disable'>;
  readonly #sender: Sender;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #operations: Operations;
  readonly #tracing: Tracing | null;
  /** Leases of the deliveries being sent now, to release them if shutdown runs out of time. */
  readonly #leases = new Map<string, { token: string; abort: AbortController }>();
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #writer: Batcher<AttemptResult, RecordedAttempt>;
  readonly #leaseMs: number;
  readonly #claimThreshold: number;
  /** Part of the pool kept for subscriptions whose receivers answer promptly; timed by the real clock. */
  readonly #reserve: PoolReserve;
  /** Set when new deliveries were announced since the last claim. */
  #newWork = false;
  #inFlight = 0;
  /**
   * Whether due work may be waiting for a free slot: the last claim filled its limit, or due
   * deliveries were held back (caps, rate limits, circuits). Only then does a finished
   * attempt wake the loop; otherwise its claim would find nothing, a transaction for naught
   * after every delivery at light load.
   */
  #moreDue = true;
  #running = false;
  #loop: Promise<void> | null = null;
  #wakeUp: (() => void) | null = null;
  #woken = false;
  #unsubscribe: (() => void) | null = null;
  readonly #sending = new Set<Promise<void>>();

  constructor(options: DispatcherOptions) {
    this.#queue = options.queue;
    this.#subscriptions = options.subscriptions;
    this.#disabler = options.disabler;
    this.#sender = options.sender;
    this.#config = options.config;
    this.#log = options.logger.child({ component: 'dispatcher' });
    this.#metrics = options.metrics;
    this.#operations = options.operations;
    this.#tracing = options.tracing ?? null;
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
    // The lease outlives the whole attempt (connect + request + body) by a margin.
    this.#leaseMs = options.config.connectTimeoutMs + options.config.requestTimeoutMs + options.config.leaseMarginMs;
    this.#claimThreshold = Math.max(1, Math.floor(options.config.workerConcurrency / 4));
    this.#reserve = new PoolReserve(options.config.workerConcurrency);
    this.#writer = new Batcher((results) => this.#queue.recordAttempts(results, options.config.circuit), { maxBatch: MAX_WRITE_BATCH, lingerMs: LINGER_MS });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = this.#queue.onDue(() => {
      this.#newWork = true;
      this.wake();
    });
    this.#loop = this.#run();
  }

  /** Look for due work now instead of at the next timer. */
  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  /**
   * Stops claiming and lets the attempts in flight finish and be recorded. Those still
   * running after `graceMs` are aborted and their leases released, so another worker sends
   * them at once instead of after the lease expires (the receiver may then see that attempt
   * twice; webhook-id lets it tell).
   */
  async stop(graceMs = this.#config.shutdownGraceMs): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe?.();
    this.wake();
    await this.#loop;
    const sending = Promise.allSettled([...this.#sending]);
    let timer: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const finished = await Promise.race([sending.then(() => 'done' as const), outOfTime]);
    clearTimeout(timer);
    if (finished === 'timeout' && this.#leases.size > 0) {
      const held = [...this.#leases.entries()];
      for (const [, lease] of held) lease.abort.abort();
      const released = await this.#queue.releaseLeases(held.map(([deliveryId, lease]) => ({ deliveryId, leaseToken: lease.token })), this.#clock());
      this.#log.warn({ released }, 'shutdown grace period over: released the leases of attempts still in flight');
      await sending;
    }
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let claimedAll = false;
      const free = this.#config.workerConcurrency - this.#inFlight;
      // A claim costs about the same for one delivery as for a hundred: when slots free up
      // one by one under load, wait for a quarter of them before claiming again. New work
      // is claimed into whatever slots are free (after LINGER_MS when few are in flight).
      // Slots held by attempts running slowly are not waited for: they may stay held until
      // the request timeout.
      const slow = this.#reserve.slowInFlight(performance.now());
      const threshold = this.#inFlight === 0 || this.#newWork ? 1 : Math.max(1, Math.min(this.#claimThreshold, Math.floor((this.#config.workerConcurrency - slow) / 4)));
      // Few in flight and new work announced: let a burst of ingest commits gather first.
      const linger = this.#newWork && this.#inFlight < this.#claimThreshold;
      this.#newWork = false;
      if (free < threshold) {
        await this.#sleep(this.#config.pollIntervalMs);
        continue;
      }
      if (linger) await delay(LINGER_MS);
      if (!this.#running) break;
      try {
        const limit = Math.min(free, MAX_CLAIM_BATCH);
        const now = this.#clock();
        const claimed = await this.#queue.claimDue({
          now, limit, leaseToken: randomUUID(), leaseExpiresAt: now + this.#leaseMs, circuitCooldownMs: this.#config.circuit.cooldownMs,
          reserve: this.#reserve.forClaim(limit, performance.now()),
        });
        for (const item of claimed) this.#track(this.#deliver(item));
        claimedAll = claimed.length === limit;
        if (claimedAll) this.#moreDue = true;
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
    if (this.#inFlight >= this.#config.workerConcurrency) {
      this.#moreDue = true;
      return this.#config.pollIntervalMs;
    }
    try {
      const next = await this.#queue.nextDueAt(this.#clock());
      const wait = next === null ? Infinity : next - this.#clock();
      // Due now but not claimed: held back by a cap, a rate limit or an open circuit.
      this.#moreDue = wait <= 0;
      if (wait <= 0) return Math.min(HELD_BACK_RECHECK_MS, this.#config.pollIntervalMs);
      return Math.min(wait, this.#config.pollIntervalMs);
    } catch {
      this.#moreDue = true;
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
      if (this.#moreDue) this.wake();
    });
  }

  async #deliver(claimed: ClaimedDelivery): Promise<void> {
    const { delivery, payload, trace, leaseToken } = claimed;
    // The ids go on every line about this delivery; a child logger per delivery would cost
    // an allocation-heavy object on the hot path for lines that are mostly never written.
    const ids = { deliveryId: delivery.id, eventId: delivery.eventId, subscriptionId: delivery.subscriptionId };
    const abort = new AbortController();
    this.#leases.set(delivery.id, { token: leaseToken, abort });
    this.#reserve.started(delivery.id, delivery.subscriptionId, performance.now());
    try {
      const subscription = await this.#subscriptions.get(delivery.subscriptionId);
      // Deleted meanwhile: deletion already cancelled the delivery, and our lease is void.
      if (!subscription) return;
      const attemptNumber = delivery.attempts + 1;
      const span = this.#tracing?.startAttempt({ subscription, delivery, attemptNumber, targetUrl: subscription.targetUrl }, trace);
      const result = await this.#sender.send({
        url: subscription.targetUrl,
        destination: subscription.destination,
        secrets: signingSecrets(subscription, this.#clock()),
        headers: subscription.headers,
        messageId: delivery.eventId,
        deliveryId: delivery.id,
        eventType: delivery.eventType,
        attemptNumber,
        body: payload,
        trace: span ? span.trace : trace,
        signal: abort.signal,
      });
      this.#reserve.finished(delivery.id, performance.now());
      // Aborted at shutdown: the lease is released and the delivery is due again.
      if (abort.signal.aborted) return span?.end({ ...result, deliveryStatus: 'queued' });
      const now = this.#clock();
      const next = nextStep(result, attemptNumber, effectivePolicy(this.#config.retry, subscription), now, this.#random);
      span?.end({ ...result, deliveryStatus: next.status });
      const reason = next.status === 'failed' ? `failed after ${attemptNumber} attempt(s): ${result.errorDetails ?? result.outcome}` : '';
      const notice = next.status === 'failed' ? this.#operations.notice('delivery.failed', subscription, delivery, reason, now) : null;
      const recorded = await this.#writer.submit({
        deliveryId: delivery.id,
        subscriptionId: delivery.subscriptionId,
        leaseToken,
        status: next.status,
        nextAttemptAt: next.nextAttemptAt,
        ...(notice && { notice }),
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
          trigger: delivery.manualRetry ? 'manual' : 'scheduled',
          createdAt: now,
        },
      });
      if (!recorded.written) {
        this.#log.warn({ ...ids, attemptNumber }, 'attempt result discarded: the lease expired and another worker took the delivery over');
        return;
      }
      this.#metrics?.attemptRecorded(result.outcome, result.durationMs, next.status, subscription.applicationId);
      const level = result.outcome === 'success' ? 'debug' : 'info';
      if (this.#log.isLevelEnabled(level)) this.#log[level]({ ...ids, attemptNumber, outcome: result.outcome, statusCode: result.statusCode, durationMs: result.durationMs, status: next.status, ...(result.errorDetails !== null && { error: result.errorDetails }) }, 'delivery attempt');
      const failingTooLong = recorded.failingSince !== null && now - recorded.failingSince >= this.#config.autoDisableAfterMs && !subscription.system;
      if (next.disableReason) await this.#disable(subscription, delivery, next.disableReason, now);
      else if (failingTooLong) await this.#disable(subscription, delivery, `failing continuously since ${new Date(recorded.failingSince!).toISOString()}`, now);
    } catch (error) {
      // The lease will expire and the delivery be claimed again: nothing is lost.
      this.#log.error({ ...ids, err: error }, 'delivery attempt could not be completed');
    } finally {
      this.#leases.delete(delivery.id);
      this.#reserve.finished(delivery.id, performance.now());
    }
  }

  async #disable(subscription: Subscription, delivery: Delivery, reason: string, now: number): Promise<void> {
    const notice = this.#operations.notice('subscription.disabled', subscription, delivery, reason, now);
    // Only an active subscription is disabled, so of several attempts that decide it at
    // once, one raises the notice.
    if (await this.#disabler.disable(subscription.id, reason, now, notice)) {
      this.#log.warn({ subscriptionId: subscription.id, reason }, 'subscription disabled');
    }
  }
}
