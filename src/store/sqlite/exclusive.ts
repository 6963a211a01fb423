// SQLite serves one hookd process: the one that sends the deliveries holds the database for
// itself, so that its leases can live in memory and a restart finds every unfinished
// delivery due at once. The hold is an exclusive lock on a small companion file
// (<database>.lock), taken through SQLite's own locking: the operating system releases it
// when the process ends, however it ends (kill -9 included), and a second hookd on the same
// database is refused with a clear message instead of sharing the queue.
import { DatabaseSync } from 'node:sqlite';
import { DatabaseTakenError } from '../errors.ts';

export class ExclusiveHold {
  readonly #file: string;
  #lock: DatabaseSync | null = null;

  constructor(databaseFile: string) {
    this.#file = `${databaseFile}.lock`;
  }

  get held(): boolean {
    return this.#lock !== null;
  }

  /** Takes the database for this process; throws DatabaseTakenError when another holds it. */
  take(): void {
    if (this.#lock) return;
    const lock = new DatabaseSync(this.#file, { timeout: 0 });
    try {
      lock.exec('PRAGMA locking_mode = EXCLUSIVE');
      lock.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      lock.close();
      if ((error as { errcode?: number }).errcode === 5) {
        throw new DatabaseTakenError(`another hookd process is sending the deliveries of ${this.#file.slice(0, -'.lock'.length)}: SQLite serves one process (use PostgreSQL to run several)`);
      }
      throw error;
    }
    this.#lock = lock;
  }

  release(): void {
    const lock = this.#lock;
    this.#lock = null;
    if (!lock) return;
    try {
      lock.exec('ROLLBACK');
    } finally {
      lock.close();
    }
  }
}
