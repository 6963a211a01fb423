/**
 * Address math for the SSRF guard: parsing IP literals into numbers, and the table of ranges
 * a delivery must never reach (with the embedded-IPv4 forms of IPv6 that hide an IPv4 address).
 * What is allowed is decided in network-policy.ts; inputs here are validated with net.isIP first.
 */
import net from 'node:net';

export function stripZone(ip: string): string {
  const pct = ip.indexOf('%');
  return pct === -1 ? ip : ip.slice(0, pct);
}

export function v4ToNumber(ip: string): number {
  const parts = ip.split('.');
  let n = 0;
  for (const p of parts) n = n * 256 + Number(p);
  return n;
}

export function numberToV4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** 128-bit value of a valid IPv6 literal (zone id ignored, dotted-quad tail supported). */
export function v6ToBigInt(ip: string): bigint {
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

export interface Range {
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
export const V4_RANGES: readonly Range[] = [
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

export const V6_RANGES: readonly Range[] = [
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
export const V6_GLOBAL_UNICAST = range('2000::/3', 'global unicast');

const MASK32 = 0xffffffffn;

export interface EmbeddedForm {
  prefix: bigint;
  prefixLen: bigint;
  name: string;
  extract: (v: bigint) => number;
}

const last32 = (v: bigint): number => Number(v & MASK32);

// Checked in order; the IPv4-compatible form (::/96) comes after :: and ::1 are handled.
export const EMBEDDED_FORMS: readonly EmbeddedForm[] = [
  { prefix: 0xffffn << 32n, prefixLen: 96n, name: 'IPv4-mapped form (::ffff:0:0/96)', extract: last32 },
  { prefix: 0n, prefixLen: 96n, name: 'IPv4-compatible form (::/96)', extract: last32 },
  { prefix: 0x0064ff9bn << 96n, prefixLen: 96n, name: 'NAT64 form (64:ff9b::/96)', extract: last32 },
  { prefix: 0x0064ff9b0001n << 80n, prefixLen: 48n, name: 'local-use NAT64 form (64:ff9b:1::/48)', extract: last32 },
  { prefix: 0x2002n << 112n, prefixLen: 16n, name: '6to4 form (2002::/16)', extract: (v) => Number((v >> 80n) & MASK32) },
];

export function inPrefix(v: bigint, prefix: bigint, len: bigint): boolean {
  return v >> (128n - len) === prefix >> (128n - len);
}
