// Whether deliveries to a target URL's host will get through the SSRF guard, as far as can be
// told when a subscription is made: a host name that resolves to blocked addresses (`localhost`
// while loopback is not allowed) is accepted, since what a name resolves to may change, but the
// answer warns. The guard itself (ssrf/guarded-connector.ts) decides again at every connection.
import net from 'node:net';
import { BlockedAddressError, defaultLookup, resolveChecked, type LookupAll } from './ssrf/guarded-connector.ts';
import type { NetworkPolicy } from './ssrf/network-policy.ts';

/** A resolution slower than this is not waited for: the answer then carries no warning. */
const LOOKUP_TIMEOUT_MS = 2000;

/**
 * Why the guard would refuse every delivery to `url`'s host name as it resolves now, or null
 * when it would not (or cannot tell: an unparseable URL, a name that does not resolve, a slow
 * resolver). IP literals are not looked at: those are refused outright (blockedUrlReason).
 */
export async function blockedTargetReason(url: string, policy: NetworkPolicy, lookup: LookupAll = defaultLookup): Promise<string | null> {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return null;
  }
  if (net.isIP(host.replace(/^\[|\]$/g, '')) !== 0) return null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), LOOKUP_TIMEOUT_MS);
  });
  const verdict = resolveChecked(host, policy, lookup).then(
    () => null,
    (error: unknown) => (error instanceof BlockedAddressError ? error.message : null),
  );
  try {
    return await Promise.race([verdict, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
