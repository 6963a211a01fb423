// When to try again. Exponential backoff with the brief's defaults (30 s, ×2, capped at 1 h,
// 8 attempts in all) and ±jitter so that a receiver that comes back is not hit by every
// delayed delivery in the same second.
import type { RetryDefaults } from '../config.ts';
import type { Subscription } from '../store/store.ts';

export type RetryPolicy = RetryDefaults;

export function effectivePolicy(defaults: RetryPolicy, subscription: Pick<Subscription, 'retryPolicy'>): RetryPolicy {
  return { ...defaults, ...subscription.retryPolicy };
}

/**
 * Delay before attempt `attemptsMade + 1`, after `attemptsMade` failures: initial × factor^(n-1),
 * capped at maxDelay, then spread by ±jitter and capped again.
 */
export function retryDelayMs(policy: RetryPolicy, attemptsMade: number, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * policy.backoffFactor ** Math.max(0, attemptsMade - 1);
  const base = Math.min(exponential, policy.maxDelayMs);
  const spread = 1 + policy.jitter * (2 * random() - 1);
  return Math.round(Math.min(base * spread, policy.maxDelayMs));
}

export function hasAttemptsLeft(policy: RetryPolicy, attemptsMade: number): boolean {
  return attemptsMade < policy.maxAttempts;
}
