// A client that keeps ingesting events while hookd is killed, restarted or cut off from its
// database. Each event has its own Idempotency-Key, so the client may repeat a request whose
// answer it never got: hookd answers the repeat with the original event id and stores
// nothing twice. Every answer is kept with its time, so tests can check when 202s happened.
import { setTimeout as sleep } from 'node:timers/promises';

const REQUEST_TIMEOUT_MS = 10_000;
const RETRY_DELAY_MS = 100;

export interface Answer {
  /** The HTTP status, or 0 when no complete answer came (refused, reset, timed out). */
  status: number;
  sentAt: number;
  answeredAt: number;
}

export interface LoadOptions {
  /** Base URL of the hookd API; it stays the same across restarts. */
  url: string;
  /** Event n goes to subscriptionIds[n % length]. */
  subscriptionIds: readonly string[];
  concurrency: number;
  /** How many events to send; without it the load runs until stop(). */
  total?: number;
  /**
   * The load fails when no event at all has been accepted for this long: longer than hookd
   * may legitimately refuse (a restart, an outage), however slowly a busy machine runs.
   */
  stallMs: number;
}

export class IngestLoad {
  /** Idempotency-Key → event id, for every event answered 202. */
  readonly accepted = new Map<string, string>();
  readonly answers: Answer[] = [];
  /** Answers other than 202 and 503: never expected here, so the event is not repeated. */
  readonly unexpected: string[] = [];
  /** 202s replaying the answer to an earlier request whose answer the client lost. */
  replayed = 0;
  /** Events started (each is repeated until accepted). */
  sent = 0;
  /** Set when no event was accepted for `stallMs`; the load then stops. */
  failure: Error | null = null;
  /** Resolves (never rejects) when no more events are to be sent or repeated. */
  readonly done: Promise<void>;
  readonly #options: LoadOptions;
  #stopped = false;
  #cancelled = false;
  #lastAcceptedAt = Date.now();

  constructor(options: LoadOptions) {
    this.#options = options;
    this.done = Promise.all(Array.from({ length: options.concurrency }, () => this.#run())).then(() => undefined);
  }

  /** Sends no new events; those under way are still repeated until accepted. */
  stop(): void {
    this.#stopped = true;
  }

  /** Stops at once, whether the events under way were accepted or not. */
  cancel(): Promise<void> {
    this.#stopped = true;
    this.#cancelled = true;
    return this.done;
  }

  async #run(): Promise<void> {
    const { total } = this.#options;
    while (!this.#stopped && (total === undefined || this.sent < total)) {
      await this.#ingestUntilAccepted(this.sent++);
    }
  }

  async #ingestUntilAccepted(n: number): Promise<void> {
    const { url, subscriptionIds, stallMs } = this.#options;
    const key = `load-${n}`;
    const body = JSON.stringify({ event_type: 'load.test', data: { n } });
    while (!this.#cancelled) {
      if (Date.now() - this.#lastAcceptedAt > stallMs) {
        this.failure ??= new Error(`no event was accepted for ${stallMs} ms; event ${n} was waiting (${this.accepted.size} of ${this.sent} were accepted)`);
        this.#stopped = true;
        this.#cancelled = true;
        return;
      }
      const sentAt = Date.now();
      let status = 0;
      try {
        const response = await fetch(`${url}/api/v1/ingest/${subscriptionIds[n % subscriptionIds.length]}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        status = response.status;
        if (status === 202) {
          this.accepted.set(key, JSON.parse(text).event_id);
          this.#lastAcceptedAt = Date.now();
          if (response.headers.get('idempotent-replayed') === 'true') this.replayed++;
        } else if (status !== 503) {
          this.unexpected.push(`${status} ${text}`);
        }
      } catch {
        status = 0;
      }
      this.answers.push({ status, sentAt, answeredAt: Date.now() });
      if (status !== 0 && status !== 503) return;
      await sleep(RETRY_DELAY_MS);
    }
  }
}
