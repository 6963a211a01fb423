/**
 * What a delivery may reach: the blocked ranges of ip-addresses.ts minus the operator's
 * allowlist (HOOKD_ALLOW_NETWORKS), decided per address with the reason for a refusal.
 * `blockedUrlReason` applies it to a subscription's target URL when that names an IP literal;
 * hostnames are checked at connect time by guarded-connector.ts.
 */
import net from 'node:net';
import {
  EMBEDDED_FORMS,
  V4_RANGES,
  V6_GLOBAL_UNICAST,
  V6_RANGES,
  inPrefix,
  numberToV4,
  stripZone,
  v4ToNumber,
  v6ToBigInt,
} from './ip-addresses.ts';

/** Ends every refusal the operator can lift, wherever it is shown (API answer, attempt, log, CLI). */
export const ALLOW_NETWORKS_HINT = '(HOOKD_ALLOW_NETWORKS can allow it)';

export interface AddressVerdict {
  allowed: boolean;
  reason?: string;
}

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
