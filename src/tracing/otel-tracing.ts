// The OpenTelemetry SDK behind Tracing: a tracer provider of its own (nothing is registered
// globally), a batch span processor and an OTLP/HTTP exporter (protobuf or JSON). Imported
// only by startTracing, so a hookd with tracing off never loads an OpenTelemetry package.
//
// Spans follow the messaging conventions, hookd being the intermediary between a producer
// and its receivers:
//   ingest {event_type}   PRODUCER, a child of the request's traceparent when it has a valid
//                         one (else a new trace); its context is stored with the event.
//   deliver {event_type}  CLIENT, one per attempt, a child of the stored context and linked
//                         to it (the attempt may run hours later); the receiver gets this
//                         span as the parent in `traceparent`, in the producer's trace.
import { DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, createTraceState, diag, trace, type Attributes, type Span, type SpanContext } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type Sampler,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { TracingConfig } from '../config.ts';
import type { Delivery, Subscription, TraceContext } from '../domain/index.ts';
import { VERSION } from '../version.ts';
import { formatTraceparent, incomingTraceContext } from './trace-context.ts';
import type { AttemptEnd, AttemptSpan, IngestSpan, Tracing } from './tracing.ts';

/** hookd's own attribute names, beside the semantic conventions' (messaging.* is still incubating there). */
const ATTR = {
  messagingSystem: 'messaging.system',
  destinationKind: 'hookd.destination.type',
  messagingOperationType: 'messaging.operation.type',
  messagingOperationName: 'messaging.operation.name',
  messagingMessageId: 'messaging.message.id',
  messagingDestination: 'messaging.destination.name',
  eventType: 'hookd.event.type',
  subscriptionId: 'hookd.subscription.id',
  applicationId: 'hookd.application.id',
  deliveryId: 'hookd.delivery.id',
  deliveries: 'hookd.deliveries',
  attemptNumber: 'hookd.attempt.number',
  outcome: 'hookd.attempt.outcome',
  deliveryStatus: 'hookd.delivery.status',
} as const;

/**
 * The application a subscription belongs to. THE ONE PLACE to adapt when applications
 * (tenants) land: read defensively until the field exists on Subscription.
 */
function applicationOf(subscription: Subscription): string | null {
  return subscription.applicationId;
}

function sampler(config: TracingConfig): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return ratio();
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio() });
  }
}

function remoteParent(context: TraceContext): SpanContext {
  const [, traceId, spanId, flags] = context.traceparent.split('-') as [string, string, string, string];
  return {
    traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true,
    ...(context.tracestate !== null && { traceState: createTraceState(context.tracestate) }),
  };
}

function contextOf(span: Span, tracestate: string | null): TraceContext {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { traceparent: formatTraceparent(traceId, spanId, traceFlags), tracestate };
}

const MESSAGING: Attributes = { [ATTR.messagingSystem]: 'hookd' };
/** The ports a destination URL means when it names none. */
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'amqp:': 5672, 'amqps:': 5671, 'nats:': 4222, 'redis:': 6379, 'rediss:': 6379 };

export class OtelTracing implements Tracing {
  readonly #provider: TracerProvider;
  readonly #tracer;

