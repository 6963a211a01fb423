// Sends one attempt: a signed POST through undici, over keep-alive pools per origin, dialled
// only through the SSRF-guarded connector. Every attempt is bounded in time (connect and
// total) and in what is kept of the response (the first 4 KiB, for the log).
import { Agent, errors as undiciErrors, request } from 'undici';
import type { AttemptOutcome } from '../../domain/index.ts';
import { guardedConnector } from '../ssrf/guarded-connector.ts';
import { ALLOW_NETWORKS_HINT } from '../ssrf/network-policy.ts';
import { webhookHeaders, type DestinationSender, type OutgoingWebhook, type SendResult, type SenderOptions } from './outgoing.ts';

/** Bytes of the response body kept in the attempt log. */
export const RESPONSE_SNIPPET_BYTES = 4096;
/** Bytes read past the snippet so a small response leaves its connection reusable. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let seenBytes = 0;
  try {
    for await (const chunk of body) {
      seenBytes += chunk.length;
      if (keptBytes < RESPONSE_SNIPPET_BYTES) {
        const part = chunk.subarray(0, RESPONSE_SNIPPET_BYTES - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
      if (seenBytes > RESPONSE_SNIPPET_BYTES + DRAIN_LIMIT_BYTES) {
        // A large or endless body: stop reading and drop the connection rather than buffer it.
        body.destroy();
        break;
      }
    }
  } catch {
    // The body stalled past the timeout or the connection broke: the status stands; keep what arrived.
  }
  // PostgreSQL text cannot hold NUL characters (binary or compressed bodies have them).
  return Buffer.concat(kept).toString('utf8').replaceAll('\u0000', '\uFFFD');
}

function classify(error: unknown, timedOut: boolean): { outcome: AttemptOutcome; details: string } {
  const err = error as { code?: string; message?: string; cause?: unknown; name?: string };
  if (err?.code === 'HOOKD_BLOCKED_ADDRESS') return { outcome: 'blocked', details: `blocked: ${err.message} ${ALLOW_NETWORKS_HINT}` };
  if (timedOut || err?.name === 'TimeoutError' || err?.code === 'UND_ERR_HEADERS_TIMEOUT' || err?.code === 'UND_ERR_BODY_TIMEOUT') {
    return { outcome: 'timeout', details: 'the receiver did not answer in time' };
  }
  if (err instanceof undiciErrors.ConnectTimeoutError || err?.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { outcome: 'timeout', details: `connect timeout: ${err.message}` };
  }
  const code = err?.code ? `${err.code}: ` : '';
  return { outcome: 'network_error', details: `${code}${err?.message ?? String(error)}` };
}

export class HttpSender implements DestinationSender<string> {
  readonly #agent: Agent;
  readonly #requestTimeoutMs: number;
  readonly #clock: () => number;

  constructor(options: SenderOptions) {
    this.#requestTimeoutMs = options.requestTimeoutMs;
    this.#clock = options.clock ?? Date.now;
    this.#agent = new Agent({
      connect: guardedConnector({
        policy: options.policy, connectTimeoutMs: options.connectTimeoutMs,
        ...(options.lookup && { lookup: options.lookup }),
      }),
      keepAliveTimeout: 30_000,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
    });
  }

  async send(url: string, webhook: OutgoingWebhook): Promise<SendResult> {
    // Custom header values may be credentials: the attempt log keeps only their names.
    const { sent, logged: requestHeaders } = webhookHeaders(webhook, Math.floor(this.#clock() / 1000));
    const started = performance.now();
    // One timer per attempt, cleared when it ends: AbortSignal.timeout would keep a timer and
    // a signal alive for the whole timeout after the attempt finished, tens of thousands at
    // a time under load, which the garbage collector then has to carry.
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort(new DOMException('the attempt timed out', 'TimeoutError'));
    }, this.#requestTimeoutMs);
    const stop = () => abort.abort(webhook.signal?.reason);
    webhook.signal?.addEventListener('abort', stop, { once: true });
    const elapsed = () => Math.round(performance.now() - started);
    try {
      if (webhook.signal?.aborted) stop();
      const response = await request(url, {
        method: 'POST', headers: sent, body: webhook.body, dispatcher: this.#agent, signal: abort.signal,
      });
      // The status is the receiver's answer; a body that stalls afterwards only loses the snippet.
      const responseBody = await readSnippet(response.body);
      const statusCode = response.statusCode;
      const success = statusCode >= 200 && statusCode < 300;
      const retryAfter = response.headers['retry-after'];
      return {
        outcome: success ? 'success' : 'http_error',
        statusCode,
        errorDetails: success ? null : statusCode >= 300 && statusCode < 400
          ? `HTTP ${statusCode}: redirects are not followed`
          : `HTTP ${statusCode}`,
        durationMs: elapsed(),
        responseBody,
        requestHeaders,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
      };
    } catch (error) {
      const { outcome, details } = classify(error, timedOut);
      return { outcome, statusCode: null, errorDetails: details, durationMs: elapsed(), responseBody: null, requestHeaders, retryAfter: null };
    } finally {
      clearTimeout(timer);
      webhook.signal?.removeEventListener('abort', stop);
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}
