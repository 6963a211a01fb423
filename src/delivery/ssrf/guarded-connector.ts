/**
 * The guarded connector: where the SSRF guard is enforced for outbound webhook deliveries.
 *
 * Why the check happens at connect time: a subscription URL names a host, and
 * what that host resolves to can change at any moment (short TTLs, DNS
 * rebinding). Checking the URL when a subscription is created or updated only
 * catches IP literals (`blockedUrlReason` in network-policy.ts); a hostname that resolves to a
 * public address today may resolve to 169.254.169.254 at delivery time, or even
 * between a "check" lookup and the "connect" lookup. So the real enforcement is
 * `guardedConnector`, an undici `connect` function that resolves the host once,
 * checks every A/AAAA record, and then hands net/tls a lookup function that can
 * only return those checked records. The address that was checked is the
 * address that is dialled; there is no second DNS query to race against.
 *
 * Redirects are not followed by undici's `request` unless a redirect
 * interceptor is installed; do not install one for deliveries (a 302 to an
 * internal address would otherwise be followed without re-validating the URL,
 * though every new connection still goes through this connector).
 */
import dns from 'node:dns';
import net from 'node:net';
import type { Socket } from 'node:net';
import { buildConnector, errors as undiciErrors } from 'undici';
import type { NetworkPolicy } from './network-policy.ts';

export type LookupAll = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

/** Raised (through undici's connect callback) when a delivery target is in a blocked range. */
export class BlockedAddressError extends Error {
  readonly code = 'HOOKD_BLOCKED_ADDRESS' as const;
  /** The hostname being connected to (equal to `address` for IP-literal hosts). */
  readonly hostname: string | undefined;
  /** The blocked address. */
  readonly address: string | undefined;

  constructor(reason: string, details: { hostname?: string; address?: string } = {}) {
    super(reason);
    this.name = 'BlockedAddressError';
    this.hostname = details.hostname;
    this.address = details.address;
  }
}

export const defaultLookup: LookupAll = async (hostname) => {
  const records = await dns.promises.lookup(hostname, { all: true });
  return records.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

function notFound(hostname: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  err.code = 'ENOTFOUND';
  err.syscall = 'getaddrinfo';
  (err as NodeJS.ErrnoException & { hostname?: string }).hostname = hostname;
  return err;
}

interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves once and checks every record; throws BlockedAddressError if any record is blocked. */
export async function resolveChecked(hostname: string, policy: NetworkPolicy, lookup: LookupAll): Promise<CheckedAddress[]> {
  const literal = net.isIP(hostname);
  if (literal !== 0) {
    const verdict = policy.check(hostname);
    if (!verdict.allowed) {
      throw new BlockedAddressError(verdict.reason ?? `address ${hostname} is blocked`, { hostname, address: hostname });
    }
    return [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  }

  const records = await lookup(hostname);
  const checked: CheckedAddress[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    const address = record.address;
    const verdict = policy.check(address);
    if (!verdict.allowed) {
      const among = records.length > 1 ? ` (one of ${records.length} addresses; any blocked address refuses the host)` : '';
      throw new BlockedAddressError(
        `host ${hostname} resolved to ${address}${among}: ${verdict.reason ?? `address ${address} is blocked`}`,
        { hostname, address },
      );
    }
    if (seen.has(address)) continue;
    seen.add(address);
    // Trust net.isIP over the lookup's own family field.
    checked.push({ address, family: net.isIP(address) === 6 ? 6 : 4 });
  }
  if (checked.length === 0) throw notFound(hostname);
  return checked;
}

/** A net/tls `lookup` that can only answer with the already-checked addresses. */
function pinnedLookup(checked: readonly CheckedAddress[]): net.LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 'IPv4' ? 4
      : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    const list = family === 0 ? checked : checked.filter((a) => a.family === family);
    process.nextTick(() => {
      const first = list[0];
      if (first === undefined) callback(notFound(hostname), '');
      else if (options.all) callback(null, list.map((a) => ({ address: a.address, family: a.family })));
      else callback(null, first.address, first.family);
    });
  };
}

