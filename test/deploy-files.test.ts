// The deployment files agree with the settings hookd reads (src/config.ts SETTINGS): no
// variable there that hookd would ignore, none of hookd's missing from .env.example.
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
});
