// What every destination kind is given and answers: one outgoing webhook in, one attempt
// result out, whether it went over HTTP or to a broker. The headers are built here once, so
// a broker's message carries exactly the headers (and signatures) an HTTP receiver gets.
import type { AttemptOutcome, BrokerDestination, TraceContext } from '../../domain/index.ts';
import { signatureHeaders } from '../../signing/standard-webhooks.ts';
import { traceHeaders } from '../../tracing/trace-context.ts';
import { VERSION } from '../../version.ts';
import { maskHeaderValues } from '../custom-headers.ts';
import type { LookupAll } from '../ssrf/guarded-connector.ts';
import type { NetworkPolicy } from '../ssrf/network-policy.ts';

export interface OutgoingWebhook {
  /** The HTTP receiver; null when `destination` names a broker. */
  url: string | null;
  /** The broker to publish to; null for an HTTP receiver. */
  destination: BrokerDestination | null;
  /** Every secret signs `webhook-signature`; the first also signs `x-hub-signature-256`. */
  secrets: readonly string[];
  /** The subscription's custom headers; hookd's own headers are set after them. */
  headers: Readonly<Record<string, string>>;
  /** Stable across retries: the event id (`webhook-id`). */
  messageId: string;
  deliveryId: string;
  eventType: string;
  attemptNumber: number;
  body: Uint8Array;
  /** The trace the receiver continues (`traceparent`, `tracestate`); none when null. */
  trace?: TraceContext | null;
  /** Aborts the attempt (used when shutdown runs out of time). */
  signal?: AbortSignal;
}

export interface SendResult {
  outcome: AttemptOutcome;
  statusCode: number | null;
  errorDetails: string | null;
  durationMs: number;
  /** What the receiver answered: an HTTP body's first bytes, or a broker's acknowledgement. */
  responseBody: string | null;
  requestHeaders: Record<string, string>;
  /** The receiver's Retry-After header, when it sent one. */
  retryAfter: string | null;
}

export interface SenderOptions {
  policy: NetworkPolicy;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  lookup?: LookupAll;
  clock?: () => number;
  /** How long a broker connection stays open unused before it is closed (default 60 s). */
  brokerIdleMs?: number;
}

/** One destination kind: sends one attempt to destinations of type D. */
export interface DestinationSender<D> {
  send(destination: D, webhook: OutgoingWebhook): Promise<SendResult>;
  /** Closes every connection it holds. */
  close(): Promise<void>;
}

/**
 * hookd's headers for one attempt: the Standard Webhooks signature headers, the event type,
 * the delivery id and attempt number, and the W3C trace context when there is one. `sent` are the headers to send (custom ones first);
 * `logged` what the attempt log keeps (custom header values masked: they may be credentials).
 */
export function webhookHeaders(webhook: OutgoingWebhook, timestamp: number): { sent: Record<string, string>; logged: Record<string, string> } {
  const hookdHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': `hookd/${VERSION}`,
    ...signatureHeaders(webhook.secrets, webhook.messageId, timestamp, webhook.body),
    'x-hookd-event-type': webhook.eventType,
    'x-hookd-delivery-id': webhook.deliveryId,
    'x-hookd-attempt': String(webhook.attemptNumber),
    ...traceHeaders(webhook.trace),
  };
  return { sent: { ...webhook.headers, ...hookdHeaders }, logged: { ...maskHeaderValues(webhook.headers), ...hookdHeaders } };
}
