// Deletes finished deliveries, their attempts and orphaned events once they are older than
// the retention period. Works in small batches, each followed by a pause twice as long as
// the batch took (PAUSE_PER_BATCH_TIME), so that deleting takes at most a third of the
// database's time (and, on SQLite, of the event loop) from ingestion and delivery; small
// batches keep each stall short. That still deletes several times faster than hookd can
// ingest. Unfinished deliveries are never deleted, however old.
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import type { IdempotencyKeys, Maintenance } from '../store/contracts.ts';
import { IDEMPOTENCY_WINDOW_MS } from '../ingest/ingestor.ts';

const BATCH_SIZE = 200;
const MIN_PAUSE_BETWEEN_BATCHES_MS = 5;
/** The pause after a batch, in multiples of the time the batch took. */
const PAUSE_PER_BATCH_TIME = 2;

/** Waits PAUSE_PER_BATCH_TIME times as long as the batch took, at least MIN_PAUSE_BETWEEN_BATCHES_MS. */
function pauseAfter(batchStarted: number): Promise<void> {
  const took = performance.now() - batchStarted;
  return new Promise((resolve) => setTimeout(resolve, Math.max(MIN_PAUSE_BETWEEN_BATCHES_MS, took * PAUSE_PER_BATCH_TIME)));
}

export interface RetentionOptions {
  maintenance: Pick<Maintenance, 'deleteExpired'>;
  idempotencyKeys: Pick<IdempotencyKeys, 'deleteExpired'>;
  retentionHours: number;
  intervalMs: number;
  logger: Logger;
  metrics?: Metrics;
  clock?: () => number;
}

export class Retention {
  readonly #options: RetentionOptions;
  readonly #clock: () => number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | null = null;
  #stopped = false;

  constructor(options: RetentionOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#log = options.logger.child({ component: 'retention' });
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One full pass; resolves with the number of deliveries deleted. */
  runOnce(): Promise<number> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.runOnce().catch((error) => this.#log.error({ err: error }, 'retention pass failed')).finally(() => this.#schedule());
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  async #pass(): Promise<number> {
    const cutoff = this.#clock() - this.#options.retentionHours * 3_600_000;
    const total = await this.#inBatches(async () => {
      const deleted = await this.#options.maintenance.deleteExpired(cutoff, BATCH_SIZE);
      this.#options.metrics?.retentionDeleted(deleted);
      return deleted;
    });
    if (total > 0) this.#log.info({ deleted: total, cutoff: new Date(cutoff).toISOString() }, 'expired deliveries deleted');
    if (this.#stopped) return total;
    // Idempotency keys have their own, fixed window: a repeat after 24 hours is a new request.
    const keyCutoff = this.#clock() - IDEMPOTENCY_WINDOW_MS;
    await this.#inBatches(() => this.#options.idempotencyKeys.deleteExpired(keyCutoff, BATCH_SIZE));
    return total;
  }

  /** Runs `batch` until it deletes fewer than BATCH_SIZE rows or the job stops, pausing after each; the total deleted. */
  async #inBatches(batch: () => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const started = performance.now();
      const deleted = await batch();
      total += deleted;
      if (deleted < BATCH_SIZE || this.#stopped) return total;
      await pauseAfter(started);
    }
  }
}
