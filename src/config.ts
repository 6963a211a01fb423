// Every setting hookd reads, in one table: the environment variable, its CLI flag,
// default, parser and one line of documentation. The README's configuration table and
// .env.example are checked against this table by the tests, so they cannot drift.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseAllowNetworks } from './delivery/ssrf-guard.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface RetryDefaults {
  maxAttempts: number;
  initialDelayMs: number;
  backoffFactor: number;
  maxDelayMs: number;
  jitter: number;
}

export type DatabaseTarget =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string };

export interface Config {
  port: number;
  host: string;
  database: DatabaseTarget;
  logLevel: LogLevel;
  maxPayloadBytes: number;
  workerConcurrency: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  retry: RetryDefaults;
  retentionHours: number;
  retentionIntervalMs: number;
  pollIntervalMs: number;
  subscriptionCacheTtlMs: number;
  /** CIDRs that deliveries may reach although they are private or reserved. */
  allowNetworks: string[];
}

/** A configuration value that cannot be used; its message is one line for the operator. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Parser<T> = (raw: string) => T;

interface Setting<K extends keyof Flat> {
  key: K;
  env: string;
  flag?: string;
  default: string;
  doc: string;
  parse: Parser<Flat[K]>;
}

/** The settings as read, before they are grouped into Config. */
interface Flat {
  port: number;
  host: string;
  databaseUrl: DatabaseTarget;
  logLevel: LogLevel;
  maxPayloadBytes: number;
  workerConcurrency: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  retryMaxAttempts: number;
  retryInitialDelayMs: number;
  retryBackoffFactor: number;
  retryMaxDelayMs: number;
  retryJitter: number;
  retentionHours: number;
  retentionIntervalMs: number;
  pollIntervalMs: number;
  subscriptionCacheTtlMs: number;
  allowNetworks: string[];
}

function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

function decimal(min: number, max: number): Parser<number> {
  return (raw) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`must be a number, got "${raw}"`);
    if (n < min || n > max) throw new ConfigError(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(raw: string): LogLevel {
  const level = raw.trim().toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return level;
}

function networks(raw: string): string[] {
  try {
    return parseAllowNetworks(raw);
  } catch (error) {
    throw new ConfigError((error as Error).message.replace(/^invalid HOOKD_ALLOW_NETWORKS entry/, 'has an invalid entry'));
  }
}

function host(raw: string): string {
  const value = raw.trim();
  if (value === '' || /[\s/]/.test(value)) throw new ConfigError(`must be a host name or IP address, got "${raw}"`);
  return value;
}

/** `postgres://` or `postgresql://` selects PostgreSQL; `sqlite:PATH` or a plain path selects SQLite. */
export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const value = raw.trim();
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new ConfigError(`is not a valid postgres:// URL`);
    }
    return { kind: 'postgres', url: value };
  }
  const file = value.replace(/^sqlite:(\/\/)?/i, '');
  if (file === '') throw new ConfigError('names no SQLite file');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
    throw new ConfigError(`must start with postgres:// or name a SQLite file, got "${raw}"`);
  }
  return { kind: 'sqlite', path: file === ':memory:' ? file : path.resolve(file) };
}

