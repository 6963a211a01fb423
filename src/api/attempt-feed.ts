// New attempts as they are recorded, read from the store so that attempts made by any hookd
// process sharing the database appear, not only this one's. One poll loop serves every
// listener, and it runs only while someone listens.
//
// Attempt ids are UUIDv7, ordered by creation time, so "ids after the newest seen" are the new
// ones. But an id is taken before its transaction commits, and another process may commit
// later an attempt with a smaller id; so each poll also re-reads the ids of the last few
// seconds and passes on only those not seen yet.
import type { FastifyBaseLogger } from 'fastify';
import type { AttemptSummary, ReadModels } from '../store/contracts.ts';

/** The two reads the feed needs. */
export type AttemptSource = Pick<ReadModels, 'attemptsAfter' | 'latestAttempts'>;

const POLL_INTERVAL_MS = 400;
/** How late an attempt may commit after a newer one and still be streamed. */
const LATE_COMMIT_MS = 2000;
const BATCH = 500;
/** Bounds one poll's work; a feed further behind reads on at the next poll. */
const MAX_PAGES_PER_POLL = 4;

export type AttemptListener = (attempts: AttemptSummary[]) => void;

/** The smallest UUID whose first 48 bits are `ms`: every UUIDv7 made at or after `ms` sorts after it. */
function idFloor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-0000-0000-000000000000`;
}

export class AttemptFeed {
  readonly #source: AttemptSource;
  readonly #log: FastifyBaseLogger;
  readonly #listeners = new Set<AttemptListener>();
  /** Ids passed on within the late-commit span, so that a re-read never repeats one. */
  readonly #seen = new Set<string>();
  #newest: string | null = null;
  /** The last poll stopped at its page bound with more to read. */
  #behind = false;
  /** Listening (re)started: begin after the newest attempt rather than where polling once stopped. */
  #restart = true;
  /** Settled once a (re)started feed knows where it starts. */
  #ready: PromiseWithResolvers<void> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> | null = null;
  #closed = false;

  constructor(source: AttemptSource, logger: FastifyBaseLogger) {
    this.#source = source;
    this.#log = logger.child({ component: 'attempt-feed' });
  }

  /**
   * Calls `listener` with each batch of new attempts until `stop` is called. Every attempt
   * recorded after `ready` resolves is passed on.
   */
  subscribe(listener: AttemptListener): { ready: Promise<void>; stop: () => void } {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) {
      this.#restart = true;
      this.#ready ??= Promise.withResolvers<void>();
      if (!this.#busy) this.#schedule(0);
    }
    return {
      ready: this.#ready?.promise ?? Promise.resolve(),
      stop: () => {
        this.#listeners.delete(listener);
        if (this.#listeners.size === 0) clearTimeout(this.#timer);
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    clearTimeout(this.#timer);
    this.#ready?.resolve();
    await this.#busy;
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    if (this.#closed || this.#listeners.size === 0) return;
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#busy = this.#restart ? this.#startAtNewest() : this.#poll();
    await this.#busy;
    this.#busy = null;
    this.#schedule(POLL_INTERVAL_MS);
  }

  async #startAtNewest(): Promise<void> {
    try {
      const [latest] = await this.#source.latestAttempts(1);
      this.#newest = latest?.id ?? null;
      this.#seen.clear();
      this.#behind = false;
      this.#restart = false;
      this.#ready?.resolve();
      this.#ready = null;
    } catch (error) {
      this.#log.warn({ err: error }, 'reading the newest attempt failed; retrying');
    }
  }

  async #poll(): Promise<void> {
    // Wall time, not an injected clock: the ids' timestamps are uuidv7's reading of Date.now().
    const lateFloor = idFloor(Date.now() - LATE_COMMIT_MS);
    // Re-read the late-commit span only when keeping up; when behind, read straight on.
    let after = this.#newest !== null && this.#newest > lateFloor && !this.#behind ? lateFloor : this.#newest;
    const fresh: AttemptSummary[] = [];
    try {
      for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
        const rows = await this.#source.attemptsAfter(after, BATCH);
        for (const row of rows) {
          if (this.#seen.has(row.id)) continue;
          this.#seen.add(row.id);
          fresh.push(row);
          if (this.#newest === null || row.id > this.#newest) this.#newest = row.id;
        }
        this.#behind = rows.length === BATCH && page === MAX_PAGES_PER_POLL - 1;
        if (rows.length < BATCH) break;
        after = rows[rows.length - 1]!.id;
      }
    } catch (error) {
      this.#log.warn({ err: error }, 'reading new attempts failed; retrying');
    }
    // Ids older than the late-commit span are never re-read, so they need no remembering.
    for (const id of this.#seen) if (id < lateFloor && id !== this.#newest) this.#seen.delete(id);
    if (fresh.length === 0) return;
    for (const listener of this.#listeners) listener(fresh);
  }
}
