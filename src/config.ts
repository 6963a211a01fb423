// Every setting hookd reads, in one table: the environment variable, its CLI flag,
// default, parser and one line of documentation. The README's configuration table and
// .env.example are checked against this table by the tests, so they cannot drift.
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CIRCUIT_DEFAULTS, RETRY_BOUNDS, RETRY_DEFAULTS, isWellFormedApiKey, type Bounds, type CircuitPolicy, type RetryPolicy } from './domain/index.ts';
import { parseAllowNetworks } from './delivery/ssrf/network-policy.ts';
import type { DatabaseTarget } from './store/contracts.ts';
import { parseEncryptionKey } from './store/secret-box.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  database: DatabaseTarget;
  logLevel: LogLevel;
  maxPayloadBytes: number;
  workerConcurrency: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  retentionHours: number;
  retentionIntervalMs: number;
  pollIntervalMs: number;
  subscriptionCacheTtlMs: number;
  /** CIDRs that deliveries may reach although they are private or reserved. */
  allowNetworks: string[];
  /** An API key to store (as a hash) at start, so a deployment needs no separate `keys create`. */
  apiKey: string | null;
  /** Serve without API keys although bound to a non-loopback address. */
  insecureNoAuth: boolean;
  /** Serve /metrics without an API key even when keys exist. */
  metricsPublic: boolean;
  /** Count attempts per application in /metrics too (one series per application and outcome). */
  metricsApplicationLabels: boolean;
  /** AES-256 key for secrets at rest; null stores them in plain text. */
  encryptionKey: Buffer | null;
  /** API requests per minute per API key (per client address when no keys exist); 0 disables. */
  rateLimitPerMinute: number;
  circuit: CircuitPolicy;
  /** A subscription failing without a success for this long is disabled. */
  autoDisableAfterMs: number;
  operationsUrl: string | null;
  operationsSecret: string | null;
  /** How long a stopping worker lets attempts in flight finish before releasing their leases. */
  shutdownGraceMs: number;
  /** Added to the connect and request timeouts to make a lease; covers pauses and clock drift. */
  leaseMarginMs: number;
  /** Where a `worker` process serves /metrics and its health check; null: nowhere. */
  metricsPort: number | null;
  /** Host names a hookd without API keys answers, besides localhost and IP addresses. */
  allowedHosts: string[];
  /** Origins that may embed the consumer portal in a frame (CSP frame-ancestors); empty: none. */
  portalFrameAncestors: string[];
  /** Bounds on how slowly a client may send a request, and how long an idle connection stays open. */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  /** Requests with a wrong API key allowed per minute per client address; 0: no limit. */
  authFailuresPerMinute: number;
  /** How far a signed ingest's Standard Webhooks timestamp may be from the clock. */
  ingestSignatureToleranceSeconds: number;
  /** OpenTelemetry tracing; null (the default) when off. */
  tracing: TracingConfig | null;
}

export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TraceSamplerName = (typeof TRACE_SAMPLERS)[number];
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** Tracing as the standard OTEL_* variables set it; the exporter reads its headers, timeout and compression itself. */
export interface TracingConfig {
  /** The OTLP/HTTP traces URL spans are sent to. */
  endpoint: string;
  protocol: OtlpProtocol;
  serviceName: string;
  sampler: TraceSamplerName;
  /** The ratio of the traceidratio samplers. */
  samplerRatio: number;
  /** Batch span processor: the longest wait between two exports, and the most spans held (more are dropped). */
  scheduleDelayMs: number;
  maxQueueSize: number;
}

/** A configuration value that cannot be used; its message is one line for the operator. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Parser<T> = (raw: string) => T;

export interface Setting {
  /** Name of the value while read, before values are grouped into Config. */
  key: string;
  env: string;
  flag?: string;
  /** A flag that takes no value (`--insecure-no-auth` means true). */
  booleanFlag?: true;
  /** The value is a credential: never print or log it. */
  sensitive?: true;
  default: string;
  doc: string;
  parse: Parser<unknown>;
}


