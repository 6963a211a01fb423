// Encryption at rest of the secrets hookd stores (subscription signing secrets and custom
// header values). The store's row converters seal on write and open on read, so nothing
// above the store ever handles ciphertext.
//
// A sealed value is `enc:v1:` + base64url(iv ‖ ciphertext ‖ tag), AES-256-GCM with a fresh
// 96-bit IV per value. The prefix lets plain and sealed values live side by side, so turning
// encryption on needs no migration. The additional authenticated data names the row and the
// column, so a sealed value copied into another row or column fails to open instead of
// signing with the wrong secret.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const SEALED_PREFIX = 'enc:v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A stored secret that cannot be read: encrypted but no key configured, or the wrong key. */
export class SecretUnavailableError extends Error {
  override name = 'SecretUnavailableError';
  readonly code = 'HOOKD_SECRET_UNAVAILABLE';
}

/** Parses HOOKD_ENCRYPTION_KEY: 32 bytes as base64 (e.g. `openssl rand -base64 32`). */
export function parseEncryptionKey(raw: string): Buffer {
  const text = raw.trim();
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || key.length !== KEY_BYTES) {
    throw new Error(`must be ${KEY_BYTES} bytes in base64 (generate one with: openssl rand -base64 32)`);
  }
  return key;
}

export class SecretBox {
  readonly #key: Buffer | null;

  /** Without a key, values are stored as given, and sealed ones cannot be opened. */
  constructor(key: Buffer | null = null) {
    if (key !== null && key.length !== KEY_BYTES) throw new TypeError(`the encryption key must be ${KEY_BYTES} bytes`);
    this.#key = key;
  }

  get encrypting(): boolean {
    return this.#key !== null;
  }

  /** `context` names where the value is kept (e.g. `subscriptions.secret:<id>`). */
  seal(value: string, context: string): string {
    if (this.#key === null) {
      // Stored as given, it would read back as an encrypted value: refuse rather than store
      // something ambiguous (the API refuses such input with 422 value_looks_encrypted first).
      if (value.startsWith(SEALED_PREFIX)) {
        throw new TypeError(`${context} begins with "${SEALED_PREFIX}" and cannot be stored in plain text: it would read back as an encrypted value`);
      }
      return value;
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const sealed = Buffer.concat([iv, cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return SEALED_PREFIX + sealed.toString('base64url');
  }

  /** Plain values pass through; sealed ones are decrypted or throw SecretUnavailableError. */
  open(value: string, context: string): string {
    if (!value.startsWith(SEALED_PREFIX)) return value;
    if (this.#key === null) {
      throw new SecretUnavailableError(`${context} is encrypted, but HOOKD_ENCRYPTION_KEY is not set: set the key it was encrypted with (a plain value that merely begins with "${SEALED_PREFIX}", stored before hookd refused such values, must be changed in the database; see README, Encryption at rest)`);
    }
    const sealed = Buffer.from(value.slice(SEALED_PREFIX.length), 'base64url');
    if (sealed.length < IV_BYTES + TAG_BYTES) throw new SecretUnavailableError(`${context} is not a valid encrypted value`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretUnavailableError(`${context} cannot be decrypted with this HOOKD_ENCRYPTION_KEY (it was encrypted with another key)`);
    }
  }
}
