// The hookd command line. Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.
import { parseArgs } from 'node:util';
import { startApp, type Role } from './app.ts';
import { ConfigError, SETTINGS, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openStore } from './store/open-store.ts';
import { VERSION } from './version.ts';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

const configFlags = Object.fromEntries(
  SETTINGS.filter((s) => s.flag).map((s) => [s.flag!, { type: 'string' as const }]),
);

interface Command {
  summary: string;
  usage: string;
  run(flags: Record<string, string | undefined>): Promise<number>;
}

function serve(role: Role): Command['run'] {
  return async (flags) => {
    const config = loadConfig({ flags, loadDotEnv: true });
    const logger = createLogger(config.logLevel);
    const app = await startApp({ config, logger, role });
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await app.close();
    logger.info('stopped');
    logger.flush?.();
    return 0;
  };
}

const COMMANDS: Record<string, Command> = {
  serve: { summary: 'Run the API, the web UI and the delivery workers (the default).', usage: 'hookd serve [--port N] [--host ADDR] [--database-url URL]', run: serve('serve') },
  api: { summary: 'Run the API and web UI only (no deliveries are sent).', usage: 'hookd api [--port N] [--host ADDR] [--database-url URL]', run: serve('api') },
  worker: { summary: 'Run delivery workers only (PostgreSQL: any number, on any machine).', usage: 'hookd worker [--database-url URL]', run: serve('worker') },
  migrate: {
    summary: 'Apply database migrations and exit (serve also does this on start).',
    usage: 'hookd migrate [--database-url URL]',
    async run(flags) {
      const config = loadConfig({ flags, loadDotEnv: true });
      const store = await openStore(config.database);
      try {
        await store.migrate();
        process.stdout.write(`migrations applied (${store.kind}: ${store.location})\n`);
      } finally {
        await store.close();
      }
      return 0;
    },
  },
};

function help(): string {
  const lines = [`hookd ${VERSION}: durable webhook delivery`, '', 'Usage: hookd <command> [options]', '', 'Commands:'];
  for (const [name, command] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)}${command.summary}`);
  lines.push('', 'Options for every command (each also read from the environment variable shown):');
  for (const s of SETTINGS.filter((s) => s.flag)) lines.push(`  --${s.flag!.padEnd(14)}${s.env.padEnd(14)}${s.doc}`);
  lines.push('', 'Run `hookd <command> --help` for one command.');
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === undefined || first.startsWith('-')) {
    if (first === '--help' || first === '-h') {
      process.stdout.write(help());
      return 0;
    }
    if (first === '--version' || first === '-v') {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
  }
  const name = first && !first.startsWith('-') ? first : 'serve';
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`hookd: unknown command "${name}". Run hookd --help.\n`);
    return EXIT_USAGE;
  }
  const rest = name === first ? argv.slice(1) : argv;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: rest, options: { ...configFlags, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    process.stderr.write(`hookd ${name}: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  }
  if (values.help) {
    process.stdout.write(`${command.summary}\n\nUsage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(values as Record<string, string | undefined>);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hookd: configuration error: ${error.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`hookd ${name}: ${(error as Error).message}\n`);
    return EXIT_FAILURE;
  }
}

process.exitCode = await main(process.argv.slice(2));
