/**
 * SSRF guard for outbound webhook deliveries.
 *
 * Why the check happens at connect time: a subscription URL names a host, and
 * what that host resolves to can change at any moment (short TTLs, DNS
 * rebinding). Checking the URL when a subscription is created or updated only
 * catches IP literals (`blockedUrlReason`); a hostname that resolves to a
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

export interface AddressVerdict {
  allowed: boolean;
  reason?: string;
}

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

// ---------------------------------------------------------------------------
// Address parsing (inputs are validated with net.isIP first)
// ---------------------------------------------------------------------------

function stripZone(ip: string): string {
  const pct = ip.indexOf('%');
  return pct === -1 ? ip : ip.slice(0, pct);
}

function v4ToNumber(ip: string): number {
  const parts = ip.split('.');
  let n = 0;
  for (const p of parts) n = n * 256 + Number(p);
  return n;
}

function numberToV4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** 128-bit value of a valid IPv6 literal (zone id ignored, dotted-quad tail supported). */
function v6ToBigInt(ip: string): bigint {
  let s = stripZone(ip);
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = v4ToNumber(tail);
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  let groups: string[];
  const dbl = s.indexOf('::');
  if (dbl === -1) {
    groups = s.split(':');
  } else {
    const head = s.slice(0, dbl);
    const rest = s.slice(dbl + 2);
    const h = head === '' ? [] : head.split(':');
    const r = rest === '' ? [] : rest.split(':');
    groups = [...h, ...new Array<string>(8 - h.length - r.length).fill('0'), ...r];
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
  return value;
}

// ---------------------------------------------------------------------------
// Blocked ranges
// ---------------------------------------------------------------------------

interface Range {
  cidr: string;
  /** Completes "address X is ...", e.g. "in a private network (10.0.0.0/8)". */
  what: string;
  list: net.BlockList;
}

/** `what` defaults to `${description} (${cidr})`; pass `full` to word it differently. */
function range(cidr: string, description: string, full?: string): Range {
  const [addr = '', len = ''] = cidr.split('/');
  const family = net.isIP(addr) === 6 ? 'ipv6' : 'ipv4';
  const list = new net.BlockList();
  list.addSubnet(addr, Number(len), family);
  return { cidr, what: full ?? `${description} (${cidr})`, list };
}

// Order matters: more specific entries first (the first match names the reason).
const V4_RANGES: readonly Range[] = [
  range('169.254.169.254/32', '', 'the cloud instance metadata endpoint (link-local range 169.254.0.0/16)'),
  range('0.0.0.0/8', 'in the unspecified / "this network" range'),
  range('10.0.0.0/8', 'in a private network'),
  range('100.64.0.0/10', 'in the carrier-grade NAT shared address space'),
  range('127.0.0.0/8', 'a loopback address'),
  range('169.254.0.0/16', 'a link-local address'),
  range('172.16.0.0/12', 'in a private network'),
  range('192.0.0.0/24', 'in the IETF protocol assignments range'),
  range('192.0.2.0/24', 'in a documentation range (TEST-NET-1)'),
  range('192.168.0.0/16', 'in a private network'),
  range('198.18.0.0/15', 'in the benchmarking range'),
  range('198.51.100.0/24', 'in a documentation range (TEST-NET-2)'),
  range('203.0.113.0/24', 'in a documentation range (TEST-NET-3)'),
  range('224.0.0.0/4', 'a multicast address'),
  range('255.255.255.255/32', 'the limited broadcast address'),
  range('240.0.0.0/4', 'in the reserved range'),
];

const V6_RANGES: readonly Range[] = [
  range('::/128', 'the unspecified address'),
  range('::1/128', 'a loopback address'),
  range('fd00:ec2::254/128', '', 'the AWS EC2 instance metadata endpoint (unique local range fc00::/7)'),
  range('fc00::/7', 'a unique local address'),
  range('fe80::/10', 'a link-local address'),
  range('fec0::/10', 'a deprecated site-local address'),
  range('ff00::/8', 'a multicast address'),
  range('100::/64', 'in the discard-only range'),
  range('2001:db8::/32', 'in a documentation range'),
  range('3fff::/20', 'in a documentation range'),
  range('2001:2::/48', 'in the benchmarking range'),
  // Covers Teredo (2001::/32, which embeds an obfuscated IPv4), ORCHID, etc.
  range('2001::/23', 'in the IETF protocol assignments range'),
];

/** Global unicast space; anything outside it (and not an embedded-IPv4 form) is refused. */
const V6_GLOBAL_UNICAST = range('2000::/3', 'global unicast');

const MASK32 = 0xffffffffn;

interface EmbeddedForm {
  prefix: bigint;
  prefixLen: bigint;
  name: string;
  extract: (v: bigint) => number;
}

const last32 = (v: bigint): number => Number(v & MASK32);

// Checked in order; the IPv4-compatible form (::/96) comes after :: and ::1 are handled.
const EMBEDDED_FORMS: readonly EmbeddedForm[] = [
  { prefix: 0xffffn << 32n, prefixLen: 96n, name: 'IPv4-mapped form (::ffff:0:0/96)', extract: last32 },
  { prefix: 0n, prefixLen: 96n, name: 'IPv4-compatible form (::/96)', extract: last32 },
  { prefix: 0x0064ff9bn << 96n, prefixLen: 96n, name: 'NAT64 form (64:ff9b::/96)', extract: last32 },
  { prefix: 0x0064ff9b0001n << 80n, prefixLen: 48n, name: 'local-use NAT64 form (64:ff9b:1::/48)', extract: last32 },
  { prefix: 0x2002n << 112n, prefixLen: 16n, name: '6to4 form (2002::/16)', extract: (v) => Number((v >> 80n) & MASK32) },
];

function inPrefix(v: bigint, prefix: bigint, len: bigint): boolean {
  return v >> (128n - len) === prefix >> (128n - len);
}

// ---------------------------------------------------------------------------
// Allowlist parsing
// ---------------------------------------------------------------------------

interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

const PREFIX_RE = /^(0|[1-9][0-9]{0,2})$/;

/** Parses one allowlist entry; throws a one-line Error naming the entry. */
function parseCidr(entry: string): Cidr {
  const bad = (why: string): Error =>
    new Error(`invalid HOOKD_ALLOW_NETWORKS entry ${JSON.stringify(entry)}: ${why}`);
  const slash = entry.indexOf('/');
  const address = (slash === -1 ? entry : entry.slice(0, slash)).toLowerCase();
  const version = net.isIP(address);
  if (version === 0 || address.includes('%')) {
    throw bad('expected an IP network in CIDR notation, e.g. 10.0.0.0/8 or fd00::/8');
  }
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = entry.slice(slash + 1);
    if (!PREFIX_RE.test(p) || Number(p) > max) {
      throw bad(`prefix length must be an integer from 0 to ${max}`);
    }
    prefix = Number(p);
  }
  // Refuse host bits beyond the prefix: "10.0.0.1/8" is ambiguous operator intent.
  if (version === 4) {
    const v = v4ToNumber(address);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if (((v & mask) >>> 0) !== v) {
      throw bad(`host bits are set; did you mean ${numberToV4((v & mask) >>> 0)}/${prefix}?`);
    }
  } else {
    const v = v6ToBigInt(address);
    const hostBits = 128n - BigInt(prefix);
    if ((v >> hostBits) << hostBits !== v) {
      throw bad('host bits are set beyond the prefix length');
    }
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Parses HOOKD_ALLOW_NETWORKS: CIDRs separated by commas and/or whitespace.
 * A bare address means a single host (/32 or /128). Returns normalised
 * `address/prefix` strings; throws a one-line Error naming the first bad entry.
 */
export function parseAllowNetworks(raw: string): string[] {
  const out: string[] = [];
  for (const entry of raw.split(/[\s,]+/)) {
    if (entry === '') continue;
    const c = parseCidr(entry);
    out.push(`${c.address}/${c.prefix}`);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------

export class NetworkPolicy {
  readonly #allow: net.BlockList;
  readonly #allowNetworks: readonly string[];

  /** @param allowNetworks CIDRs (see parseAllowNetworks) allowed even though they are in a blocked range. */
  constructor(allowNetworks: readonly string[] = []) {
    this.#allow = new net.BlockList();
    const normalised: string[] = [];
    for (const entry of allowNetworks) {
      const c = parseCidr(entry.trim());
      this.#allow.addSubnet(c.address, c.prefix, c.family);
      normalised.push(`${c.address}/${c.prefix}`);
    }
    this.#allowNetworks = normalised;
  }

  get allowNetworks(): readonly string[] {
    return this.#allowNetworks;
  }

  /** `ip` must be an IPv4 or IPv6 literal (brackets tolerated); anything else is refused. */
  check(ip: string): AddressVerdict {
    let literal = ip;
    if (literal.startsWith('[') && literal.endsWith(']')) literal = literal.slice(1, -1);
    const version = net.isIP(literal);
    if (version === 0) {
      return { allowed: false, reason: `${JSON.stringify(ip)} is not an IP address` };
    }
    const what = version === 4 ? this.#blockedV4(literal) : this.#blockedV6(literal);
    return what === null ? { allowed: true } : { allowed: false, reason: `address ${literal} is ${what}` };
  }

  /** Returns the completion of "address X is ..." if blocked, else null. */
  #blockedV4(ip: string): string | null {
    if (this.#allow.check(ip, 'ipv4')) return null;
    for (const r of V4_RANGES) {
      if (r.list.check(ip, 'ipv4')) return r.what;
    }
    return null;
  }

  #blockedV6(ip: string): string | null {
    const bare = stripZone(ip);
    if (this.#allow.check(bare, 'ipv6')) return null;
    const value = v6ToBigInt(bare);

    // :: and ::1 live inside ::/96, so name them before the IPv4-compatible form.
    if (value === 0n) return 'the unspecified address (::/128)';
    if (value === 1n) return 'a loopback address (::1/128)';

    for (const form of EMBEDDED_FORMS) {
      if (!inPrefix(value, form.prefix, form.prefixLen)) continue;
      const v4 = numberToV4(form.extract(value));
      const inner = this.#blockedV4(v4);
      return inner === null ? null : `the ${form.name} of ${v4}, which is ${inner}`;
    }

    for (const r of V6_RANGES) {
      if (r.list.check(bare, 'ipv6')) return r.what;
    }
    if (!V6_GLOBAL_UNICAST.list.check(bare, 'ipv6')) {
      return 'not a global unicast address (outside 2000::/3)';
    }
    return null;
  }
}

/**
 * For subscription create/update: if the URL's host is an IP literal (after WHATWG URL
 * normalisation, so http://2130706433/, http://0x7f.1/, http://0/, http://[::ffff:7f00:1]/ are
 * loopback) in a blocked range, return the reason; hostnames return null (they are checked at
 * connect time). Unparseable URLs also return null: URL validity is checked elsewhere, and
 * undici would refuse them anyway.
 */
export function blockedUrlReason(url: string, policy: NetworkPolicy): string | null {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return null;
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (net.isIP(host) === 0) return null;
  const verdict = policy.check(host);
  return verdict.allowed ? null : (verdict.reason ?? `address ${host} is blocked`);
}

// ---------------------------------------------------------------------------
// undici connector
// ---------------------------------------------------------------------------

const defaultLookup: LookupAll = async (hostname) => {
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
async function resolveChecked(hostname: string, policy: NetworkPolicy, lookup: LookupAll): Promise<CheckedAddress[]> {
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

    let pending: Promise<CheckedAddress[]>;
    try {
      pending = resolveChecked(hostname, policy, lookup);
    } catch (err) {
      pending = Promise.reject(err);
    }

    pending.then(
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
