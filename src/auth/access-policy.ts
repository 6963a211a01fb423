// The safe default: with no API key, hookd serves openly only where nobody else can reach it.
import dns from 'node:dns/promises';
import net from 'node:net';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config.ts';
import type { ApiKeys } from '../store/contracts.ts';
import { bootstrapApiKey } from './api-keys.ts';
import { KeyVerifier } from './key-verifier.ts';

function isLoopbackAddress(address: string): boolean {
  if (net.isIPv4(address)) return address.startsWith('127.');
  if (net.isIPv6(address)) return address === '::1' || /^::ffff:127\./i.test(address);
  return false;
}

/** The addresses HOST stands for: itself when it is an IP address, else what it resolves to (all of them). */
export async function resolveBindAddresses(host: string): Promise<string[]> {
  if (net.isIP(host) !== 0) return [host];
  try {
    return (await dns.lookup(host, { all: true })).map((entry) => entry.address);
  } catch (error) {
    throw new ConfigError(`HOST ${host} does not resolve to an address (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

export interface PreparedAccess {
  keys: KeyVerifier;
  openWithoutKeys: boolean;
  /** No key exists and hookd serves openly because it is bound to loopback alone. */
  keylessOnLoopback: boolean;
}

export interface AccessDecision {
  /** Until a key is created, requests need none. Once one exists (even revoked), every request does. */
  openWithoutKeys: boolean;
  /** What to tell the operator loudly at start, when serving without authentication. */
  warning: string | null;
}

/**
 * Throws a one-line ConfigError when hookd would be reachable from other machines without any
 * key. `addresses` are those HOST stands for (resolveBindAddresses): a name counts as loopback
 * only when every address it resolves to is, whatever the name.
 */
export function decideAccess(config: Pick<Config, 'host' | 'port' | 'insecureNoAuth'>, keysConfigured: boolean, addresses: readonly string[]): AccessDecision {
  const loopback = addresses.length > 0 && addresses.every(isLoopbackAddress);
  const openWithoutKeys = loopback || config.insecureNoAuth;
  if (keysConfigured) return { openWithoutKeys, warning: null };
  if (!openWithoutKeys) {
    const where = addresses.length === 1 && addresses[0] === config.host ? config.host : `${config.host} (${addresses.join(', ')})`;
    throw new ConfigError(
      `refusing to serve the API on ${where} without authentication: create an API key (hookd keys create, or set HOOKD_API_KEY), bind to 127.0.0.1, or pass --insecure-no-auth`,
    );
  }
  return {
    openWithoutKeys,
    warning: loopback
      ? `NO AUTHENTICATION: no API key exists, so anyone on this machine can use the API on ${config.host}:${config.port}. Create one with \`hookd keys create\` or set HOOKD_API_KEY.`
      : `NO AUTHENTICATION (--insecure-no-auth): anyone who can reach ${config.host}:${config.port} can use the API, read delivery logs and create subscriptions. Create an API key with \`hookd keys create\` or set HOOKD_API_KEY.`,
  };
}

/**
 * At start of a process that serves the API: stores the HOOKD_API_KEY hash if missing, then
 * decides whether requests may come without a key, saying so loudly when they may.
 */
export async function prepareAccess(apiKeys: ApiKeys, config: Config, logger: Logger, clock: () => number): Promise<PreparedAccess> {
  if (config.apiKey !== null) {
    const result = await bootstrapApiKey(apiKeys, config.apiKey, clock());
    if (result === 'created') logger.info('the API key from HOOKD_API_KEY was stored (as a hash)');
    if (result === 'revoked') logger.warn('the API key from HOOKD_API_KEY was revoked and stays revoked: it is not accepted');
  }
  const keys = new KeyVerifier(apiKeys, clock, logger);
  const keysConfigured = await keys.keysConfigured();
  const decision = decideAccess(config, keysConfigured, await resolveBindAddresses(config.host));
  if (decision.warning !== null) logger.warn(decision.warning);
  return { keys, openWithoutKeys: decision.openWithoutKeys, keylessOnLoopback: !keysConfigured && !config.insecureNoAuth };
}

/**
 * After listening, before anything else: a hookd serving without a key because it is on
 * loopback must have bound loopback addresses only (a name may resolve differently by now).
 */
export function checkBoundAddresses(access: PreparedAccess, host: string, bound: readonly string[]): void {
  if (!access.keylessOnLoopback || bound.every(isLoopbackAddress)) return;
  throw new ConfigError(`refusing to serve the API without authentication: HOST ${host} was bound to ${bound.join(', ')}, not only loopback addresses; create an API key (hookd keys create, or set HOOKD_API_KEY), bind to 127.0.0.1, or pass --insecure-no-auth`);
}
