// Checks presented API keys against the stored hashes. The hashes of the unrevoked keys are
// kept in memory and re-read at most every KEYS_TTL_MS, so a key created or revoked by
// `hookd keys` (another process) takes effect within that time without a query per request;
// a key that matches none is looked for again in keys at most MISS_REREAD_MS old, so a new
// key works at once.
// Each stored hash is compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApiKey } from '../domain/index.ts';
import type { ApiKeys } from '../store/contracts.ts';
import { hashApiKey } from './api-keys.ts';

const KEYS_TTL_MS = 2000;
/** How stale the keys may be when a presented key matches none of them. */
const MISS_REREAD_MS = 250;
/** last_used_at is a hint for operators; one write per key per minute is enough. */
const TOUCH_INTERVAL_MS = 60_000;

interface Snapshot {
  /** The unrevoked keys. */
  keys: { key: ApiKey; hash: Buffer }[];
  /** Whether any key was ever created, revoked ones included. */
  configured: boolean;
  readAt: number;
}

export class KeyVerifier {
  readonly #keys: Pick<ApiKeys, 'list' | 'touch'>;
  readonly #clock: () => number;
  readonly #log: Logger;
  readonly #touched = new Map<string, number>();
  #snapshot: Snapshot | null = null;
  #loading: Promise<Snapshot> | null = null;

  constructor(keys: Pick<ApiKeys, 'list' | 'touch'>, clock: () => number, logger: Logger) {
    this.#keys = keys;
    this.#clock = clock;
    this.#log = logger;
  }

  /**
   * Whether any key was ever created. Until then a loopback-only hookd serves openly; after,
   * every request needs a valid key, so revoking the last key locks the API rather than opening it.
   */
  async keysConfigured(maxAgeMs = KEYS_TTL_MS): Promise<boolean> {
    return (await this.#current(maxAgeMs)).configured;
  }

  /** Whether the key with this id is stored and unrevoked, as read at most `maxAgeMs` ago. */
  async isActive(keyId: string, maxAgeMs = KEYS_TTL_MS): Promise<boolean> {
    return (await this.#current(maxAgeMs)).keys.some(({ key }) => key.id === keyId);
  }

  /** Reads the keys afresh at the next check: a key created or revoked through this process counts at once. */
  forget(): void {
    if (this.#snapshot) this.#snapshot = { ...this.#snapshot, readAt: -Infinity };
  }

  /** The stored key the presented one hashes to, or null. */
  async verify(presented: string): Promise<ApiKey | null> {
    const given = Buffer.from(hashApiKey(presented), 'hex');
    // A key unknown to a snapshot that is not quite fresh may have just been created by
    // another process (`hookd keys create`): look again once rather than count it as a wrong
    // key (which the failed-auth limit would). Misses re-read at most every MISS_REREAD_MS.
    const found = match((await this.#current()).keys, given) ?? match((await this.#current(MISS_REREAD_MS)).keys, given);
    if (found) this.#touch(found.id);
    return found;
  }

  async #current(maxAgeMs = KEYS_TTL_MS): Promise<Snapshot> {
    const snapshot = this.#snapshot;
    if (snapshot && this.#clock() - snapshot.readAt < maxAgeMs) return snapshot;
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(): Promise<Snapshot> {
    const readAt = this.#clock();
    let all: ApiKey[];
    try {
      all = await this.#keys.list();
    } catch (error) {
      // The database is unreachable: keep deciding by the keys last read (created keys are
      // never deleted, so "keys exist" cannot turn false), and try again after KEYS_TTL_MS.
      if (this.#snapshot === null) throw error;
      this.#log.warn({ err: error }, 'could not re-read the API keys; using the ones read before');
      this.#snapshot = { ...this.#snapshot, readAt };
      return this.#snapshot;
    }
    const keys = all.filter((key) => key.revokedAt === null).map((key) => ({ key, hash: Buffer.from(key.hash, 'hex') }));
    this.#snapshot = { keys, configured: all.length > 0, readAt };
    return this.#snapshot;
  }

  #touch(id: string): void {
    const now = this.#clock();
    if (now - (this.#touched.get(id) ?? -Infinity) < TOUCH_INTERVAL_MS) return;
    this.#touched.set(id, now);
    this.#keys.touch(id, now).catch((error: unknown) => {
      this.#log.warn({ err: error }, 'could not record when an API key was last used');
    });
  }
}

/** The key whose hash is `given`; every stored hash is compared, in constant time. */
function match(keys: readonly { key: ApiKey; hash: Buffer }[], given: Buffer): ApiKey | null {
  let found: ApiKey | null = null;
  for (const { key, hash } of keys) {
    if (timingSafeEqual(hash, given)) found = key;
  }
  return found;
}
