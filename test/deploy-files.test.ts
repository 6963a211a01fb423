// The deployment files agree with the settings hookd reads (src/config.ts SETTINGS): no
// variable there that hookd would ignore, none of hookd's missing from .env.example, and
// every setting put in .env reaches the containers of docker-compose.yml.
// No container engine runs here, so the files are checked as text and YAML.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { SETTINGS } from '../src/config.ts';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const SETTING_NAMES = new Set(SETTINGS.map((s) => s.env));

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, unknown> | string[];
  env_file?: string | (string | { path: string; required?: boolean })[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: unknown; disable?: boolean };
}

function environmentNames(environment: ComposeService['environment']): string[] {
  if (!environment) return [];
  return Array.isArray(environment) ? environment.map((entry) => entry.split('=')[0]!) : Object.keys(environment);
}

test('docker-compose.yml: hookd and its workers use only settings hookd knows, after a healthy PostgreSQL', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
  const hookdServices = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
  assert.deepEqual(hookdServices.map(([name]) => name).sort(), ['hookd', 'worker']);
  for (const [name, service] of hookdServices) {
    const names = environmentNames(service.environment);
    assert.ok(names.includes('DATABASE_URL'), `${name} names its database`);
    for (const variable of names) assert.ok(SETTING_NAMES.has(variable), `${name}: ${variable} is not a hookd setting`);
    assert.equal(service.depends_on?.db?.condition, 'service_healthy', `${name} waits for a healthy database`);
  }
  assert.match(String((compose.services.hookd!.environment as Record<string, string>).DATABASE_URL), /^postgres:\/\/.*@db:5432\//);
  assert.deepEqual(compose.services.worker!.command, ['worker']);

  const db = compose.services.db!;
  assert.match(db.image ?? '', /^postgres:16/);
  assert.ok(db.healthcheck?.test, 'the database has a health check');
  assert.ok(compose.volumes && 'pgdata' in compose.volumes, 'the database keeps its data in a volume');
});

/** `${NAME}`, `${NAME:-default}` and `${NAME:?error}` in a compose value, as compose fills them from .env. */
function interpolate(value: string, dotEnv: ReadonlyMap<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
    const given = dotEnv.get(name);
    if (given !== undefined && given !== '') return given;
    if (kind === '?') throw new Error(`compose would refuse to start: ${rest}`);
    return kind === '-' ? rest! : '';
  });
}

/** The environment a service's container gets from a .env beside the compose file: env_file, then environment over it. */
function containerEnvironment(service: ComposeService, dotEnv: ReadonlyMap<string, string>): Map<string, string> {
  const files = service.env_file === undefined ? [] : Array.isArray(service.env_file) ? service.env_file : [service.env_file];
  const env = new Map<string, string>();
  if (files.some((file) => (typeof file === 'string' ? file : file.path) === '.env')) for (const [name, value] of dotEnv) env.set(name, value);
  const environment = service.environment ?? {};
  const entries = Array.isArray(environment) ? environment.map((entry) => entry.split(/=(.*)/s) as [string, string]) : Object.entries(environment);
  for (const [name, value] of entries) env.set(name, interpolate(String(value), dotEnv));
  return env;
}

test('docker-compose.yml: every setting in .env reaches hookd and its workers, but for the containers\' own address and database', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  // A .env setting every hookd setting to a value of its own.
  const dotEnv = new Map(SETTINGS.map((s) => [s.env, s.env === 'HOOKD_API_KEY' ? `hk_${'k'.repeat(43)}` : `from-dotenv-${s.env}`]));
  const ownValues: Record<string, string[]> = { hookd: ['DATABASE_URL', 'HOST', 'PORT'], worker: ['DATABASE_URL', 'HOST', 'PORT', 'HOOKD_METRICS_PORT'] };
  for (const [name, own] of Object.entries(ownValues)) {
    const env = containerEnvironment(compose.services[name]!, dotEnv);
    for (const setting of SETTINGS) {
      if (own.includes(setting.env)) assert.notEqual(env.get(setting.env), dotEnv.get(setting.env), `${name}: ${setting.env} is the container's own`);
      else assert.equal(env.get(setting.env), dotEnv.get(setting.env), `${name}: ${setting.env} from .env reaches the container`);
    }
    assert.equal(env.get('HOST'), '0.0.0.0');
  }
  // Compose refuses to start without an API key, as hookd on 0.0.0.0 would.
  assert.throws(() => containerEnvironment(compose.services.hookd!, new Map()), /HOOKD_API_KEY/);
  // A missing .env is not an error in itself (the API key check above says what is missing).
  assert.deepEqual(compose.services.hookd!.env_file, [{ path: '.env', required: false }]);
});

test('.env.example lists every setting, with its default, and nothing else', () => {
  const entries = new Map<string, string>();
  for (const line of read('.env.example').split('\n')) {
    const match = /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) entries.set(match[1]!, match[2]!);
  }
  for (const name of entries.keys()) assert.ok(SETTING_NAMES.has(name), `.env.example: ${name} is not a hookd setting`);
  for (const setting of SETTINGS) {
    assert.ok(entries.has(setting.env), `.env.example does not list ${setting.env}`);
    assert.equal(entries.get(setting.env), setting.default, `.env.example: the default of ${setting.env}`);
  }
});

test('Dockerfile: Node 24 slim, settings hookd knows, non-root, a data volume and a health check', () => {
  const dockerfile = read('Dockerfile');
  assert.match(dockerfile, /^FROM node:24-slim\b/m);
  const envBlock = /^ENV ((?:.*\\\n)*.*)$/m.exec(dockerfile)?.[1] ?? '';
  const names = [...envBlock.matchAll(/([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]!).filter((name) => name !== 'NODE_ENV');
  assert.deepEqual(names.sort(), ['DATABASE_URL', 'HOST', 'PORT']);
  for (const name of names) assert.ok(SETTING_NAMES.has(name), name);
  assert.match(envBlock, /DATABASE_URL=\/data\/hookd\.db/);
  assert.match(dockerfile, /^VOLUME \/data$/m);
  assert.match(dockerfile, /^USER node$/m);
  assert.match(dockerfile, /^HEALTHCHECK [^]*\/api\/v1\/health/m);
  assert.match(dockerfile, /^RUN npm ci$/m, 'the build stage runs the full install, whose prepare script builds dist/');
  assert.match(dockerfile, /^COPY --from=build \/app\/dist \.\/dist$/m);
  // The container runs hookd with the Node options of `npm start` (the memory settings).
  const startFlags = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start.split(/\s+/).filter((w) => w.startsWith('--'));
  assert.ok(startFlags.includes('--max-semi-space-size=16'), startFlags.join(' '));
  assert.deepEqual(JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)?.[1] ?? '[]'), ['node', ...startFlags, 'bin/hookd.js']);
});
