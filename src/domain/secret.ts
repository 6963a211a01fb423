// Signing secrets as hookd makes them: the Standard Webhooks format, `whsec_` + base64 of
// 24 random bytes (192 bits).
import { randomBytes } from 'node:crypto';

export const WHSEC_PREFIX = 'whsec_';
/** The fewest key bytes a new `whsec_` secret may hold: 128 bits, beyond guessing. */
export const MIN_SECRET_KEY_BYTES = 16;
/** The fewest characters a new secret in any other form may have. */
export const MIN_RAW_SECRET_LENGTH = 16;

export function generateSecret(): string {
  return WHSEC_PREFIX + randomBytes(24).toString('base64');
}