function optional<T>(parse: Parser<T>): Parser<T | null> {
  return (raw) => (raw.trim() === '' ? null : parse(raw));
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

function bounded({ min, max, integer: whole }: Bounds): Parser<number> {
  return whole ? integer(min, max) : decimal(min, max);
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

function boolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no', ''].includes(value)) return false;
  throw new ConfigError(`must be true or false, got "${raw}"`);
}

function apiKey(raw: string): string | null {
  const value = raw.trim();
  if (value === '') return null;
  if (!isWellFormedApiKey(value)) throw new ConfigError(`must be "hk_" followed by at least 32 letters, digits, "-" or "_" (generate one with: hookd keys create)`);
  return value;
}

function encryptionKey(raw: string): Buffer | null {
  if (raw.trim() === '') return null;
  try {
    return parseEncryptionKey(raw);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function optionalUrl(raw: string): string | null {
  const value = raw.trim();
  if (value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`must be an absolute http:// or https:// URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`must use http:// or https://, got "${raw}"`);
  return value;
}

function otlpProtocol(raw: string): OtlpProtocol | null {
  const value = raw.trim();
  if (value === '') return null;
  if (value === 'grpc') throw new ConfigError('grpc is not supported: use http/protobuf or http/json (an OpenTelemetry Collector takes both, on port 4318)');
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(value)) throw new ConfigError(`must be one of ${OTLP_PROTOCOLS.join(', ')}, got "${raw}"`);
  return value as OtlpProtocol;
}

function traceSampler(raw: string): TraceSamplerName {
  const value = raw.trim();
  if (!(TRACE_SAMPLERS as readonly string[]).includes(value)) throw new ConfigError(`must be one of ${TRACE_SAMPLERS.join(', ')}, got "${raw}"`);
  return value as TraceSamplerName;
}

function nonEmpty(raw: string): string {
  const value = raw.trim();
  if (value === '') throw new ConfigError('must not be empty');
  return value;
}

function optionalSecret(raw: string): string | null {
  if (raw === '') return null;
  if (raw.length < 8) throw new ConfigError('must be at least 8 characters');
  return raw;
}

function host(raw: string): string {
  const value = raw.trim();
  // `[::1]` is how an IPv6 address is written in a URL; the socket wants it bare.
  const bracketed = /^\[([0-9a-f:.]+)\]$/i.exec(value);
  if (bracketed) {
    if (net.isIPv6(bracketed[1]!)) return bracketed[1]!;
    throw new ConfigError(`must be a host name or IP address, got "${raw}"`);
  }
  if (value === '' || /[\s/[\]]/.test(value)) throw new ConfigError(`must be a host name or IP address, got "${raw}"`);
  return value;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/;

function hostNames(raw: string): string[] {
  const names = raw.split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  for (const name of names) {
    if (!HOST_NAME.test(name)) throw new ConfigError(`must be host names without a port, separated by commas, got "${name}"`);
  }
  return names;
}

const ORIGIN = /^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i;

function origins(raw: string): string[] {
  const list = raw.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
  for (const origin of list) {
    if (!ORIGIN.test(origin)) throw new ConfigError(`must be origins such as https://app.example.com, separated by commas, got "${origin}"`);
  }
  return list;
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

const SETTING_TABLE = [
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
  { key: 'retryMaxAttempts', env: 'HOOKD_RETRY_MAX_ATTEMPTS', default: String(RETRY_DEFAULTS.maxAttempts), doc: 'Attempts per delivery, the first included, before it is failed.', parse: bounded(RETRY_BOUNDS.maxAttempts) },
  { key: 'retryInitialDelayMs', env: 'HOOKD_RETRY_INITIAL_DELAY_MS', default: String(RETRY_DEFAULTS.initialDelayMs), doc: 'Delay before the first retry.', parse: bounded(RETRY_BOUNDS.initialDelayMs) },
  { key: 'retryBackoffFactor', env: 'HOOKD_RETRY_BACKOFF_FACTOR', default: String(RETRY_DEFAULTS.backoffFactor), doc: 'Each retry waits this many times longer than the one before.', parse: bounded(RETRY_BOUNDS.backoffFactor) },
  { key: 'retryMaxDelayMs', env: 'HOOKD_RETRY_MAX_DELAY_MS', default: String(RETRY_DEFAULTS.maxDelayMs), doc: 'Longest delay between two attempts.', parse: bounded(RETRY_BOUNDS.maxDelayMs) },
  { key: 'retryJitter', env: 'HOOKD_RETRY_JITTER', default: String(RETRY_DEFAULTS.jitter), doc: 'Random spread of each delay, as a fraction (0.2 = ±20 %).', parse: bounded(RETRY_BOUNDS.jitter) },
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
    doc: 'Comma-separated CIDRs deliveries may reach although private, loopback or reserved (e.g. `127.0.0.0/8,::1/128` for a local receiver, whose `localhost` target is otherwise blocked, with a warning at creation). Empty: none.',
    parse: networks,
  },
  {
    key: 'apiKey', env: 'HOOKD_API_KEY', default: '', sensitive: true,
    doc: 'An API key (`hk_` + at least 32 characters) stored, as a hash, at start if missing: clients then send `Authorization: Bearer <key>`.',
    parse: apiKey,
  },
  {
    key: 'insecureNoAuth', env: 'HOOKD_INSECURE_NO_AUTH', flag: 'insecure-no-auth', booleanFlag: true, default: 'false',
    doc: 'Serve the API without authentication although bound to a non-loopback address while no API key exists.',
    parse: boolean,
  },
  { key: 'metricsPublic', env: 'HOOKD_METRICS_PUBLIC', default: 'false', doc: 'Serve /metrics without an API key even when keys exist.', parse: boolean },
  {
    key: 'metricsApplicationLabels', env: 'HOOKD_METRICS_APPLICATION_LABELS', default: 'false',
    doc: 'Also export `hookd_application_attempts_total{application,outcome}`: one series per application, so only for a bounded number of applications.',
    parse: boolean,
  },
  {
    key: 'encryptionKey', env: 'HOOKD_ENCRYPTION_KEY', default: '', sensitive: true,
    doc: '32 bytes in base64 (`openssl rand -base64 32`): subscription secrets and custom header values are then stored encrypted (AES-256-GCM); values stored before are encrypted at start and their plain copies erased from the database files (not from older backups or WAL archives). Empty: stored in plain text, and values beginning with `enc:v1:` are refused.',
    parse: encryptionKey,
  },
  {
    key: 'rateLimitPerMinute', env: 'HOOKD_RATE_LIMIT_PER_MINUTE', default: '60000',
    doc: 'API requests allowed per minute per API key (per client address while no key exists); more get 429. 0: no limit.',
    parse: integer(0, 100_000_000),
  },
  {
    key: 'circuitFailureThreshold', env: 'HOOKD_CIRCUIT_FAILURE_THRESHOLD', default: String(CIRCUIT_DEFAULTS.failureThreshold),
    doc: "Consecutive failed attempts that open a subscription's circuit: its deliveries then wait, spending no attempts.",
    parse: integer(1, 10_000),
  },
  {
    key: 'circuitCooldownMs', env: 'HOOKD_CIRCUIT_COOLDOWN_MS', default: String(CIRCUIT_DEFAULTS.cooldownMs),
    doc: 'How long an open circuit waits before one probe delivery is sent; its success closes the circuit.',
    parse: integer(10, 86_400_000),
  },
  {
    key: 'autoDisableAfterHours', env: 'HOOKD_AUTO_DISABLE_AFTER_HOURS', default: '72',
    doc: 'A subscription failing continuously (no success) for this long is disabled, with the reason recorded.',
    parse: decimal(0.0001, 24 * 365),
  },
  {
    key: 'operationsUrl', env: 'HOOKD_OPERATIONS_URL', default: '',
    doc: 'Where hookd sends its own events (`subscription.disabled`, `delivery.failed`), signed like any delivery. Empty: they are only listed in /api/v1/status.',
    parse: optionalUrl,
  },
  {
    key: 'operationsSecret', env: 'HOOKD_OPERATIONS_SECRET', default: '', sensitive: true,
    doc: 'Signing secret of the operational events sent to HOOKD_OPERATIONS_URL; generated and kept when empty, then shown at `GET /api/v1/subscriptions/00000000-0000-7000-8000-000000000001/secret` (404 until HOOKD_OPERATIONS_URL has been set, which creates that subscription).',
    parse: optionalSecret,
  },
  {
    key: 'shutdownGraceMs', env: 'HOOKD_SHUTDOWN_GRACE_MS', default: '10000',
    doc: 'On SIGTERM, how long attempts in flight may finish; then their leases are released so another worker sends them at once.',
    parse: integer(0, 600_000),
  },
  {
    key: 'leaseMarginMs', env: 'HOOKD_LEASE_MARGIN_MS', default: '30000',
    doc: "A worker's claim on a delivery lasts the connect and request timeouts plus this margin; a crashed worker's deliveries are sent again after it.",
    parse: integer(100, 3_600_000),
  },
  {
    key: 'metricsPort', env: 'HOOKD_METRICS_PORT', flag: 'metrics-port', default: '',
    doc: 'A `hookd worker` process (which has no API) serves /metrics and /api/v1/health on this port of HOST. Empty: none.',
    parse: optional(integer(1, 65535)),
  },
  {
    key: 'allowedHosts', env: 'HOOKD_ALLOWED_HOSTS', default: '',
    doc: 'While no API key exists, hookd answers only requests whose `Host` is `localhost`, an IP address or one of these comma-separated names (e.g. `hookd.internal`); others get 421, so a web page cannot reach it through DNS rebinding.',
    parse: hostNames,
  },
  {
    key: 'portalFrameAncestors', env: 'HOOKD_PORTAL_FRAME_ANCESTORS', default: '',
    doc: 'Origins whose pages may embed the consumer portal in an iframe, comma-separated (e.g. `https://app.example.com`); they become its `Content-Security-Policy: frame-ancestors`. Empty: it cannot be framed.',
    parse: origins,
  },
  {
    key: 'headersTimeoutMs', env: 'HOOKD_HTTP_HEADERS_TIMEOUT_MS', default: '10000',
    doc: 'A client must send all of its request headers within this; else 408 and the connection is closed.',
    parse: integer(100, 600_000),
  },
  {
    key: 'httpRequestTimeoutMs', env: 'HOOKD_HTTP_REQUEST_TIMEOUT_MS', default: '30000',
    doc: 'A client must send its whole request, headers and body, within this; else 408 and the connection is closed.',
    parse: integer(100, 3_600_000),
  },
  {
    key: 'keepAliveTimeoutMs', env: 'HOOKD_HTTP_KEEP_ALIVE_TIMEOUT_MS', default: '72000',
    doc: 'An idle keep-alive connection is closed after this (longer than the 60 s idle timeout of common load balancers).',
    parse: integer(100, 3_600_000),
  },
  {
    key: 'authFailuresPerMinute', env: 'HOOKD_AUTH_FAILURES_PER_MINUTE', default: '30',
    doc: 'Requests with a wrong API key allowed per minute per client address; past it, every request of that address that needs a key gets 429 until the minute ends. 0: no limit.',
    parse: integer(0, 1_000_000),
  },
  {
    key: 'ingestSignatureToleranceSeconds', env: 'HOOKD_INGEST_SIGNATURE_TOLERANCE_SECONDS', default: '300',
    doc: 'A signed ingest request\'s Standard Webhooks `webhook-timestamp` must be within this many seconds of the server clock, either way; its `webhook-id` is remembered for 24 hours, so a replay creates no second event.',
    parse: integer(1, 86_400),
  },
  {
    key: 'otelEndpoint', env: 'OTEL_EXPORTER_OTLP_ENDPOINT', default: '',
    doc: 'OpenTelemetry tracing: the OTLP/HTTP base URL spans are sent to, `/v1/traces` appended (e.g. `http://localhost:4318`). Empty: tracing is off (see [Tracing](#tracing)).',
    parse: optionalUrl,
  },
  {
    key: 'otelTracesEndpoint', env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', default: '',
    doc: 'The full OTLP/HTTP traces URL, used as it is; wins over OTEL_EXPORTER_OTLP_ENDPOINT and turns tracing on too.',
    parse: optionalUrl,
  },
  {
    key: 'otelProtocol', env: 'OTEL_EXPORTER_OTLP_PROTOCOL', default: 'http/protobuf',
    doc: 'How spans are encoded: `http/protobuf` or `http/json` (`grpc` is not supported).',
    parse: otlpProtocol,
  },
  {
    key: 'otelTracesProtocol', env: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', default: '',
    doc: 'The same for traces alone; wins over OTEL_EXPORTER_OTLP_PROTOCOL.',
    parse: otlpProtocol,
  },
  { key: 'otelSdkDisabled', env: 'OTEL_SDK_DISABLED', default: 'false', doc: '`true` turns tracing off whatever the endpoint.', parse: boolean },
  { key: 'otelServiceName', env: 'OTEL_SERVICE_NAME', default: 'hookd', doc: 'The `service.name` of the spans (more resource attributes: OTEL_RESOURCE_ATTRIBUTES).', parse: nonEmpty },
  {
    key: 'otelSampler', env: 'OTEL_TRACES_SAMPLER', default: 'parentbased_always_on',
    doc: `Which traces are recorded: ${TRACE_SAMPLERS.join(', ')}. The parentbased ones follow the sampled flag of the producer's traceparent.`,
    parse: traceSampler,
  },
  {
    key: 'otelSamplerArg', env: 'OTEL_TRACES_SAMPLER_ARG', default: '',
    doc: 'The ratio of traces the traceidratio samplers record, 0 to 1. Empty: 1.',
    parse: optional(decimal(0, 1)),
  },
  { key: 'otelScheduleDelayMs', env: 'OTEL_BSP_SCHEDULE_DELAY', default: '5000', doc: 'Spans are exported at least this often (milliseconds), in batches.', parse: integer(1, 3_600_000) },
  {
    key: 'otelMaxQueueSize', env: 'OTEL_BSP_MAX_QUEUE_SIZE', default: '2048',
    doc: 'The most ended spans held for export; beyond it spans are dropped rather than slow deliveries down.',
    parse: integer(1, 10_000_000),
  },
] as const satisfies readonly Setting[];

export const SETTINGS: readonly Setting[] = SETTING_TABLE;

/** The settings as read, before they are grouped into Config: one field per row above. */
type Flat = { -readonly [S in (typeof SETTING_TABLE)[number] as S['key']]: ReturnType<S['parse']> };

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
  const flat: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const fromFlag = setting.flag ? flags[setting.flag] : undefined;
    const raw = fromFlag ?? env[setting.env] ?? setting.default;
    const source = fromFlag !== undefined ? `--${setting.flag}` : setting.env;
    try {
      flat[setting.key] = setting.parse(raw);
    } catch (error) {
      const reason = error instanceof ConfigError ? error.message : String(error);
      // A credential is never echoed back, whatever the parser put in its message.
      throw new ConfigError(`${source} ${setting.sensitive && raw.trim() !== '' ? reason.replaceAll(raw.trim(), '[redacted]') : reason}`);
    }
  }
  const f = flat as Flat;
  // Node refuses a headers timeout longer than the request timeout; say which settings clash.
  if (f.headersTimeoutMs > f.httpRequestTimeoutMs) {
    throw new ConfigError(`HOOKD_HTTP_HEADERS_TIMEOUT_MS (${f.headersTimeoutMs}) must not be longer than HOOKD_HTTP_REQUEST_TIMEOUT_MS (${f.httpRequestTimeoutMs})`);
  }
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
    apiKey: f.apiKey,
    insecureNoAuth: f.insecureNoAuth,
    metricsPublic: f.metricsPublic,
    metricsApplicationLabels: f.metricsApplicationLabels,
    encryptionKey: f.encryptionKey,
    rateLimitPerMinute: f.rateLimitPerMinute,
    circuit: { failureThreshold: f.circuitFailureThreshold, cooldownMs: f.circuitCooldownMs },
    autoDisableAfterMs: f.autoDisableAfterHours * 3_600_000,
    operationsUrl: f.operationsUrl,
    operationsSecret: f.operationsSecret,
    shutdownGraceMs: f.shutdownGraceMs,
    leaseMarginMs: f.leaseMarginMs,
    metricsPort: f.metricsPort,
    allowedHosts: f.allowedHosts,
    portalFrameAncestors: f.portalFrameAncestors,
    http: { headersTimeoutMs: f.headersTimeoutMs, requestTimeoutMs: f.httpRequestTimeoutMs, keepAliveTimeoutMs: f.keepAliveTimeoutMs },
    authFailuresPerMinute: f.authFailuresPerMinute,
    ingestSignatureToleranceSeconds: f.ingestSignatureToleranceSeconds,
    tracing: tracingConfig(f),
  };
}

/** On when an OTLP endpoint is set and OTEL_SDK_DISABLED is not. */
function tracingConfig(f: Flat): TracingConfig | null {
  const base = f.otelEndpoint;
  const endpoint = f.otelTracesEndpoint ?? (base === null ? null : `${base}${base.endsWith('/') ? '' : '/'}v1/traces`);
  if (endpoint === null || f.otelSdkDisabled) return null;
  return {
    endpoint,
    protocol: f.otelTracesProtocol ?? f.otelProtocol ?? 'http/protobuf',
    serviceName: f.otelServiceName,
    sampler: f.otelSampler,
    samplerRatio: f.otelSamplerArg ?? 1,
    scheduleDelayMs: f.otelScheduleDelayMs,
    maxQueueSize: f.otelMaxQueueSize,
  };
}