  constructor(config: TracingConfig, logger: Logger) {
    // Export failures are worth a warning; the SDK's chatter below that is not.
    const log = logger.child({ component: 'tracing' });
    diag.setLogger({
      error: (message, ...args) => log.warn({ args }, message),
      warn: (message, ...args) => log.warn({ args }, message),
      info: () => {}, debug: () => {}, verbose: () => {},
    }, DiagLogLevel.WARN);
    const Exporter = config.protocol === 'http/json' ? JsonTraceExporter : ProtobufTraceExporter;
    const resource = defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName, [ATTR_SERVICE_VERSION]: VERSION }))
      .merge(detectResources({ detectors: [envDetector] }))
      // OTEL_SERVICE_NAME as hookd read it, over the detector's copy (the same unless config came from elsewhere).
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }));
    this.#provider = new TracerProvider({
      resource,
      sampler: sampler(config),
      spanProcessors: [new BatchSpanProcessor({
        exporter: new Exporter({ url: config.endpoint }),
        scheduledDelayMillis: config.scheduleDelayMs,
        maxQueueSize: config.maxQueueSize,
        maxExportBatchSize: Math.min(512, config.maxQueueSize),
      })],
    });
    this.#tracer = this.#provider.getTracer('hookd', VERSION);
    log.info({ endpoint: config.endpoint, protocol: config.protocol, sampler: config.sampler }, `tracing on: spans go to ${config.endpoint} (${config.protocol})`);
  }

  startIngest(route: string, headers: IncomingHttpHeaders): IngestSpan {
    const incoming = incomingTraceContext(headers);
    const parent = incoming ? trace.setSpanContext(ROOT_CONTEXT, remoteParent(incoming)) : ROOT_CONTEXT;
    const span = this.#tracer.startSpan('ingest', {
      kind: SpanKind.PRODUCER,
      attributes: {
        ...MESSAGING, [ATTR.messagingOperationType]: 'send', [ATTR.messagingOperationName]: 'ingest',
        [ATTR_HTTP_REQUEST_METHOD]: 'POST', [ATTR_HTTP_ROUTE]: route,
      },
    }, parent);
    return {
      trace: contextOf(span, incoming?.tracestate ?? null),
      accepted({ eventId, eventType, deliveries, subscription }) {
        span.updateName(`ingest ${eventType}`);
        span.setAttributes({
          [ATTR.messagingMessageId]: eventId, [ATTR.messagingDestination]: eventType, [ATTR.eventType]: eventType, [ATTR.deliveries]: deliveries,
        });
        if (subscription) {
          span.setAttribute(ATTR.subscriptionId, subscription.id);
          const application = applicationOf(subscription);
          if (application !== null) span.setAttribute(ATTR.applicationId, application);
        }
      },
      end(statusCode, errorCode) {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
        // The event was not accepted: for a producer span that is a failure, whoever's fault.
        if (statusCode >= 400) {
          span.setAttribute(ATTR_ERROR_TYPE, errorCode ?? String(statusCode));
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode ?? `HTTP ${statusCode}` });
        }
        span.end();
      },
    };
  }

  startAttempt(attempt: { subscription: Subscription; delivery: Delivery; attemptNumber: number; targetUrl: string | null }, event: TraceContext | null): AttemptSpan {
    const { subscription, delivery, attemptNumber } = attempt;
    const parent = event ? remoteParent(event) : null;
    const broker = subscription.destination;
    const target = new URL(broker ? broker.url : attempt.targetUrl ?? '');
    const attributes: Attributes = {
      ...MESSAGING, [ATTR.messagingOperationType]: 'send', [ATTR.messagingOperationName]: 'deliver',
      [ATTR.messagingMessageId]: delivery.eventId, [ATTR.messagingDestination]: delivery.eventType,
      [ATTR.eventType]: delivery.eventType, [ATTR.subscriptionId]: subscription.id, [ATTR.deliveryId]: delivery.id,
      [ATTR.attemptNumber]: attemptNumber,
      // The host and port only: a URL's credentials, path and query may hold secrets.
      [ATTR_SERVER_ADDRESS]: target.hostname,
      [ATTR_SERVER_PORT]: Number(target.port || DEFAULT_PORTS[target.protocol] || 0),
      ...(broker ? { [ATTR.destinationKind]: broker.type } : { [ATTR_HTTP_REQUEST_METHOD]: 'POST' }),
    };
    const application = applicationOf(subscription);
    if (application !== null) attributes[ATTR.applicationId] = application;
    const span = this.#tracer.startSpan(`deliver ${delivery.eventType}`, {
      kind: SpanKind.CLIENT,
      attributes,
      links: parent ? [{ context: parent }] : [],
    }, parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT);
    return {
      trace: contextOf(span, event?.tracestate ?? null),
      end(result: AttemptEnd) {
        span.setAttributes({ [ATTR.outcome]: result.outcome, [ATTR.deliveryStatus]: result.deliveryStatus });
        if (result.statusCode !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.statusCode);
        if (result.outcome !== 'success') {
          span.setAttribute(ATTR_ERROR_TYPE, result.statusCode !== null ? String(result.statusCode) : result.outcome);
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.errorDetails ?? result.outcome });
        }
        span.end();
      },
    };
  }

  async shutdown(): Promise<void> {
    await this.#provider.shutdown();
  }
}
