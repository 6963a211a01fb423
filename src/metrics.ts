// Prometheus metrics of one hookd process, in a registry of its own (not prom-client's global
// one) so that several apps can run in one process, as the tests do. Queue gauges are read
// from the store at scrape time, so they are the same from every process sharing a database;
// counters and histograms count what this process did. Labels have a few fixed values only:
// never a subscription id or a URL, and an application id only when the operator opts in
// (HOOKD_METRICS_APPLICATION_LABELS), knowing how many applications there are.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ATTEMPT_OUTCOMES, type AttemptOutcome, type Delivery, type DeliveryStatus } from './domain/index.ts';
import type { PendingFigures, ReadModels } from './store/contracts.ts';

const INGEST_PATHS = ['subscription', 'fan_out'] as const;
export type IngestPath = (typeof INGEST_PATHS)[number];

export const LIVE_STREAM_CLOSE_REASONS = ['lagging', 'key_revoked', 'key_required', 'shutting_down'] as const;
export type LiveStreamCloseReason = (typeof LIVE_STREAM_CLOSE_REASONS)[number];

export interface LiveStreamFigures {
  open: number;
  bufferedBytes: number;
}

export interface MetricsOptions {
  readModels: Pick<ReadModels, 'pendingFigures' | 'countOpenCircuits'>;
  clock: () => number;
  /** Deliveries this process is sending now (0 where no dispatcher runs). */
  inFlight: () => number;
  /** Count attempts per application too (HOOKD_METRICS_APPLICATION_LABELS). */
  applicationLabels?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  readonly #eventsIngested = new Counter({
    name: 'hookd_events_ingested_total',
    help: 'Events accepted (committed and answered 202), by ingest path.',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });

  readonly #deliveriesCreated = new Counter({
    name: 'hookd_deliveries_created_total',
    help: 'Deliveries created by ingestion, by initial status (queued, or filtered when the subscription does not take the event type).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly #ingestDuration = new Histogram({
    name: 'hookd_ingest_duration_seconds',
    help: 'Time to commit an accepted event and its deliveries (waiting for a shared group commit included), by ingest path.',
    labelNames: ['path'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly #attempts = new Counter({
    name: 'hookd_attempts_total',
    help: 'Delivery attempts recorded, by what they did to the delivery: succeeded, retrying (another attempt is scheduled) or failed (no attempts left, or the address is blocked).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly #attemptDuration = new Histogram({
    name: 'hookd_delivery_attempt_duration_seconds',
    help: 'Duration of one delivery attempt (connect, request and response), by attempt outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly #applicationAttempts: Counter<'application' | 'outcome'> | null;

  readonly #retentionDeleted = new Counter({
    name: 'hookd_retention_deleted_total',
    help: 'Finished deliveries deleted by the retention job.',
    registers: [this.registry],
  });

  readonly #liveStreamsClosed = new Counter({
    name: 'hookd_live_streams_closed_total',
    help: 'Live attempt streams (/api/v1/attempts/stream) hookd ended, by reason: lagging (the client read too slowly), key_revoked, key_required, shutting_down.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  #liveStreams: () => LiveStreamFigures = () => ({ open: 0, bufferedBytes: 0 });

  constructor(options: MetricsOptions) {
    const { readModels, clock, inFlight } = options;
    this.#applicationAttempts = options.applicationLabels
      ? new Counter({
        name: 'hookd_application_attempts_total',
        help: 'Delivery attempts recorded, by application id and by what they did to the delivery (as hookd_attempts_total). Only with HOOKD_METRICS_APPLICATION_LABELS=true.',
        labelNames: ['application', 'outcome'] as const,
        registers: [this.registry],
      })
      : null;
    // The three queue gauges are collected together at each scrape: one query serves them all.
    let pending: Promise<PendingFigures> | null = null;
    const figures = () => (pending ??= readModels.pendingFigures(clock()).finally(() => {
      pending = null;
    }));
    const queueGauge = (name: string, help: string, read: (f: PendingFigures) => number) => new Gauge({
      name, help, registers: [this.registry],
      async collect() {
        this.set(read(await figures()));
      },
    });
    queueGauge('hookd_queue_depth', 'Deliveries not finished yet: queued or being delivered (all processes).', (f) => f.depth);
    queueGauge('hookd_queue_due_now', 'Queued deliveries whose time has come (all processes).', (f) => f.dueNow);
    queueGauge('hookd_queue_oldest_due_age_seconds', 'How long the oldest due delivery has been waiting; grows when workers fall behind.', (f) => f.oldestDueAgeMs / 1000);
    new Gauge({
      name: 'hookd_circuits_open',
      help: 'Subscriptions whose circuit breaker is open or probing: their deliveries wait (all processes).',
      registers: [this.registry],
      async collect() {
        this.set(await readModels.countOpenCircuits());
      },
    });
    new Gauge({
      name: 'hookd_deliveries_in_flight',
      help: 'Delivery attempts this process is sending now.',
      registers: [this.registry],
      collect() {
        this.set(inFlight());
      },
    });
    const liveStreams = () => this.#liveStreams();
    new Gauge({
      name: 'hookd_live_streams',
      help: 'Live attempt streams open on this process.',
      registers: [this.registry],
      collect() {
        this.set(liveStreams().open);
      },
    });
    new Gauge({
      name: 'hookd_live_stream_buffered_bytes',
      help: 'Bytes this process holds for live-stream clients that have not read them yet (bounded per stream).',
      registers: [this.registry],
      collect() {
        this.set(liveStreams().bufferedBytes);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'hookd_' });
    // Every label value is exported from the start, at 0, so rates and alerts see a series
    // before the first event rather than none.
    for (const path of INGEST_PATHS) {
      this.#eventsIngested.inc({ path }, 0);
      this.#ingestDuration.zero({ path });
    }
    for (const status of ['queued', 'filtered']) this.#deliveriesCreated.inc({ status }, 0);
    for (const outcome of ['succeeded', 'retrying', 'failed']) this.#attempts.inc({ outcome }, 0);
    for (const outcome of ATTEMPT_OUTCOMES) this.#attemptDuration.zero({ outcome });
    for (const reason of LIVE_STREAM_CLOSE_REASONS) this.#liveStreamsClosed.inc({ reason }, 0);
  }

  /** Where the live-stream gauges read their figures at scrape time. */
  observeLiveStreams(read: () => LiveStreamFigures): void {
    this.#liveStreams = read;
  }

  liveStreamClosed(reason: LiveStreamCloseReason): void {
    this.#liveStreamsClosed.inc({ reason });
  }

  /** Starts timing one ingest; call the result once its event and deliveries are committed. */
  startIngest(path: IngestPath): (deliveries: readonly Pick<Delivery, 'status'>[]) => void {
    const stop = this.#ingestDuration.startTimer({ path });
    return (deliveries) => {
      stop();
      this.#eventsIngested.inc({ path });
      for (const delivery of deliveries) this.#deliveriesCreated.inc({ status: delivery.status });
    };
  }

  /** One attempt written, with the status it left its delivery in. */
  attemptRecorded(outcome: AttemptOutcome, durationMs: number, next: DeliveryStatus, applicationId: string): void {
    this.#attemptDuration.observe({ outcome }, durationMs / 1000);
    const label = next === 'succeeded' || next === 'failed' ? next : 'retrying';
    this.#attempts.inc({ outcome: label });
    this.#applicationAttempts?.inc({ application: applicationId, outcome: label });
  }

  retentionDeleted(count: number): void {
    this.#retentionDeleted.inc(count);
  }

  /** The exposition text for one scrape. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
