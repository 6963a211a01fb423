// `hookd keys create|list|revoke`: API keys, straight in the database (no running hookd
// needed). A created key is printed once, on stdout alone so scripts can capture it; only its
// hash is stored. Running processes see a new or revoked key within seconds.
import { apiKeyRecord, generateApiKey } from '../auth/api-keys.ts';
import { loadConfig } from '../config.ts';
import { openStore } from '../store/open-store.ts';
import type { ApiKey } from '../domain/index.ts';
import type { ApiKeys, Applications } from '../store/contracts.ts';
import { CONFIG_OPTIONS, EXIT_FAILURE, EXIT_OK, UsageError, configFlags, type Command, type Parsed } from './command.ts';

const MAX_NAME_LENGTH = 100;

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface CreateOptions {
  name: string | undefined;
  /** The id or uid of the one application the key may see; undefined: an admin key. */
  application: string | undefined;
  readOnly: boolean;
}

async function create(apiKeys: ApiKeys, applications: Applications, options: CreateOptions): Promise<number> {
  const { name } = options;
  if (name !== undefined && (name.trim() === '' || name.length > MAX_NAME_LENGTH)) {
    throw new UsageError(`--name must be 1 to ${MAX_NAME_LENGTH} characters`);
  }
  if ((options.application !== undefined || options.readOnly) && (await apiKeys.list()).length === 0) {
    process.stderr.write('hookd keys: the first API key must be an admin key (no --application, no --read-only): once a key exists, only an admin key can create others.\n');
    return EXIT_FAILURE;
  }
  let applicationId: string | null = null;
  if (options.application !== undefined) {
    const application = await applications.find(options.application);
    if (!application) {
      process.stderr.write(`hookd keys: no application with id or uid ${options.application}\n`);
      return EXIT_FAILURE;
    }
    applicationId = application.id;
  }
  const key = generateApiKey();
  const record = apiKeyRecord(key, name?.trim() ?? null, Date.now(), { applicationId, readOnly: options.readOnly });
  await apiKeys.create(record);
  process.stdout.write(`${key}\n`);
  const scope = `${applicationId === null ? 'admin key' : `key of application ${applicationId}`}${options.readOnly ? ', read-only' : ''}`;
  process.stderr.write(`API key ${record.id}${record.name ? ` (${record.name})` : ''} created (${scope}). It is shown only this once: keep it now. Send it as Authorization: Bearer <key>.\n`);
  return EXIT_OK;
}

function table(keys: readonly ApiKey[]): string {
  // The scope column appears once any key is bound to an application or read-only.
  const scoped = keys.some((k) => k.applicationId !== null || k.readOnly);
  const rows = [['ID', 'NAME', 'PREFIX', ...(scoped ? ['SCOPE'] : []), 'CREATED', 'LAST USED', 'REVOKED']];
  for (const k of keys) {
    const scope = `${k.applicationId ?? 'admin'}${k.readOnly ? ', read-only' : ''}`;
    rows.push([k.id, k.name ?? '-', `${k.prefix}…`, ...(scoped ? [scope] : []), iso(k.createdAt), iso(k.lastUsedAt), iso(k.revokedAt)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

async function list(apiKeys: ApiKeys): Promise<number> {
  const keys = await apiKeys.list();
  if (keys.length === 0) process.stderr.write('No API keys: the API is open on loopback and refuses to start elsewhere. Create one with hookd keys create.\n');
  else process.stdout.write(table(keys));
  return EXIT_OK;
}

async function revoke(apiKeys: ApiKeys, id: string | undefined): Promise<number> {
  if (id === undefined) throw new UsageError('keys revoke needs the id of a key (see hookd keys list)');
  const known = /^[0-9a-f-]{36}$/i.test(id) && (await apiKeys.revoke(id.toLowerCase(), Date.now()));
  if (!known) {
    process.stderr.write(`hookd keys: no unrevoked API key with id ${id}\n`);
    return EXIT_FAILURE;
  }
  process.stdout.write(`API key ${id} revoked; running hookd processes refuse it within seconds.\n`);
  return EXIT_OK;
}

async function run({ values, positionals }: Parsed): Promise<number> {
  const [action, ...rest] = positionals;
  if (action === undefined || !['create', 'list', 'revoke'].includes(action)) {
    throw new UsageError('keys needs one of: create [--name NAME] [--application APP] [--read-only], list, revoke <id>');
  }
  if (rest.length > (action === 'revoke' ? 1 : 0)) throw new UsageError(`unexpected argument "${rest.at(-1)}"`);
  for (const option of ['name', 'application', 'read-only'] as const) {
    if (values[option] !== undefined && action !== 'create') throw new UsageError(`--${option} goes with keys create`);
  }
  const config = loadConfig({ flags: configFlags(values), loadDotEnv: true });
  const store = await openStore(config.database);
  try {
    await store.maintenance.migrate();
    if (action === 'create') {
      return await create(store.apiKeys, store.applications, {
        name: values.name as string | undefined, application: values.application as string | undefined, readOnly: values['read-only'] === true,
      });
    }
    if (action === 'list') return await list(store.apiKeys);
    return await revoke(store.apiKeys, rest[0]);
  } finally {
    await store.close();
  }
}

export const command: Command = {
  name: 'keys',
  summary: 'Create, list or revoke API keys (stored as hashes; a new key is printed once).',
  usage: 'hookd keys create [--name NAME] [--application APP] [--read-only] | hookd keys list | hookd keys revoke <id>   [--database-url URL]',
  options: {
    name: { type: 'string', value: 'NAME', description: 'A label for the new key, shown by keys list.' },
    application: { type: 'string', value: 'APP', description: 'Bind the new key to one application (its id or uid); without it, an admin key.' },
    'read-only': { type: 'boolean', description: 'The new key may only read.' },
    'database-url': CONFIG_OPTIONS['database-url']!,
  },
  positionals: 'create | list | revoke <id>',
  run,
};
