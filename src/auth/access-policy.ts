// The safe default: with no API key, hookd serves openly only where nobody else can reach it.
import net from 'node:net';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config.ts';
import type { ApiKeys } from '../store/contracts.ts';
import { bootstrapApiKey } from './api-keys.ts';
import { KeyVerifier } from './key-verifier.ts';

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (net.isIPv4(literal)) return literal.startsWith('127.');
  if (net.isIPv6(literal)) return literal === '::1' || /^::ffff:127\./i.test(literal);
  return false;
}

export interface AccessDecision {
  /** Until a key is created, requests need none. Once one exists (even revoked), every request does. */
  openWithoutKeys: boolean;
  /** What to tell the operator loudly at start, when serving without authentication. */
  warning: string | null;
}

/** Throws a one-line ConfigError when hookd would be reachable from other machines without any key. */
export function decideAccess(config: Pick<Config, 'host' | 'port' | 'insecureNoAuth'>, keysConfigured: boolean): AccessDecision {
  const loopback = isLoopbackHost(config.host);
  const openWithoutKeys = loopback || config.insecureNoAuth;
  if (keysConfigured) return { openWithoutKeys, warning: null };
  if (!openWithoutKeys) {
    throw new ConfigError(
      `refusing to serve the API on ${config.host} without authentication: create an API key (hookd keys create, or set HOOKD_API_KEY), bind to 127.0.0.1, or pass --insecure-no-auth`,
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
export async function prepareAccess(apiKeys: ApiKeys, config: Config, logger: Logger, clock: () => number): Promise<{ keys: KeyVerifier; openWithoutKeys: boolean }> {
  if (config.apiKey !== null) {
    const result = await bootstrapApiKey(apiKeys, config.apiKey, clock());
    if (result === 'created') logger.info('the API key from HOOKD_API_KEY was stored (as a hash)');
    if (result === 'revoked') logger.warn('the API key from HOOKD_API_KEY was revoked and stays revoked: it is not accepted');
  }
  const keys = new KeyVerifier(apiKeys, clock, logger);
  const decision = decideAccess(config, await keys.keysConfigured());
  if (decision.warning !== null) logger.warn(decision.warning);
  return { keys, openWithoutKeys: decision.openWithoutKeys };
}
