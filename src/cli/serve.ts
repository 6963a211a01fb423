import { CONFIG_NOTE, CONFIG_OPTIONS, type Command } from './command.ts';
import { runApp } from './run-app.ts';

export const command: Command = {
  name: 'serve',
  summary: 'Run the API, the web UI and the delivery workers in one process (the default command).',
  usage: 'hookd [serve] [--port N] [--host ADDR] [--database-url URL] [--log-level LEVEL]',
  options: CONFIG_OPTIONS,
  note: CONFIG_NOTE,
  run: (args) => runApp('serve', args),
};
