// Collects items submitted while a flush is running and hands them to the next flush as one
// batch. Under load this turns many small writes into few large ones (group commit); when
// idle, an item is flushed at once, so latency stays low.

export type Flush<T, R> = (items: T[]) => Promise<R[]>;

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export class Batcher<T, R> {
  readonly #flush: Flush<T, R>;
  readonly #maxBatch: number;
  #queue: Waiting<T, R>[] = [];
  #running = 0;
  readonly #maxConcurrent: number;

  constructor(flush: Flush<T, R>, options: { maxBatch: number; maxConcurrent?: number }) {
    this.#flush = flush;
    this.#maxBatch = options.maxBatch;
    this.#maxConcurrent = options.maxConcurrent ?? 1;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#drain();
    });
  }

  #drain(): void {
    while (this.#running < this.#maxConcurrent && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#running++;
      this.#flush(batch.map((w) => w.item)).then(
        (results) => batch.forEach((w, i) => w.resolve(results[i] as R)),
        (error) => batch.forEach((w) => w.reject(error)),
      ).finally(() => {
        this.#running--;
        this.#drain();
      });
    }
  }
}
