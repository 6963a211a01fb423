// The database's write-ahead log as a file hookd syncs itself: after a commit appended its
// frames, an fsync through libuv's thread pool makes them durable while the event loop goes
// on. Concurrent syncs share one: a sync that starts after a commit covers it.
import { open, type FileHandle } from 'node:fs/promises';

export class WalFile {
  readonly #path: string | null;
  #handle: Promise<FileHandle | null> | null = null;
  #inFlight: Promise<void> | null = null;
  #again: Promise<void> | null = null;

  /** `database` is the SQLite file (':memory:' has no log to sync). */
  constructor(database: string) {
    this.#path = database === ':memory:' ? null : `${database}-wal`;
  }

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    if (this.#path === null) return Promise.resolve();
    // A sync already running may have begun before the caller's commit: queue one more after it.
    if (this.#inFlight) {
      this.#again ??= this.#inFlight.then(() => {
        this.#again = null;
        return this.sync();
      });
      return this.#again;
    }
    this.#inFlight = this.#fsync().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #fsync(): Promise<void> {
    this.#handle ??= open(this.#path!, 'r+').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    const handle = await this.#handle;
    if (handle === null) {
      // No log yet (nothing written through it): look again next time.
      this.#handle = null;
      return;
    }
    await handle.sync();
  }

  async close(): Promise<void> {
    const handle = await this.#handle?.catch(() => null);
    this.#handle = null;
    await handle?.close();
  }
}
