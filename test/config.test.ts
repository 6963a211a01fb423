// Configuration: defaults, precedence of flags over the environment, one-line errors that
// name the setting, database URL parsing, and the README's table kept in step with SETTINGS.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, SETTINGS, loadConfig, parseDatabaseUrl } from '../src/config.ts';

const README = new URL('../README.md', import.meta.url);

function configError(env: Record<string, string>, flags: Record<string, string> = {}): ConfigError {
  try {
    loadConfig({ env, flags });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify({ env, flags })} to be rejected`);
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.port, 8000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.database, { kind: 'sqlite', path: path.resolve('./data/hookd.db') });
    assert.ok(config.database.kind === 'sqlite' && path.isAbsolute(config.database.path));
    assert.equal(config.maxPayloadBytes, 1024 * 1024);
    assert.deepEqual(config.retry, { maxAttempts: 8, initialDelayMs: 30_000, backoffFactor: 2, maxDelayMs: 3_600_000, jitter: 0.2 });
    assert.equal(config.retentionHours, 72);
  });

  it('never reads process.env when an env is given', () => {
    const saved = process.env.PORT;
    process.env.PORT = '1234';
    try {
      assert.equal(loadConfig({ env: {} }).port, 8000);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it('reads the environment', () => {
    const config = loadConfig({
      env: { PORT: '9000', HOST: '0.0.0.0', LOG_LEVEL: 'DEBUG', DATABASE_URL: 'postgres://u:p@db:5432/hookd', HOOKD_RETRY_JITTER: '0' },
    });
    assert.equal(config.port, 9000);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(config.database, { kind: 'postgres', url: 'postgres://u:p@db:5432/hookd' });
    assert.equal(config.retry.jitter, 0);
  });

  it('flags override the environment', () => {
    const config = loadConfig({
      env: { PORT: '9000', HOST: '10.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: '/tmp/from-env.db' },
      flags: { port: '9001', host: '127.0.0.2', 'log-level': 'error', 'database-url': '/tmp/from-flag.db' },
    });
    assert.equal(config.port, 9001);
    assert.equal(config.host, '127.0.0.2');
    assert.equal(config.logLevel, 'error');
    assert.deepEqual(config.database, { kind: 'sqlite', path: '/tmp/from-flag.db' });
  });

  const bad: [string, Record<string, string>][] = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '80.5' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['DATABASE_URL', { DATABASE_URL: '' }],
    ['HOOKD_RETRY_JITTER', { HOOKD_RETRY_JITTER: '2' }],
    ['HOOKD_RETRY_JITTER', { HOOKD_RETRY_JITTER: 'lots' }],
    ['HOOKD_RETRY_MAX_ATTEMPTS', { HOOKD_RETRY_MAX_ATTEMPTS: '0' }],
    ['HOST', { HOST: 'two words' }],
  ];
  for (const [variable, env] of bad) {
    it(`rejects ${JSON.stringify(env)} with one line naming ${variable}`, () => {
      const error = configError(env);
      assert.ok(!/[\r\n]/.test(error.message), `one line: ${JSON.stringify(error.message)}`);
      assert.ok(error.message.startsWith(`${variable} `), `names ${variable}: ${error.message}`);
      const value = Object.values(env)[0]!;
      if (value !== '' && variable !== 'DATABASE_URL') assert.ok(error.message.includes(value), `quotes the value: ${error.message}`);
    });
  }

  it('names the flag when a bad value came from a flag', () => {
    const error = configError({ PORT: '8000' }, { port: 'abc' });
    assert.ok(error.message.startsWith('--port '), error.message);
    assert.ok(!/[\r\n]/.test(error.message));
  });
});

describe('database URLs', () => {
  it('sqlite:PATH and plain paths select SQLite, resolved to absolute paths', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:/tmp/x.db'), { kind: 'sqlite', path: '/tmp/x.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite:///tmp/x.db'), { kind: 'sqlite', path: '/tmp/x.db' });
    assert.deepEqual(parseDatabaseUrl('/var/lib/hookd/hookd.db'), { kind: 'sqlite', path: '/var/lib/hookd/hookd.db' });
    assert.deepEqual(parseDatabaseUrl('data/x.db'), { kind: 'sqlite', path: path.resolve('data/x.db') });
    assert.deepEqual(parseDatabaseUrl('sqlite:rel.db'), { kind: 'sqlite', path: path.resolve('rel.db') });
    assert.deepEqual(loadConfig({ env: { DATABASE_URL: 'sqlite:/tmp/x.db' } }).database, { kind: 'sqlite', path: '/tmp/x.db' });
  });

  it('postgres:// and postgresql:// select PostgreSQL, kept as given', () => {
    for (const url of ['postgres://postgres@127.0.0.1:5432/test', 'postgresql://u:p%40ss@db.example/hookd?sslmode=require']) {
      assert.deepEqual(parseDatabaseUrl(url), { kind: 'postgres', url });
      assert.deepEqual(loadConfig({ env: { DATABASE_URL: url } }).database, { kind: 'postgres', url });
    }
  });

  it('other schemes are refused', () => {
    for (const url of ['mysql://x', 'http://example.com/db', 'redis://localhost']) {
      assert.throws(() => parseDatabaseUrl(url), ConfigError, url);
    }
  });
});

describe('README configuration table', () => {
  /** The env names in the first column of the table under "## Configuration". */
  function documented(): string[] {
    assert.ok(existsSync(README), 'README.md does not exist yet: it must document every setting of src/config.ts SETTINGS in its "## Configuration" table');
    const text = readFileSync(README, 'utf8');
    const start = text.search(/^## Configuration\b/m);
    assert.ok(start >= 0, 'README.md has no "## Configuration" section');
    const rest = text.slice(start + 1);
    const next = rest.search(/^## /m);
    const section = next >= 0 ? rest.slice(0, next) : rest;
    return [...section.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((m) => m[1]!);
  }

  it('lists every setting', () => {
    const names = documented();
    const missing = SETTINGS.map((s) => s.env).filter((env) => !names.includes(env));
    assert.deepEqual(missing, [], `README.md's configuration table lacks: ${missing.join(', ')}`);
  });

  it('lists no setting that does not exist, and none twice', () => {
    const names = documented();
    const known = new Set(SETTINGS.map((s) => s.env));
    assert.deepEqual(names.filter((n) => !known.has(n)), [], 'documented but not in SETTINGS');
    assert.equal(new Set(names).size, names.length, 'a setting is listed twice');
  });

  it('gives each setting its flag and default', () => {
    const text = readFileSync(README, 'utf8');
    for (const setting of SETTINGS) {
      const row = text.split('\n').find((line) => line.startsWith(`| \`${setting.env}\` |`));
      if (!row) continue; // reported by 'lists every setting'
      const cells = row.split('|').slice(1, -1).map((c) => c.trim());
      if (setting.flag) assert.equal(cells[1], `\`--${setting.flag}\``, `${setting.env}'s flag`);
      if (setting.default !== '') assert.equal(cells[2], `\`${setting.default}\``, `${setting.env}'s default`);
    }
  });
});

