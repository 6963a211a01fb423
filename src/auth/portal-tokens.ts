// Consumer portal tokens: `hps_` + 32 random bytes in base64url, handed out once in the
// portal URL. Like API keys, only a SHA-256 hash is stored; unlike them, each belongs to a
// session that expires (an hour by default, a week at most) and can be revoked, and it is
// checked against its row on every request, so revocation takes effect at once.
import { createHash, randomBytes } from 'node:crypto';

export const PORTAL_TOKEN_PREFIX = 'hps_';

export function generatePortalToken(): string {
  return PORTAL_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashPortalToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isPortalToken(token: string): boolean {
  return token.startsWith(PORTAL_TOKEN_PREFIX);
}
