// How hard hookd tries: the retry schedule and the circuit breaker, with their defaults and
// the bounds every setting of them must keep (the same for HOOKD_RETRY_* and a
// subscription's retry_policy).

/** Exponential backoff: initialDelayMs × backoffFactor^(n-1), capped at maxDelayMs, ±jitter. */
export interface RetryPolicy {
  /** Attempts per delivery, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  backoffFactor: number;
  maxDelayMs: number;
  /** Random spread of each delay, as a fraction (0.2 = ±20 %). */
  jitter: number;
}

/** 30 s, doubling, at most 1 h apart, 8 attempts in all, ±20 %. */
export const RETRY_DEFAULTS: Readonly<RetryPolicy> = {
  maxAttempts: 8,
  initialDelayMs: 30_000,
  backoffFactor: 2,
  maxDelayMs: 3_600_000,
  jitter: 0.2,
};

export interface Bounds {
  min: number;
  max: number;
  /** Whole numbers only. */
  integer: boolean;
}

const DAY_MS = 86_400_000;

export const RETRY_BOUNDS: Readonly<Record<keyof RetryPolicy, Bounds>> = {
  maxAttempts: { min: 1, max: 100, integer: true },
  initialDelayMs: { min: 0, max: DAY_MS, integer: true },
  backoffFactor: { min: 1, max: 10, integer: false },
  maxDelayMs: { min: 0, max: 7 * DAY_MS, integer: true },
  jitter: { min: 0, max: 1, integer: false },
};

/**
 * The circuit breaker of every subscription: after failureThreshold consecutive failed
 * attempts its deliveries wait (spending no attempts) for cooldownMs, then one probe goes.
 */
export interface CircuitPolicy {
  failureThreshold: number;
  cooldownMs: number;
}

export const CIRCUIT_DEFAULTS: Readonly<CircuitPolicy> = { failureThreshold: 10, cooldownMs: 30_000 };