export const SETTINGS: readonly Setting<keyof Flat>[] = [
  { key: 'port', env: 'PORT', flag: 'port', default: '8000', doc: 'TCP port of the HTTP API and web UI.', parse: integer(0, 65535) },
  { key: 'host', env: 'HOST', flag: 'host', default: '127.0.0.1', doc: 'Address to bind. Use 0.0.0.0 to listen on every interface.', parse: host },
  {
    key: 'databaseUrl', env: 'DATABASE_URL', flag: 'database-url', default: './data/hookd.db',
    doc: '`postgres://user:pass@host/db` selects PostgreSQL; a file path or `sqlite:PATH` selects the embedded SQLite store.',
    parse: parseDatabaseUrl,
  },
  { key: 'logLevel', env: 'LOG_LEVEL', flag: 'log-level', default: 'info', doc: 'One of fatal, error, warn, info, debug, trace, silent.', parse: logLevel },
  { key: 'maxPayloadBytes', env: 'HOOKD_MAX_PAYLOAD_BYTES', default: '1048576', doc: 'Largest accepted request body in bytes; larger ones get 413.', parse: integer(1024, 64 * 1024 * 1024) },
  { key: 'workerConcurrency', env: 'HOOKD_WORKER_CONCURRENCY', default: '64', doc: 'Most HTTP deliveries one process has in flight at once.', parse: integer(1, 10_000) },
  { key: 'connectTimeoutMs', env: 'HOOKD_CONNECT_TIMEOUT_MS', default: '5000', doc: 'Time allowed to open a connection to a receiver.', parse: integer(100, 120_000) },
  { key: 'requestTimeoutMs', env: 'HOOKD_REQUEST_TIMEOUT_MS', default: '15000', doc: 'Total time allowed for one delivery attempt, response included.', parse: integer(100, 300_000) },
  { key: 'retryMaxAttempts', env: 'HOOKD_RETRY_MAX_ATTEMPTS', default: '8', doc: 'Attempts per delivery, the first included, before it is failed.', parse: integer(1, 100) },
  { key: 'retryInitialDelayMs', env: 'HOOKD_RETRY_INITIAL_DELAY_MS', default: '30000', doc: 'Delay before the first retry.', parse: integer(0, 86_400_000) },
  { key: 'retryBackoffFactor', env: 'HOOKD_RETRY_BACKOFF_FACTOR', default: '2', doc: 'Each retry waits this many times longer than the one before.', parse: decimal(1, 10) },
  { key: 'retryMaxDelayMs', env: 'HOOKD_RETRY_MAX_DELAY_MS', default: '3600000', doc: 'Longest delay between two attempts.', parse: integer(0, 7 * 86_400_000) },
  { key: 'retryJitter', env: 'HOOKD_RETRY_JITTER', default: '0.2', doc: 'Random spread of each delay, as a fraction (0.2 = ±20 %).', parse: decimal(0, 1) },
  { key: 'retentionHours', env: 'HOOKD_RETENTION_HOURS', default: '72', doc: 'Finished deliveries and their attempt logs are deleted after this many hours.', parse: decimal(0.001, 24 * 365) },
  { key: 'retentionIntervalMs', env: 'HOOKD_RETENTION_INTERVAL_MS', default: '60000', doc: 'How often the retention job runs.', parse: integer(100, 86_400_000) },
  { key: 'pollIntervalMs', env: 'HOOKD_POLL_INTERVAL_MS', default: '1000', doc: 'Workers look for due deliveries at least this often, besides being woken on ingest.', parse: integer(10, 60_000) },
  {
    key: 'subscriptionCacheTtlMs', env: 'HOOKD_SUBSCRIPTION_CACHE_TTL_MS', default: '5000',
    doc: 'Longest time a cached subscription is used without re-reading it (changes made by other processes also invalidate it at once on PostgreSQL).',
    parse: integer(0, 3_600_000),
  },
  {
    key: 'allowNetworks', env: 'HOOKD_ALLOW_NETWORKS', default: '',
    doc: 'Comma-separated CIDRs deliveries may reach although private, loopback or reserved (e.g. `127.0.0.0/8,::1/128` for a local receiver). Empty: none.',
    parse: networks,
  },
];

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** CLI flags by name (without dashes), already split by the command parser. */
  flags?: Record<string, string | undefined>;
  /** Read `.env` from the working directory when present (never overrides the real environment). */
  loadDotEnv?: boolean;
}

/** Reads, validates and groups every setting; the first bad one throws a one-line ConfigError. */
export function loadConfig(options: LoadOptions = {}): Config {
  if (options.loadDotEnv && existsSync('.env')) process.loadEnvFile('.env');
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const flat = {} as Record<keyof Flat, unknown>;
  for (const setting of SETTINGS) {
    const fromFlag = setting.flag ? flags[setting.flag] : undefined;
    const raw = fromFlag ?? env[setting.env] ?? setting.default;
    const source = fromFlag !== undefined ? `--${setting.flag}` : setting.env;
    try {
      flat[setting.key] = setting.parse(raw);
    } catch (error) {
      const reason = error instanceof ConfigError ? error.message : String(error);
      throw new ConfigError(`${source} ${reason}`);
    }
  }
  const f = flat as Flat;
  return {
    port: f.port,
    host: f.host,
    database: f.databaseUrl,
    logLevel: f.logLevel,
    maxPayloadBytes: f.maxPayloadBytes,
    workerConcurrency: f.workerConcurrency,
    connectTimeoutMs: f.connectTimeoutMs,
    requestTimeoutMs: f.requestTimeoutMs,
    retry: {
      maxAttempts: f.retryMaxAttempts,
      initialDelayMs: f.retryInitialDelayMs,
      backoffFactor: f.retryBackoffFactor,
      maxDelayMs: f.retryMaxDelayMs,
      jitter: f.retryJitter,
    },
    retentionHours: f.retentionHours,
    retentionIntervalMs: f.retentionIntervalMs,
    pollIntervalMs: f.pollIntervalMs,
    subscriptionCacheTtlMs: f.subscriptionCacheTtlMs,
    allowNetworks: f.allowNetworks,
  };
}
