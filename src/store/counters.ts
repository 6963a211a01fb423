// Figures kept with the writes, so that /api/v1/status and the dashboard read a few rows
// instead of counting every retained delivery and attempt. Every transaction that changes
// what they count adds its changes in the same transaction:
//   span 0 (totals)    deliveries:<status>  the retained deliveries by status ('queued'
//                      counts every unfinished one, those being sent included)
//   per minute and per quarter hour, by the time things happened:
//                      created                   deliveries created
//                      finished:<status>         deliveries that succeeded or failed
//                      attempts:<outcome>        attempts by outcome
//                      latency:<ms>              attempts whose duration falls in that bucket
//                      failures:<subscription>   failed attempts of one subscription (last_at: the latest)
import type { AttemptOutcome, DeliveryStatus } from '../domain/index.ts';

export const MINUTE_MS = 60_000;
export const QUARTER_MS = 15 * MINUTE_MS;
/** The spans of the timed counters: the dashboard's 1-hour window reads minutes, its 24-hour one quarters. */
export const SPANS = [MINUTE_MS, QUARTER_MS] as const;
/** How long timed counters are kept, by span: two hours of minutes, a day and an hour of quarters. */
export const KEEP_MS: ReadonlyMap<number, number> = new Map([[MINUTE_MS, 2 * 3_600_000], [QUARTER_MS, 25 * 3_600_000]]);
export const MINUTES_KEPT_MS = KEEP_MS.get(MINUTE_MS)!;

export const counterName = {
  deliveries: (status: DeliveryStatus) => `deliveries:${status}`,
  created: 'created',
  finished: (status: 'succeeded' | 'failed') => `finished:${status}`,
  attempts: (outcome: AttemptOutcome) => `attempts:${outcome}`,
  latency: (bucketMs: number) => `latency:${bucketMs}`,
  failures: (subscriptionId: string) => `failures:${subscriptionId}`,
};

/**
 * The latency bucket of a duration: exact below 100 ms, then two significant digits (at most
 * 10 % low): 100, 110, … 990, 1000, 1100, … Percentiles read from these buckets are exact
 * for fast attempts and within 10 % for slow ones.
 */
export function latencyBucket(ms: number): number {
  const d = Math.max(0, Math.round(ms));
  if (d < 100) return d;
  const unit = 10 ** (Math.floor(Math.log10(d)) - 1);
  return Math.floor(d / unit) * unit;
}

export interface CounterRow {
  span: number;
  bucket: number;
  name: string;
  n: number;
  lastAt: number | null;
}

/** The counter changes of one transaction, merged by counter. */
export class CounterChanges {
  readonly #rows = new Map<string, CounterRow>();

  #add(span: number, bucket: number, name: string, n: number, at: number | null): void {
    if (n === 0) return;
    const key = `${span}|${bucket}|${name}`;
    const row = this.#rows.get(key);
    if (row) {
      row.n += n;
      if (at !== null) row.lastAt = Math.max(row.lastAt ?? at, at);
    } else {
      this.#rows.set(key, { span, bucket, name, n, lastAt: at });
    }
  }

  /** A change of a total (span 0). */
  total(name: string, n: number): this {
    this.#add(0, 0, name, n, null);
    return this;
  }

  /** Something that happened at `at`, counted in its minute and its quarter hour. */
  timed(name: string, at: number, n = 1, keepLast = false): this {
    for (const span of SPANS) this.#add(span, at - (at % span), name, n, keepLast ? at : null);
    return this;
  }

  /** A delivery moving from one status to another (a delivery created has no `from`; one deleted no `to`). */
  moved(from: DeliveryStatus | null, to: DeliveryStatus | null, n = 1): this {
    const [was, is] = [from && asStored(from), to && asStored(to)];
    if (was === is) return this;
    if (was !== null) this.total(counterName.deliveries(was), -n);
    if (is !== null) this.total(counterName.deliveries(is), n);
    return this;
  }

  get rows(): CounterRow[] {
    return [...this.#rows.values()].filter((row) => row.n !== 0);
  }
}

/** Deliveries being sent are counted with the queued ones: a lease is not stored in the totals. */
function asStored(status: DeliveryStatus): DeliveryStatus {
  return status === 'delivering' ? 'queued' : status;
}