describe('tracing settings (the standard OTEL_* variables)', () => {
  it('are off without an endpoint, and with OTEL_SDK_DISABLED', () => {
    assert.equal(loadConfig({ env: {} }).tracing, null);
    assert.equal(loadConfig({ env: { OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' } }).tracing, null);
    assert.equal(loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' } }).tracing, null);
  });

  it('send to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, or to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is', () => {
    assert.deepEqual(loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' } }).tracing, {
      endpoint: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', serviceName: 'hookd', sampler: 'parentbased_always_on',
      samplerRatio: 1, scheduleDelayMs: 5000, maxQueueSize: 2048,
    });
    assert.equal(loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example/base/' } }).tracing?.endpoint, 'https://otlp.example/base/v1/traces');
    const both = loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/traces' } });
    assert.equal(both.tracing?.endpoint, 'http://b:4318/traces');
  });

  it('take the protocol, service name, sampler and batch settings', () => {
    const tracing = loadConfig({ env: {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/v1/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'hookd-eu', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '1000', OTEL_BSP_MAX_QUEUE_SIZE: '10000',
    } }).tracing;
    assert.deepEqual(tracing, {
      endpoint: 'http://b:4318/v1/traces', protocol: 'http/json', serviceName: 'hookd-eu', sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25, scheduleDelayMs: 1000, maxQueueSize: 10000,
    });
  });

  it('refuse what hookd cannot do, naming the variable', () => {
    assert.match(configError({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).message, /^OTEL_EXPORTER_OTLP_PROTOCOL grpc is not supported/);
    assert.match(configError({ OTEL_TRACES_SAMPLER: 'jaeger_remote' }).message, /^OTEL_TRACES_SAMPLER must be one of/);
    assert.match(configError({ OTEL_TRACES_SAMPLER_ARG: '2' }).message, /^OTEL_TRACES_SAMPLER_ARG must be between 0 and 1/);
    assert.match(configError({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }).message, /^OTEL_EXPORTER_OTLP_ENDPOINT must/);
  });
});
