// Keeps a quarter of this process's worker pool for subscriptions whose receivers answer
// promptly. A receiver that hangs holds each slot it gets until the request timeout, so a few
// of them, each within its own max_in_flight, could otherwise occupy every worker and delay
// everyone else's deliveries by the whole timeout.
//   - A subscription that answered its last attempt here promptly and has none running
//     slowly may take any free slot, as its own limits allow.
//   - All the others together (receivers that were slow, or that this process has not sent
//     to yet) may hold three quarters of the pool.
//   - Beyond that, one of those others with nothing in flight here gets a single slot to
//     find out (a new subscription's first delivery does not wait for hanging ones to end).
import type { ClaimReserve } from '../store/contracts.ts';

/** An attempt running longer than this marks its subscription as slow. */
export const SLOW_ATTEMPT_MS = 1000;
/** Subscriptions whose last outcome is remembered; the least recently used are forgotten. */
const REMEMBERED_SUBSCRIPTIONS = 10_000;

export class PoolReserve {
  readonly #poolSize: number;
  readonly #reserved: number;
  /** Attempts in flight here: delivery id → subscription and start. */
  readonly #running = new Map<string, { subscriptionId: string; startedAt: number }>();
  /** Whether each subscription's last attempt here was slow, least recently updated first. */
  readonly #lastWasSlow = new Map<string, boolean>();

  constructor(poolSize: number) {
    this.#poolSize = poolSize;
    // A pool of fewer than four workers has none to spare.
    this.#reserved = Math.floor(poolSize / 4);
  }

  started(deliveryId: string, subscriptionId: string, now: number): void {
    this.#running.set(deliveryId, { subscriptionId, startedAt: now });
  }

  /** Called when the attempt's answer (or error) is in; a second call for it does nothing. */
  finished(deliveryId: string, now: number): void {
    const attempt = this.#running.get(deliveryId);
    if (!attempt) return;
    this.#running.delete(deliveryId);
    this.#lastWasSlow.delete(attempt.subscriptionId);
    this.#lastWasSlow.set(attempt.subscriptionId, now - attempt.startedAt > SLOW_ATTEMPT_MS);
    if (this.#lastWasSlow.size > REMEMBERED_SUBSCRIPTIONS) this.#lastWasSlow.delete(this.#lastWasSlow.keys().next().value!);
  }

  /** Attempts in flight here for longer than SLOW_ATTEMPT_MS. */
  slowInFlight(now: number): number {
    let slow = 0;
    for (const { startedAt } of this.#running.values()) if (now - startedAt > SLOW_ATTEMPT_MS) slow++;
    return slow;
  }

  /** The limits of a claim made now for up to `limit` deliveries. */
  forClaim(limit: number, now: number): ClaimReserve {
    // Per subscription with attempts in flight here: whether one of them is running slowly.
    const runningSlowly = new Map<string, boolean>();
    for (const { subscriptionId, startedAt } of this.#running.values()) {
      runningSlowly.set(subscriptionId, runningSlowly.get(subscriptionId) === true || now - startedAt > SLOW_ATTEMPT_MS);
    }
    const prompt = (subscriptionId: string) => this.#lastWasSlow.get(subscriptionId) === false && runningSlowly.get(subscriptionId) !== true;
    let heldByOthers = 0;
    for (const { subscriptionId } of this.#running.values()) if (!prompt(subscriptionId)) heldByOthers++;
    return {
      open: Math.max(0, Math.min(limit, this.#poolSize - this.#reserved - heldByOthers)),
      allowance: (subscriptionId) => {
        if (prompt(subscriptionId)) return Infinity;
        // Nothing known and nothing in flight: one, to find out.
        return this.#lastWasSlow.has(subscriptionId) || runningSlowly.has(subscriptionId) ? 0 : 1;
      },
    };
  }
}
