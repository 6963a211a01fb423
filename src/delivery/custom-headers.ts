// Custom per-subscription headers, sent with every attempt of the subscription's deliveries.
// Names that carry hookd's own meaning (signatures, ids, framing) cannot be set, so a
// receiver can trust them; values may be credentials (an Authorization header), so they are
// write-only: responses and attempt logs show the names with masked values.

export const MAX_CUSTOM_HEADERS = 20;
export const MAX_HEADER_VALUE_BYTES = 4096;
export const MAX_HEADER_NAME_LENGTH = 256;
const MASKED_VALUE = '[redacted]';

/** RFC 9110 token characters. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, space and tab: no CR, LF or other control characters, no bytes undici would re-encode. */
export const FIELD_VALUE = /^[\t\x20-\x7e]*$/;
const RESERVED_NAMES = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'proxy-connection', 'expect', 'user-agent', 'traceparent', 'tracestate',
]);
const RESERVED_PREFIXES = ['webhook-', 'x-hub-signature', 'x-hookd-'];

const anyCase = (text: string) => [...text].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');

/** The names hookd sets itself, as a regular expression for the OpenAPI document (JSON Schema has no case-insensitive flag). */
export const RESERVED_NAME_PATTERN = `^(${[...RESERVED_NAMES].map((name) => `${anyCase(name)}$`).concat(RESERVED_PREFIXES.map(anyCase)).join('|')})`;

/** Why these headers cannot be used, naming the header at fault, or null when they can. */
export function customHeadersProblem(headers: Record<string, string>): string | null {
  const names = Object.keys(headers);
  if (names.length > MAX_CUSTOM_HEADERS) return `at most ${MAX_CUSTOM_HEADERS} headers are allowed, got ${names.length}`;
  const seen = new Set<string>();
  for (const name of names) {
    const lower = name.toLowerCase();
    if (name.length > MAX_HEADER_NAME_LENGTH || !TOKEN.test(name)) return `${JSON.stringify(name.slice(0, 100))} is not a valid header name`;
    if (RESERVED_NAMES.has(lower) || RESERVED_PREFIXES.some((prefix) => lower.startsWith(prefix))) {
      return `${name} is set by hookd and cannot be overridden`;
    }
    if (seen.has(lower)) return `${name} is given twice (header names are case-insensitive)`;
    seen.add(lower);
    const value = headers[name]!;
    if (!FIELD_VALUE.test(value)) return `the value of ${name} must be printable ASCII without line breaks`;
    if (value.length > MAX_HEADER_VALUE_BYTES) return `the value of ${name} is longer than ${MAX_HEADER_VALUE_BYTES} bytes`;
  }
  return null;
}

/** The headers with every value masked, for responses and attempt logs. */
export function maskHeaderValues(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((name) => [name, MASKED_VALUE]));
}
