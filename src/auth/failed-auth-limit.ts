// Wrong API keys per client address, in fixed one-minute windows: past the limit, an address
// is refused (429) until its window ends, whatever key it sends, so guessing keys is paced
// and a guesser cannot tell when it found one. Counts are kept per process and forgotten at
// each window's end; at most MAX_ADDRESSES are tracked at once, so a flood of addresses
// cannot grow memory without bound.
const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 100_000;

export class FailedAuthLimit {
  readonly perMinute: number;
  readonly #clock: () => number;
  #window = -1;
  readonly #failures = new Map<string, number>();

  /** `perMinute` 0 turns the limit off. */
  constructor(perMinute: number, clock: () => number = Date.now) {
    this.perMinute = perMinute;
    this.#clock = clock;
  }

  /** Seconds until `address` may try again, or null when it may now. */
  retryAfterSeconds(address: string): number | null {
    if (this.perMinute === 0) return null;
    const now = this.#roll();
    if ((this.#failures.get(address) ?? 0) < this.perMinute) return null;
    return Math.max(1, Math.ceil(((this.#window + 1) * WINDOW_MS - now) / 1000));
  }

  recordFailure(address: string): void {
    if (this.perMinute === 0) return;
    this.#roll();
    const count = this.#failures.get(address);
    if (count === undefined && this.#failures.size >= MAX_ADDRESSES) return;
    this.#failures.set(address, (count ?? 0) + 1);
  }

  #roll(): number {
    const now = this.#clock();
    const window = Math.floor(now / WINDOW_MS);
    if (window !== this.#window) {
      this.#window = window;
      this.#failures.clear();
    }
    return now;
  }
}
