// Broker connections, one per destination URL: opened on first use, shared by every attempt
// to that URL, closed after they have gone unused for a while (and all at shutdown). A
// connection that fails is forgotten, so the next attempt opens a new one.

interface Entry<C> {
  connection: Promise<C>;
  /** The connection, once open. */
  opened?: C;
  users: number;
  idleTimer: NodeJS.Timeout | null;
}

export interface Lease<C> {
  connection: C;
  /** Done with it: the connection stays open for the next attempt. */
  release(): void;
}

export class ConnectionPool<C> {
  readonly #entries = new Map<string, Entry<C>>();
  readonly #open: (key: string) => Promise<C>;
  readonly #close: (connection: C) => Promise<void>;
  readonly #idleMs: number;
  readonly #usable: (connection: C) => boolean;

  /**
   * `key` is the destination URL. `open` should call `forget` when the connection breaks;
   * `usable` is asked before each use, for clients that may close without saying so.
   */
  constructor(options: { open: (key: string) => Promise<C>; close: (connection: C) => Promise<void>; idleMs: number; usable?: (connection: C) => boolean }) {
    this.#open = options.open;
    this.#close = options.close;
    this.#idleMs = options.idleMs;
    this.#usable = options.usable ?? (() => true);
  }

  /** Connections open or opening. */
  get size(): number {
    return this.#entries.size;
  }

  async acquire(key: string): Promise<Lease<C>> {
    const lease = await this.#acquire(key);
    if (this.#usable(lease.connection)) return lease;
    // Closed since its last use: drop it and open a new one.
    lease.release();
    this.forget(key, lease.connection);
    return this.#acquire(key);
  }

  async #acquire(key: string): Promise<Lease<C>> {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const opening = this.#open(key);
      const created: Entry<C> = { connection: opening, users: 0, idleTimer: null };
      entry = created;
      this.#entries.set(key, created);
      // A failed open is not kept: the next attempt tries again.
      opening.then((connection) => {
        created.opened = connection;
      }, () => {
        if (this.#entries.get(key) === created) this.#entries.delete(key);
      });
    }
    const current = entry;
    current.users++;
    if (current.idleTimer !== null) {
      clearTimeout(current.idleTimer);
      current.idleTimer = null;
    }
    let connection: C;
    try {
      connection = await current.connection;
    } catch (error) {
      current.users--;
      throw error;
    }
    let released = false;
    return {
      connection,
      release: () => {
        if (released) return;
        released = true;
        current.users--;
        if (current.users === 0 && this.#entries.get(key) === current) {
          current.idleTimer = setTimeout(() => this.#closeIdle(key, current), this.#idleMs);
          current.idleTimer.unref();
        }
      },
    };
  }

  /** Drops a broken connection (closing it, in case it is half open). */
  forget(key: string, connection: C): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.opened !== connection) return;
    this.#entries.delete(key);
    if (entry.idleTimer !== null) clearTimeout(entry.idleTimer);
    this.#close(connection).catch(() => {});
  }

  #closeIdle(key: string, entry: Entry<C>): void {
    if (entry.users > 0 || this.#entries.get(key) !== entry) return;
    this.#entries.delete(key);
    void entry.connection.then((connection) => this.#close(connection)).catch(() => {});
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map(async (entry) => {
      if (entry.idleTimer !== null) clearTimeout(entry.idleTimer);
      try {
        await this.#close(await entry.connection);
      } catch {
        // Never opened, or already broken: nothing to close.
      }
    }));
  }
}
