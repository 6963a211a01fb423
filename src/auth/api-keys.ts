// Making API keys and storing them: `hk_` + 32 random bytes in base64url (256 bits). Only a
// SHA-256 hash of each key is stored. A fast hash is the right choice here, unlike for
// passwords: slow hashes (scrypt, argon2) exist to make guessing low-entropy human passwords
// expensive, but nobody can enumerate 2^256 keys at any hash speed, and a slow hash would
// cost every API request tens of milliseconds of CPU.
import { createHash, randomBytes } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { API_KEY_PREFIX, type ApiKey } from '../domain/index.ts';
import type { ApiKeys } from '../store/contracts.ts';

const KEY_BYTES = 32;
/** Characters of a key shown in listings: `hk_` and 8 more, too few to help guess the rest. */
const SHOWN_CHARS = API_KEY_PREFIX.length + 8;

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** An admin key: every application, and the keys themselves. */
export const ADMIN: Pick<ApiKey, 'applicationId' | 'readOnly'> = { applicationId: null, readOnly: false };

/** What is stored for a key: its hash and the first characters, never the key. */
export function apiKeyRecord(key: string, name: string | null, now: number, scope: Pick<ApiKey, 'applicationId' | 'readOnly'> = ADMIN): ApiKey {
  return { id: uuidv7(), name, prefix: key.slice(0, SHOWN_CHARS), hash: hashApiKey(key), ...scope, createdAt: now, lastUsedAt: null, revokedAt: null };
}

export type BootstrapResult = 'created' | 'exists' | 'revoked';

/** Stores the hash of the key from HOOKD_API_KEY unless it is there already (revoked keys stay revoked). */
export async function bootstrapApiKey(apiKeys: Pick<ApiKeys, 'create' | 'list'>, key: string, now: number): Promise<BootstrapResult> {
  if (await apiKeys.create(apiKeyRecord(key, 'HOOKD_API_KEY', now))) return 'created';
  const hash = hashApiKey(key);
  const existing = (await apiKeys.list()).find((k) => k.hash === hash);
  return existing?.revokedAt == null ? 'exists' : 'revoked';
}
