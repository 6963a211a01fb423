import { loadConfig } from '../config.ts';
import { openStore } from '../store/open-store.ts';
import { CONFIG_NOTE, EXIT_OK, configFlags, configOptions, type Command } from './command.ts';

export const command: Command = {
  name: 'migrate',
  summary: 'Apply pending database migrations and exit (serve, api and worker also do this on start).',
  usage: 'hookd migrate [--database-url URL]',
  options: configOptions('database-url'),
  note: CONFIG_NOTE,
  async run({ values }) {
    const config = loadConfig({ flags: configFlags(values), loadDotEnv: true });
    const store = await openStore(config.database);
    try {
      await store.maintenance.migrate();
      process.stdout.write(`migrations applied (${store.kind}: ${store.location})\n`);
    } finally {
      await store.close();
    }
    return EXIT_OK;
  },
};
