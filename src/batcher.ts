// Collects items into batches for one flush function: group commit. An item submitted while
// a flush runs waits for the next flush, together with everything else that arrived
// meanwhile; and a flush starts only after the current turn of the event loop, so items
// completed by the same burst of I/O (many responses, many requests) share one batch even
// when the database answers faster than they arrive. Each submitter gets its own result.
// With `lingerMs`, a flush that would start on an idle batcher waits that long first, so
// that at moderate rates (requests trickling in, each alone in its turn of the event loop)
// several still share one commit; a full batch flushes at once.

export type Flush<T, R> = (items: T[]) => Promise<R[]>;

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export class Batcher<T, R> {
  readonly #flush: Flush<T, R>;
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  #lingering: NodeJS.Timeout | undefined;
  #queue: Waiting<T, R>[] = [];
  #running = false;
  #scheduled = false;

  constructor(flush: Flush<T, R>, options: { maxBatch: number; lingerMs?: number }) {
    this.#flush = flush;
    this.#maxBatch = options.maxBatch;
    this.#lingerMs = options.lingerMs ?? 0;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule(false);
    });
  }

  #schedule(afterFlush: boolean): void {
    if (this.#running || this.#queue.length === 0) return;
    if (this.#lingering && this.#queue.length >= this.#maxBatch) {
      clearTimeout(this.#lingering);
      this.#lingering = undefined;
      this.#scheduled = false;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    const go = () => {
      this.#scheduled = false;
      this.#lingering = undefined;
      this.#drain();
    };
    // What arrived during a flush has waited already; so has a full batch.
    if (this.#lingerMs > 0 && !afterFlush && this.#queue.length < this.#maxBatch) this.#lingering = setTimeout(go, this.#lingerMs);
    else setImmediate(go);
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
      this.#schedule(true);
    });
  }
}
