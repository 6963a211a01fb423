/**
 * Receiver-side verification of hookd deliveries, published as `hookd/verify`
 * (compiled to dist/verify.js; see tsconfig.verify.json).
 *
 * ```js
 * import { verify } from 'hookd/verify';
 * const result = verify({ secret: process.env.HOOKD_SECRET, payload: rawBody, headers: req.headers });
 * if (!result.valid) return res.writeHead(401).end(result.reason);
 * ```
 *
 * `payload` must be the raw request body exactly as received (not re-serialized JSON).
 *
 * Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) is
 * checked when a `webhook-signature` header is present: the timestamp must lie
 * within `toleranceSeconds` of now in either direction, and any one of the
 * space-separated `v1,<base64>` signatures matching is enough (during secret
 * rotation hookd sends one per secret). If `webhook-signature` is present but
 * does not match, the request is rejected even when `x-hub-signature-256` would
 * match — no downgrade.
 *
 * Only when there is no `webhook-signature` header, `x-hub-signature-256`
 * (`sha256=<hex HMAC of the body>`) is checked instead. That signature covers the
 * body only, so no replay protection is possible: the timestamp is NOT checked
 * against the tolerance, and the result reports `id` = the `webhook-id` header
 * (or '' when absent) and `timestamp` = the `webhook-timestamp` header as an
 * integer (or 0 when absent or not an integer) — informational, unauthenticated.
 *
 * Secrets may be given as `whsec_<base64>` (base64-decoded key) or as a raw
 * string (UTF-8 bytes used as key), matching what hookd signs with. The
 * `x-hub-signature-256` fallback keys with the secret string's UTF-8 bytes as
 * given, `whsec_` included, as GitHub does.
 *
 * `verify` never throws for a bad signature or bad input; it returns
 * `{ valid: false, reason }` with a short machine-friendly reason.
 */
import { createHmac } from 'node:crypto';
import { secretKey, signaturesEqual, verifyHubSignature } from './standard-webhooks.ts';

export interface VerifyOptions {
  /** Subscription secret, `whsec_<base64>` or raw. */
  secret: string;
  /** Raw request body, exactly as received. Strings are encoded as UTF-8. */
  payload: string | Uint8Array;
  /** Request headers; names are matched case-insensitively. */
  headers: Record<string, string | string[] | undefined> | Headers;
  /** Allowed clock skew in seconds, both ways. Default 300. */
  toleranceSeconds?: number;
  /** Current time in unix seconds (for tests). Default: the system clock. */
  now?: number;
}

export type VerifyResult = { valid: true; id: string; timestamp: number } | { valid: false; reason: string };

const DEFAULT_TOLERANCE_SECONDS = 300;
const TIMESTAMP_RE = /^[0-9]{1,15}$/;

function fail(reason: string): VerifyResult {
  return { valid: false, reason };
}

type HeaderMap = Map<string, string[]>;

function addHeader(map: HeaderMap, name: unknown, value: unknown): void {
  if (typeof name !== 'string') return;
  const values: string[] = [];
  if (typeof value === 'string') values.push(value);
  else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') values.push(v);
  if (values.length === 0) return;
  const key = name.toLowerCase();
  const existing = map.get(key);
  if (existing) existing.push(...values);
  else map.set(key, values);
}

/** Lower-cased header name → all values. Accepts Headers (or any Map-like with forEach) and plain objects. */
function normalizeHeaders(headers: unknown): HeaderMap | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const map: HeaderMap = new Map();
  const forEach = (headers as { forEach?: unknown }).forEach;
  if (typeof forEach === 'function' && !Array.isArray(headers)) {
    (forEach as (cb: (value: unknown, key: unknown) => void) => void).call(headers, (value, key) =>
      addHeader(map, key, value),
    );
  } else if (!Array.isArray(headers)) {
    for (const name of Object.keys(headers)) addHeader(map, name, (headers as Record<string, unknown>)[name]);
  } else {
    return undefined;
  }
  return map;
}

function first(map: HeaderMap, name: string): string | undefined {
  const value = map.get(name)?.[0]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function parseTimestamp(value: string): number | undefined {
  return TIMESTAMP_RE.test(value) ? Number(value) : undefined;
}

/**
 * Verifies a hookd delivery (Standard Webhooks, falling back to
 * `X-Hub-Signature-256`). Never throws for a bad signature or bad input.
 */
export function verify(options: VerifyOptions): VerifyResult {
  try {
    return verifyUnsafe(options);
  } catch {
    // Defensive: every expected failure is handled explicitly below.
    return fail('invalid input');
  }
}

function verifyUnsafe(options: VerifyOptions): VerifyResult {
  if (options === null || typeof options !== 'object') return fail('options must be an object');
  const { secret, payload, headers } = options;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Math.floor(Date.now() / 1000);

  if (typeof secret !== 'string' || secret === '') return fail('secret must be a non-empty string');
  let key: Buffer;
  try {
    key = secretKey(secret);
  } catch {
    return fail('invalid secret');
  }
  let body: Uint8Array;
  if (typeof payload === 'string') body = Buffer.from(payload, 'utf8');
  else if (payload instanceof Uint8Array) body = payload;
  else return fail('payload must be a string or Uint8Array');
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) {
    return fail('toleranceSeconds must be a non-negative number');
  }
  if (typeof now !== 'number' || !Number.isFinite(now)) return fail('now must be a finite number');

  const map = normalizeHeaders(headers);
  if (!map) return fail('headers must be an object or Headers');

  const signatureHeader = map.get('webhook-signature')?.join(' ').trim();
  const id = first(map, 'webhook-id');
  const timestampHeader = first(map, 'webhook-timestamp');

  if (signatureHeader === undefined || signatureHeader === '') {
    const hub = first(map, 'x-hub-signature-256');
    if (hub === undefined) return fail('missing webhook-signature or x-hub-signature-256 header');
    if (!verifyHubSignature(secret, body, hub)) return fail('no matching signature');
    const timestamp = timestampHeader === undefined ? undefined : parseTimestamp(timestampHeader);
    return { valid: true, id: id ?? '', timestamp: timestamp ?? 0 };
  }

  if (id === undefined) return fail('missing webhook-id header');
  if (timestampHeader === undefined) return fail('missing webhook-timestamp header');
  const timestamp = parseTimestamp(timestampHeader);
  if (timestamp === undefined) return fail('invalid webhook-timestamp header');
  if (Math.abs(now - timestamp) > tolerance) return fail('timestamp outside tolerance');

  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest('base64');
  // Signatures are space-separated; a comma-joined duplicate header ("v1,a, v1,b")
  // leaves a trailing comma on the tokens, which is stripped.
  for (const token of signatureHeader.split(/\s+/)) {
    const cleaned = token.replace(/,+$/, '');
    const comma = cleaned.indexOf(',');
    if (comma < 0 || cleaned.slice(0, comma) !== 'v1') continue;
    if (signaturesEqual(cleaned.slice(comma + 1), expected)) return { valid: true, id, timestamp };
  }
  return fail('no matching signature');
}
