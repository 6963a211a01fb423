import { CONFIG_NOTE, configOptions, type Command } from './command.ts';
import { runApp } from './run-app.ts';

export const command: Command = {
  name: 'serve',
  summary: 'Run the API, the web UI and the delivery workers in one process (the default command).',
  usage: 'hookd [serve] [--port N] [--host ADDR] [--database-url URL] [--log-level LEVEL] [--insecure-no-auth]',
  options: configOptions('port', 'host', 'database-url', 'log-level', 'insecure-no-auth'),
  note: CONFIG_NOTE,
  run: (args) => runApp('serve', args),
};
