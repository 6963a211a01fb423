// One Server-Sent Events connection that holds a bounded number of bytes for its client,
// however slowly it reads. Writes stop when the socket's buffer is full (write() returned
// false) and what comes meanwhile waits here until 'drain'. A client that falls further
// behind than MAX_BUFFERED_BYTES is closed with a final `close` event saying why; an
// EventSource then reconnects with Last-Event-ID and is sent what it missed.
import type { ServerResponse } from 'node:http';
import type { LiveStreamCloseReason } from '../metrics.ts';

/** Bytes one stream may hold for its client (in the socket's buffer and waiting here) before it is closed. */
export const MAX_BUFFERED_BYTES = 512 * 1024;
/** How long a closed stream's last bytes may take to reach the client before the connection is cut. */
const CLOSE_GRACE_MS = 30_000;

export type CloseReason = LiveStreamCloseReason;

export class EventStream {
  readonly #res: ServerResponse;
  readonly #onClose: (reason: CloseReason) => void;
  /** Text waiting for the socket to drain. */
  #waiting: string[] = [];
  #waitingBytes = 0;
  #blocked = false;
  #closed = false;

  /** `onClose` is called once when hookd closes the stream (not when the client goes away). */
  constructor(res: ServerResponse, onClose: (reason: CloseReason) => void) {
    this.#res = res;
    this.#onClose = onClose;
  }

  /** Bytes held for this client: in the socket's buffer and waiting to be written. */
  get bufferedBytes(): number {
    return this.#res.writableLength + this.#waitingBytes;
  }

  /** Sends `text` (whole events) or, when the client is too far behind, closes the stream. */
  send(text: string): void {
    if (this.#closed || this.#res.destroyed || text === '') return;
    if (!this.#blocked) {
      if (!this.#res.write(text)) this.#awaitDrain();
      return;
    }
    if (this.bufferedBytes + Buffer.byteLength(text) > MAX_BUFFERED_BYTES) {
      this.close('lagging', `This client fell more than ${MAX_BUFFERED_BYTES} bytes behind; reconnect with Last-Event-ID to resume.`);
      return;
    }
    this.#waiting.push(text);
    this.#waitingBytes += Buffer.byteLength(text);
  }

  /**
   * Drops what waits, ends the stream with a `close` event naming the reason, and cuts the
   * connection if the client has not taken its last bytes within CLOSE_GRACE_MS.
   */
  close(reason: CloseReason, message: string, graceMs = CLOSE_GRACE_MS): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting = [];
    this.#waitingBytes = 0;
    const res = this.#res;
    if (!res.destroyed) {
      // The connection goes too, rather than waiting for another request as keep-alive would.
      const socket = res.socket;
      res.end(`event: close\ndata: ${JSON.stringify({ reason, message })}\n\n`, () => socket?.end());
      const cut = setTimeout(() => res.destroy(), graceMs);
      cut.unref();
      res.once('close', () => clearTimeout(cut));
    }
    this.#onClose(reason);
  }

  #awaitDrain(): void {
    this.#blocked = true;
    this.#res.once('drain', this.#flush);
  }

  readonly #flush = (): void => {
    this.#blocked = false;
    if (this.#closed || this.#waiting.length === 0) return;
    const text = this.#waiting.join('');
    this.#waiting = [];
    this.#waitingBytes = 0;
    if (!this.#res.write(text)) this.#awaitDrain();
  };
}
