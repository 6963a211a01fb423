// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and
// `tracestate` headers an ingest request may carry, checked strictly (they come from anyone
// who can ingest, and are stored and sent on to receivers), and the headers an attempt
// carries on so that its receiver continues the producer's trace. Needs no OpenTelemetry
// package: with tracing off, hookd still passes a producer's trace context on.
import type { IncomingHttpHeaders } from 'node:http';
import type { TraceContext } from '../domain/index.ts';

/** version 00: `00-<trace id>-<parent id>-<flags>`, lowercase hex only. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const TRACEPARENT_LENGTH = 55;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** Longer headers are refused before they are looked at. */
const MAX_TRACESTATE_HEADER = 8192;
const MAX_TRACESTATE_MEMBERS = 32;
/** The spec asks that at least this much be passed on; hookd passes on no more. */
const MAX_TRACESTATE_LENGTH = 512;
/** Dropped first when the whole is too long, as the spec suggests. */
const LONG_MEMBER = 128;
const TRACESTATE_KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * The traceparent as version 00, or null when it is not well formed: wrong length or
 * separators, uppercase or non-hex digits, version ff, an all-zero trace or parent id. A
 * later version is read as its first four fields, as the spec says.
 */
export function parseTraceparent(value: unknown): string | null {
  if (typeof value !== 'string' || value.length < TRACEPARENT_LENGTH) return null;
  const head = value.length === TRACEPARENT_LENGTH ? value : value.slice(0, TRACEPARENT_LENGTH);
  const match = TRACEPARENT.exec(head);
  if (!match) return null;
  const [, version, traceId, parentId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff') return null;
  if (value.length > TRACEPARENT_LENGTH && (version === '00' || value[TRACEPARENT_LENGTH] !== '-')) return null;
  if (traceId === ZERO_TRACE_ID || parentId === ZERO_SPAN_ID) return null;
  return `00-${traceId}-${parentId}-${flags}`;
}

/**
 * The tracestate list, its members rejoined without spaces, or null when it is absent or not
 * well formed (a bad key or value, a repeated key, more than 32 members). Over 512
 * characters, members are dropped (long ones first, then from the end) until it fits.
 */
export function parseTracestate(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_TRACESTATE_HEADER) return null;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of value.split(',')) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (member === '') continue;
    const equals = member.indexOf('=');
    if (equals <= 0) return null;
    const key = member.slice(0, equals);
    if (!TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(member.slice(equals + 1)) || keys.has(key)) return null;
    keys.add(key);
    members.push(member);
    if (members.length > MAX_TRACESTATE_MEMBERS) return null;
  }
  let kept = members;
  const length = () => kept.join(',').length;
  if (length() > MAX_TRACESTATE_LENGTH) kept = kept.filter((m) => m.length <= LONG_MEMBER);
  while (length() > MAX_TRACESTATE_LENGTH) kept = kept.slice(0, -1);
  return kept.length === 0 ? null : kept.join(',');
}

/**
 * The trace context of an incoming request, or null when it has no valid `traceparent`
 * (a malformed one is dropped with its `tracestate`; a malformed `tracestate` alone is
 * dropped and the `traceparent` kept).
 */
export function incomingTraceContext(headers: IncomingHttpHeaders): TraceContext | null {
  const traceparent = parseTraceparent(headers.traceparent);
  return traceparent === null ? null : { traceparent, tracestate: parseTracestate(headers.tracestate) };
}

/** A version-00 traceparent naming a span as the parent (`flags`: the W3C trace flags, bit 0 = sampled). */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The headers that carry a trace context to a receiver: `traceparent` and, when there is
 * one, `tracestate`; none without a context. Every destination kind sends these, as HTTP
 * headers or as message headers.
 */
export function traceHeaders(trace: TraceContext | null | undefined): Record<string, string> {
  if (!trace) return {};
  return trace.tracestate === null ? { traceparent: trace.traceparent } : { traceparent: trace.traceparent, tracestate: trace.tracestate };
}
