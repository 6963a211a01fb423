// Collects items into batches for one flush function: group commit. An item submitted while
// a flush runs waits for the next flush, together with everything else that arrived
// meanwhile; and a flush starts only after the current turn of the event loop, so items
// completed by the same burst of I/O (many responses, many requests) share one batch even
// when the database answers faster than they arrive. Each submitter gets its own result.

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
  #running = false;
  #scheduled = false;

  constructor(flush: Flush<T, R>, options: { maxBatch: number }) {
    this.#flush = flush;
    this.#maxBatch = options.maxBatch;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#running || this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#drain();
    });
  }

  #drain(): void {
    if (this.#running || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#maxBatch);
    this.#running = true;
    this.#flush(batch.map((w) => w.item)).then(
      (results) => batch.forEach((w, i) => w.resolve(results[i] as R)),
      (error) => batch.forEach((w) => w.reject(error)),
    ).finally(() => {
      this.#running = false;
      this.#schedule();
    });
  }
}
