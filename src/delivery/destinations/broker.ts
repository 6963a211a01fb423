// What the broker kinds share: the network policy applied to the broker's host, bounds on
// connecting and on waiting for the acknowledgement, and one way of turning a publish into
// an attempt result (an acknowledgement is a success; anything else is classified, and the
// URL's credentials never reach the attempt's error).
import net from 'node:net';
import type { BrokerKind } from '../../domain/index.ts';
import { MASK } from '../../domain/index.ts';
import { defaultLookup, resolveChecked, type CheckedAddress } from '../ssrf/guarded-connector.ts';
import { ALLOW_NETWORKS_HINT } from '../ssrf/network-policy.ts';
import { webhookHeaders, type OutgoingWebhook, type SendResult, type SenderOptions } from './outgoing.ts';

export const DEFAULT_BROKER_IDLE_MS = 60_000;

/** The broker did not connect or acknowledge within its bound. */
export class AttemptTimeout extends Error {
  override name = 'AttemptTimeout';
}

/** The broker answered and refused: the credentials, the message, or where it should go. */
export class BrokerRejection extends Error {
  override name = 'BrokerRejection';
}

export interface BrokerAddress {
  /** The URL's host, without IPv6 brackets. */
  hostname: string;
  port: number;
  /** The addresses the host resolved to, each allowed by the network policy: dial only these. */
  checked: CheckedAddress[];
}

/**
 * Resolves the broker's host once and checks every address against the network policy, as
 * the HTTP connector does (a BlockedAddressError otherwise); the client then dials a checked
 * address, with no second lookup to race against.
 */
export async function brokerAddress(url: URL, defaultPort: number, options: SenderOptions): Promise<BrokerAddress> {
  let hostname = url.hostname;
  if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);
  const checked = await resolveChecked(hostname, options.policy, options.lookup ?? defaultLookup);
  return { hostname, port: url.port ? Number(url.port) : defaultPort, checked };
}

/** The host form of an address in a URL or host:port string. */
export function hostPart(address: string): string {
  return net.isIP(address) === 6 ? `[${address}]` : address;
}

/** `work`, or an AttemptTimeout after `ms`, or the signal's abort, whichever comes first. */
export function within<T>(work: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new AttemptTimeout(what))), ms);
    const aborted = () => finish(() => reject(signal?.reason ?? new AttemptTimeout('the attempt was aborted')));
    function finish(settle: () => void) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      settle();
    }
    if (signal?.aborted) return aborted();
    signal?.addEventListener('abort', aborted, { once: true });
    work.then((value) => finish(() => resolve(value)), (error: unknown) => finish(() => reject(error)));
  });
}

/** Removes a URL's password (or token) from a text, in case a client quoted it. */
function scrub(text: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return text;
  }
  let result = text;
  for (const secret of [parsed.password, parsed.password ? '' : parsed.username]) {
    if (secret.length < 3) continue;
    for (const form of new Set([secret, decodeURIComponent(secret)])) result = result.split(form).join(MASK);
  }
  return result;
}

function describe(error: unknown): string {
  const err = error as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' && err.code && !String(err.message).includes(err.code) ? `${err.code}: ` : '';
  return `${code}${typeof err?.message === 'string' && err.message ? err.message : String(error)}`;
}

/**
 * One attempt to a broker: `publish` gets the headers to send and resolves with what the
 * broker acknowledged (kept as the attempt's response); `rejection` says whether an error
 * is the broker refusing (outcome `rejected`, not retried sooner than any failure) rather
 * than the network failing.
 */
export async function brokerAttempt(
  kind: BrokerKind, url: string, webhook: OutgoingWebhook, options: SenderOptions,
  publish: (headers: Record<string, string>) => Promise<string>,
  rejection: (error: unknown) => boolean,
): Promise<SendResult> {
  const { sent, logged } = webhookHeaders(webhook, Math.floor((options.clock ?? Date.now)() / 1000));
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const acknowledged = await publish(sent);
    return { outcome: 'success', statusCode: null, errorDetails: null, durationMs: elapsed(), responseBody: acknowledged, requestHeaders: logged, retryAfter: null };
  } catch (error) {
    const err = error as { code?: string; message?: string };
    const outcome = err?.code === 'HOOKD_BLOCKED_ADDRESS' ? 'blocked'
      : error instanceof AttemptTimeout ? 'timeout'
      : error instanceof BrokerRejection || rejection(error) ? 'rejected'
      : 'network_error';
    const details = `${kind}: ${outcome === 'blocked' ? 'blocked: ' : ''}${scrub(describe(error), url)}${outcome === 'blocked' ? ` ${ALLOW_NETWORKS_HINT}` : ''}`;
    return { outcome, statusCode: null, errorDetails: details, durationMs: elapsed(), responseBody: null, requestHeaders: logged, retryAfter: null };
  }
}
