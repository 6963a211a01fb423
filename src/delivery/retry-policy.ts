// When to try again: exponential backoff (domain/policies.ts has the defaults: 30 s, ×2,
// capped at 1 h, 8 attempts in all) with ±jitter, so that a receiver that comes back is not
// hit by every delayed delivery in the same second.
import type { AttemptOutcome, RetryPolicy, Subscription } from '../domain/index.ts';

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

/**
 * Milliseconds a receiver asked us to wait with Retry-After (delta-seconds or an HTTP date);
 * null when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

export interface AttemptFacts {
  outcome: AttemptOutcome;
  statusCode: number | null;
  retryAfter: string | null;
}

export interface NextStep {
  status: 'succeeded' | 'queued' | 'failed';
  nextAttemptAt: number | null;
  /** Set when the attempt means the subscription itself must stop (410 Gone). */
  disableReason: string | null;
}

/** What a delivery does after an attempt: done, wait and retry, or give up. */
export function nextStep(attempt: AttemptFacts, attemptsMade: number, policy: RetryPolicy, now: number, random: () => number = Math.random): NextStep {
  if (attempt.outcome === 'success') return { status: 'succeeded', nextAttemptAt: null, disableReason: null };
  if (attempt.statusCode === 410) {
    return { status: 'failed', nextAttemptAt: null, disableReason: 'the receiver answered 410 Gone: it no longer accepts these webhooks' };
  }
  // A blocked address will stay blocked until an operator changes the allowlist or the
  // subscription's URL; retrying on a schedule would only repeat the refusal.
  if (attempt.outcome === 'blocked' || !hasAttemptsLeft(policy, attemptsMade)) {
    return { status: 'failed', nextAttemptAt: null, disableReason: null };
  }
  let delay = retryDelayMs(policy, attemptsMade, random);
  if (attempt.statusCode === 429 || attempt.statusCode === 503) {
    // The receiver's own wish, but never sooner than our schedule nor later than our cap.
    const asked = parseRetryAfter(attempt.retryAfter, now);
    if (asked !== null) delay = Math.min(Math.max(asked, delay), policy.maxDelayMs);
  }
  return { status: 'queued', nextAttemptAt: now + delay, disableReason: null };
}
