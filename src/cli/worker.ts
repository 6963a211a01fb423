import { CONFIG_NOTE, CONFIG_OPTIONS, type Command } from './command.ts';
import { runApp } from './run-app.ts';

export const command: Command = {
  name: 'worker',
  summary: 'Run delivery workers only, with no HTTP port (on PostgreSQL: any number of them, on any machine).',
  usage: 'hookd worker [--database-url URL] [--log-level LEVEL]',
  options: CONFIG_OPTIONS,
  note: CONFIG_NOTE,
  run: (args) => runApp('worker', args),
};
