// Signing secrets as hookd makes them: the Standard Webhooks format, `whsec_` + base64 of
// 24 random bytes (192 bits).
import { randomBytes } from 'node:crypto';

export const WHSEC_PREFIX = 'whsec_';

export function generateSecret(): string {
  return WHSEC_PREFIX + randomBytes(24).toString('base64');
}
