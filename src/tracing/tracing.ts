// OpenTelemetry tracing as the rest of hookd sees it: a span per ingest request and per
// delivery attempt. Types only; start-tracing.ts loads the implementation when tracing is on.
import type { IncomingHttpHeaders } from 'node:http';
import type { AttemptOutcome, Delivery, DeliveryStatus, Subscription, TraceContext } from '../domain/index.ts';

/** The span of one ingest request (POST /ingest/{id}, POST /events): a producer span. */
export interface IngestSpan {
  /**
   * The trace context stored with the event: this span as the parent, in the producer's
   * trace when the request had a valid `traceparent`, with its `tracestate`.
   */
  readonly trace: TraceContext;
  /** The event was accepted (a repeated Idempotency-Key accepts none). */
  accepted(event: { eventId: string; eventType: string; deliveries: number; subscription?: Subscription }): void;
  /** The answer was sent; `errorCode` is the API error code of a refusal. */
  end(statusCode: number, errorCode?: string): void;
}

/** What an attempt did, for its span. */
export interface AttemptEnd {
  outcome: AttemptOutcome;
  statusCode: number | null;
  errorDetails: string | null;
  /** Where the delivery stands after it (queued for a retry, succeeded, failed). */
  deliveryStatus: DeliveryStatus;
}

/** The span of one delivery attempt: a child of the event's trace context, linked to it. */
export interface AttemptSpan {
  /** What the attempt carries to the receiver (traceHeaders): the event's trace, this span as the parent. */
  readonly trace: TraceContext;
  end(result: AttemptEnd): void;
}

export interface Tracing {
  startIngest(route: string, headers: IncomingHttpHeaders): IngestSpan;
  startAttempt(attempt: { subscription: Subscription; delivery: Delivery; attemptNumber: number; targetUrl: string | null }, event: TraceContext | null): AttemptSpan;
  /** Exports the spans still held, then stops. */
  shutdown(): Promise<void>;
}
