// API keys: `hk_` + 32 random bytes in base64url (256 bits). Only a SHA-256 hash of each key
// is stored, with a short prefix to recognise it by in listings.

export const API_KEY_PREFIX = 'hk_';
const WELL_FORMED = /^hk_[A-Za-z0-9_-]{32,256}$/;

/** `hk_` followed by at least 32 base64url characters (operators may bring their own, e.g. from HOOKD_API_KEY). */
export function isWellFormedApiKey(key: string): boolean {
  return WELL_FORMED.test(key);
}

/** An API key as stored: never the key itself. */
export interface ApiKey {
  id: string;
  name: string | null;
  /** The first characters of the key, e.g. `hk_3fZq9`, for listings. */
  prefix: string;
  /** Hex SHA-256 of the whole key. */
  hash: string;
  /** The one application the key may see; null: an admin key, which sees every application and manages keys. */
  applicationId: string | null;
  /** May only read: every write answers 403. */
  readOnly: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}
