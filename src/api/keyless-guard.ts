// What keeps web pages out of a hookd that has no API key. Such a hookd answers anyone who
// reaches it, which on loopback means every program on the machine, a browser included:
//
// - DNS rebinding: a page at http://attacker.example:8000/ whose name is re-pointed at
//   127.0.0.1 is, to the browser, same-origin with hookd and may read its answers. The
//   browser still sends `Host: attacker.example:8000`, so only requests addressed to
//   `localhost`, an IP address (a literal cannot be re-pointed) or a name the operator listed
//   in HOOKD_ALLOWED_HOSTS are served.
// - Cross-site writes: a page on another site may send requests it cannot read the answers
//   of (a form post). State-changing requests that a browser marks as coming from another
//   origin (Sec-Fetch-Site, or Origin where that header is missing) are refused.
//
// Once an API key exists neither check applies: every request then needs the key, which a
// browser never attaches by itself to a request another page makes.
import net from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import { ApiError } from './errors.ts';

export interface KeylessGuardOptions {
  keys: KeyVerifier;
  /** Host names (lower case, no port) served besides localhost and IP addresses. */
  allowedHosts: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SAME_ORIGIN_FETCH = new Set(['same-origin', 'none']);

/** The host of a Host header without its port (IPv6 literals without brackets), or null when malformed. */
export function hostName(header: string): string | null {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^\s:/[\]@]+))(?::\d{1,5})?$/i.exec(header);
  if (!match) return null;
  return (match[1] ?? match[2]!).toLowerCase();
}

export function isServedHost(name: string, allowedHosts: readonly string[]): boolean {
  return name === 'localhost' || net.isIP(name) !== 0 || allowedHosts.includes(name);
}

function refuseHost(header: string | undefined): ApiError {
  const given = header === undefined ? 'no Host header' : `Host ${JSON.stringify(header.slice(0, 200))}`;
  return new ApiError(421, 'host_not_allowed',
    `This hookd has no API key, so it answers only requests addressed to localhost, an IP address or a name in HOOKD_ALLOWED_HOSTS; this one has ${given}. Add the name to HOOKD_ALLOWED_HOSTS, or create an API key.`);
}

/** Whether a browser says this request comes from a page of another origin. */
function fromAnotherOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return !SAME_ORIGIN_FETCH.has(site.toLowerCase());
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host.toLowerCase() !== (request.headers.host ?? '').toLowerCase();
  } catch {
    // "null" (a sandboxed frame, a file:// page) or garbage: not this origin.
    return true;
  }
}

/** Adds both checks to every route of `app`; register it before the routes and before the key check. */
export function registerKeylessGuard(app: FastifyInstance, { keys, allowedHosts }: KeylessGuardOptions): void {
  app.addHook('onRequest', async (request) => {
    if (await keys.keysConfigured()) return;
    const header = request.headers.host;
    const name = header === undefined ? null : hostName(header);
    if (name === null || !isServedHost(name, allowedHosts)) throw refuseHost(header);
    if (!SAFE_METHODS.has(request.method) && fromAnotherOrigin(request)) {
      throw new ApiError(403, 'cross_origin_refused',
        `A ${request.method} from a page of another origin is refused while this hookd has no API key; use the web UI served by hookd itself, or a client that is not a browser.`);
    }
  });
}
