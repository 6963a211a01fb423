// Which secrets sign a subscription's deliveries, and verify its signed ingest, at a moment.
import type { Subscription } from '../domain/index.ts';

/** The current secret first, then the one it replaced while that one's grace period lasts. */
export function signingSecrets(subscription: Pick<Subscription, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>, now: number): string[] {
  const { secret, previousSecret, previousSecretExpiresAt } = subscription;
  return previousSecret !== null && previousSecretExpiresAt !== null && now < previousSecretExpiresAt
    ? [secret, previousSecret]
    : [secret];
}