const MAX_TLS_SESSIONS = 100;

/**
 * An undici `connect` function (undici.buildConnector-compatible signature) that resolves the host
 * ONCE (via the injectable lookup, default dns.promises.lookup(host, {all: true})), checks EVERY
 * A/AAAA record, fails with BlockedAddressError if any record is blocked (mixed public/private
 * answers are blocked as a whole), and then connects only to a checked address — no second DNS
 * lookup, so no DNS-rebinding gap. IP-literal hosts are checked directly. TLS: servername stays the
 * original hostname (SNI + certificate verification).
 *
 * `connectTimeoutMs` bounds DNS resolution plus TCP/TLS connection setup together (0 disables).
 * Errors are always delivered through the callback: BlockedAddressError, the lookup's own error
 * (e.g. ENOTFOUND), undici's ConnectTimeoutError, or the socket error.
 */
export function guardedConnector(options: {
  policy: NetworkPolicy;
  connectTimeoutMs: number;
  lookup?: LookupAll;
}): buildConnector.connector {
  const { policy, connectTimeoutMs } = options;
  const lookup = options.lookup ?? defaultLookup;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs < 0) {
    throw new TypeError(`connectTimeoutMs must be a non-negative number, got ${connectTimeoutMs}`);
  }
  // Per-servername TLS session cache shared across the per-connection inner connectors.
  const sessions = new Map<string, Buffer>();

  return function connect(connectOpts, callback) {
    const started = performance.now();
    let settled = false;
    let lookupTimer: NodeJS.Timeout | undefined;
    let hostname = connectOpts.hostname;
    if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);

    const settle = (err: Error | null, socket?: Socket): void => {
      if (lookupTimer !== undefined) clearTimeout(lookupTimer);
      if (settled) {
        if (socket !== undefined) socket.destroy();
        return;
      }
      settled = true;
      if (err !== null) callback(err, null);
      else if (socket !== undefined) callback(null, socket);
    };

    if (connectTimeoutMs > 0) {
      lookupTimer = setTimeout(() => {
        settle(new undiciErrors.ConnectTimeoutError(
          `Connect Timeout Error (DNS lookup of ${hostname} did not finish within ${connectTimeoutMs}ms)`,
        ));
      }, connectTimeoutMs);
    }

    // An async function: a failure (blocked address, lookup error) arrives as a rejection.
    resolveChecked(hostname, policy, lookup).then(
      (checked) => {
        if (lookupTimer !== undefined) clearTimeout(lookupTimer);
        if (settled) return; // timed out while resolving
        try {
          const isTls = connectOpts.protocol === 'https:';
          const servername = isTls
            ? (connectOpts.servername || (net.isIP(hostname) === 0 ? hostname : undefined))
            : connectOpts.servername;
          const sessionKey = servername || hostname;
          const remaining = connectTimeoutMs > 0
            ? Math.max(1, Math.ceil(connectTimeoutMs - (performance.now() - started)))
            : 0;
          const inner = buildConnector({
            timeout: remaining,
            lookup: pinnedLookup(checked),
            ...(isTls ? { session: sessions.get(sessionKey) } : {}),
          });
          // hostname stays the original name: net/tls resolve it through pinnedLookup (checked
          // addresses only), and TLS derives SNI / certificate identity from `servername`.
          const socket = inner(
            { ...connectOpts, hostname, ...(servername ? { servername } : {}) },
            (err, sock) => {
              if (err) settle(err);
              else if (sock) settle(null, sock);
            },
          ) as unknown as Socket | undefined;
          if (isTls && socket && typeof socket.on === 'function') {
            socket.on('session', (session: Buffer) => {
              sessions.delete(sessionKey);
              sessions.set(sessionKey, session);
              if (sessions.size > MAX_TLS_SESSIONS) {
                const oldest = sessions.keys().next();
                if (!oldest.done) sessions.delete(oldest.value);
              }
            });
          }
        } catch (err) {
          settle(err instanceof Error ? err : new Error(String(err)));
        }
      },
      (err: unknown) => {
        settle(err instanceof Error ? err : new Error(String(err)));
      },
    );
  };
}
