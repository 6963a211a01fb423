/**
 * Server-side signing primitives of hookd.
 *
 * Two signature schemes are produced for every delivery attempt:
 *
 * - Standard Webhooks (https://www.standardwebhooks.com/): `webhook-id`,
 *   `webhook-timestamp` and `webhook-signature` headers, where the signature is
 *   `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)).
 * - GitHub style: `x-hub-signature-256: sha256=` + hex(HMAC-SHA256(secret, body)),
 *   for receivers that already know how to check GitHub webhooks.
 *
 * The keys differ, as each scheme's own tools expect: Standard Webhooks keys with
 * `secretKey(secret)` (secrets of the form `whsec_<base64>` are base64-decoded, any
 * other secret is used as its UTF-8 bytes), while `x-hub-signature-256` keys with the
 * secret string's UTF-8 bytes exactly as the user sees it, `whsec_` prefix included,
 * as GitHub does (`hubKey`).
 *
 * This module depends only on node:crypto; it is also compiled to JavaScript
 * (dist/) together with ./verify.ts for the `hookd/verify` package export, so it
 * must stay self-contained.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

const WHSEC_PREFIX = 'whsec_';
/** Standard or URL-safe base64, optional padding. */
const BASE64_RE = /^[A-Za-z0-9+/_-]+={0,2}$/;
const HUB_RE = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Key bytes of a secret: base64-decoded part after `whsec_`, or the secret's
 * UTF-8 bytes otherwise.
 *
 * Throws a TypeError when the secret is not a string, when a `whsec_` secret is
 * not valid base64, or when the resulting key is empty (an HMAC with an empty
 * key authenticates nothing).
 */
export function secretKey(secret: string): Buffer {
  if (typeof secret !== 'string') throw new TypeError('secret must be a string');
  let key: Buffer;
  if (secret.startsWith(WHSEC_PREFIX)) {
    const encoded = secret.slice(WHSEC_PREFIX.length);
    if (!BASE64_RE.test(encoded)) throw new TypeError('whsec_ secret is not valid base64');
    key = Buffer.from(encoded, 'base64');
  } else {
    key = Buffer.from(secret, 'utf8');
  }
  if (key.length === 0) throw new TypeError('secret must not be empty');
  return key;
}

/**
 * Key bytes of `x-hub-signature-256`: the secret string's UTF-8 bytes, whatever its form, as
 * GitHub keys it, so code written for GitHub webhooks checks hookd's with the secret as shown.
 * Throws a TypeError for a non-string or empty secret.
 */
export function hubKey(secret: string): Buffer {
  if (typeof secret !== 'string') throw new TypeError('secret must be a string');
  if (secret === '') throw new TypeError('secret must not be empty');
  return Buffer.from(secret, 'utf8');
}

const KEY_CACHE_SIZE = 1000;

/**
 * HMAC keys as KeyObjects, made once per secret: createHmac checks a raw Buffer key on every
 * call, which cost about 9 % of a busy process (11.6 µs vs 2.2 µs).
 */
function keyCache(derive: (secret: string) => Buffer): (secret: string) => KeyObject {
  const keyObjects = new Map<string, KeyObject>();
  return (secret) => {
    let key = keyObjects.get(secret);
    if (!key) {
      key = createSecretKey(derive(secret));
      if (keyObjects.size >= KEY_CACHE_SIZE) keyObjects.delete(keyObjects.keys().next().value as string);
      keyObjects.set(secret, key);
    }
    return key;
  };
}

const hmacKey = keyCache(secretKey);
const hubHmacKey = keyCache(hubKey);

function assertTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError('timestamp must be a non-negative integer (unix seconds)');
  }
}

function standardDigest(key: KeyObject, id: string, timestamp: number, body: Uint8Array): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest('base64');
}

/**
 * Standard Webhooks signature: `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)).
 * The body bytes are signed exactly as given (no re-encoding).
 */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: Uint8Array): string {
  assertTimestamp(timestamp);
  return `v1,${standardDigest(hmacKey(secret), id, timestamp, body)}`;
}

/** GitHub style: `sha256=` + hex(HMAC-SHA256(key, body)), key = the secret's UTF-8 bytes (hubKey). */
export function hubSignature(secret: string, body: Uint8Array): string {
  return `sha256=${createHmac('sha256', hubHmacKey(secret)).update(body).digest('hex')}`;
}

/**
 * Constant-time check of an `X-Hub-Signature-256` header value against the body.
 * Never throws: a malformed header, a non-string argument or an unusable secret
 * all yield `false`.
 *
 * hookd also uses this for ingest checking (producers signing the events they
 * submit): the key is the subscription secret's UTF-8 bytes exactly as for
 * outgoing deliveries (`hubKey`), `whsec_` prefix included, as GitHub does.
 */
export function verifyHubSignature(secret: string, body: Uint8Array, header: string): boolean {
  try {
    if (typeof header !== 'string' || !(body instanceof Uint8Array)) return false;
    const match = HUB_RE.exec(header.trim());
    if (!match) return false;
    const given = Buffer.from(match[1]!, 'hex');
    const expected = createHmac('sha256', hubHmacKey(secret)).update(body).digest();
    return given.length === expected.length && timingSafeEqual(given, expected);
  } catch {
    return false;
  }
}

/**
 * Builds the signing headers of one attempt: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature` (space-separated `v1,...`, one per secret — several secrets
 * during rotation, so receivers holding either the old or the new secret accept
 * the delivery) and `x-hub-signature-256` (computed with the first secret only).
 *
 * Throws a TypeError when `secrets` is empty or a secret is unusable.
 */
export function signatureHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: Uint8Array,
): Record<string, string> {
  if (secrets.length === 0) throw new TypeError('at least one secret is required');
  assertTimestamp(timestamp);
  const signatures = secrets.map((secret) => `v1,${standardDigest(hmacKey(secret), id, timestamp, body)}`);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
    'x-hub-signature-256': hubSignature(secrets[0]!, body),
  };
}

/**
 * Constant-time comparison of two ASCII signature strings (e.g. the base64 part
 * of `v1,...`). Only the length may leak, which is public anyway.
 * @internal used by ./verify.ts
 */
export function signaturesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
