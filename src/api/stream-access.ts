// Streams outlive the request that opened them, so the check made when they opened is made
// again every second while any is open: a stream opened with a key that has since been
// revoked is closed, and so is one opened without a key (hookd was open on loopback) once a
// key exists. Each check reads the keys afresh, so a revocation made by
// `hookd keys revoke` in another process ends the streams within two seconds, as it does
// ordinary requests.
import type { FastifyBaseLogger } from 'fastify';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import type { RequestAuth } from './auth.ts';
import type { EventStream } from './event-stream.ts';

const CHECK_INTERVAL_MS = 1000;
/** Shorter than the interval, so that every check reads the keys afresh. */
const KEYS_MAX_AGE_MS = CHECK_INTERVAL_MS / 2;

export class StreamAccessCheck {
  readonly #keys: KeyVerifier;
  readonly #streams: ReadonlyMap<EventStream, RequestAuth | undefined>;
  readonly #log: FastifyBaseLogger;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  /** `streams` are the open streams, each with how its request was let in; the map is read at each check. */
  constructor(keys: KeyVerifier, streams: ReadonlyMap<EventStream, RequestAuth | undefined>, logger: FastifyBaseLogger) {
    this.#keys = keys;
    this.#streams = streams;
    this.#log = logger;
  }

  /** Checks every second while streams are open; stops by itself when none is. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#check(), CHECK_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #check(): Promise<void> {
    if (this.#streams.size === 0) {
      this.stop();
      return;
    }
    if (this.#checking) return;
    this.#checking = true;
    try {
      for (const [stream, auth] of this.#streams) {
        if (auth?.by === 'key' && !(await this.#keys.isActive(auth.keyId, KEYS_MAX_AGE_MS))) {
          stream.close('key_revoked', 'The API key of this stream was revoked.');
        } else if (auth?.by === 'open' && (await this.#keys.keysConfigured(KEYS_MAX_AGE_MS))) {
          stream.close('key_required', 'An API key now exists: reconnect with Authorization: Bearer <key>.');
        }
      }
    } catch (error) {
      // The keys could not be read: the streams stay as they are until the next check.
      this.#log.warn({ err: error }, 'checking the API keys of open live streams failed');
    } finally {
      this.#checking = false;
    }
  }
}
