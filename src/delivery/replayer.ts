// Bulk replay: queues a subscription's finished deliveries again, in small background
// batches so a replay of millions never holds the database for long. A delivery moves from
// failed (or succeeded) to queued once, so overlapping replays cannot double the work; an
// identical replay already running in this process is simply reported.
import type { Logger } from 'pino';
import type { DeliveryLog, RequeueQuery } from '../store/contracts.ts';

const BATCH_SIZE = 500;
const PAUSE_BETWEEN_BATCHES_MS = 10;

export interface ReplayStarted {
  /** Deliveries matching the replay when it started. */
  count: number;
  /** An identical replay was already running; no second one was started. */
  alreadyRunning: boolean;
}

export class Replayer {
  readonly #log: Pick<DeliveryLog, 'countDeliveries' | 'requeueDeliveries'>;
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #running = new Map<string, { count: number; done: Promise<void> }>();
  #stopped = false;

  constructor(log: Pick<DeliveryLog, 'countDeliveries' | 'requeueDeliveries'>, clock: () => number, logger: Logger) {
    this.#log = log;
    this.#clock = clock;
    this.#logger = logger.child({ component: 'replayer' });
  }

  async start(query: RequeueQuery): Promise<ReplayStarted> {
    const key = JSON.stringify([query.subscriptionId, query.status, query.since, query.until]);
    const running = this.#running.get(key);
    if (running) return { count: running.count, alreadyRunning: true };
    const count = await this.#log.countDeliveries({
      subscriptionId: query.subscriptionId, status: query.status,
      ...(query.since !== undefined && { since: query.since }), ...(query.until !== undefined && { until: query.until }),
    });
    const done = this.#run(query, count).finally(() => this.#running.delete(key));
    this.#running.set(key, { count, done });
    return { count, alreadyRunning: false };
  }

  /** Lets running replays finish their current batch and stop. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#running.values()].map((r) => r.done));
  }

  async #run(query: RequeueQuery, count: number): Promise<void> {
    let requeued = 0;
    try {
      while (!this.#stopped) {
        const batch = await this.#log.requeueDeliveries(query, this.#clock(), BATCH_SIZE);
        requeued += batch;
        if (batch < BATCH_SIZE) break;
        await new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_BATCHES_MS));
      }
      this.#logger.info({ subscriptionId: query.subscriptionId, status: query.status, matched: count, requeued }, 'replay finished');
    } catch (error) {
      this.#logger.error({ err: error, subscriptionId: query.subscriptionId, requeued }, 'replay stopped by an error; call it again to resume');
    }
  }
}
