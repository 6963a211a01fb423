import { CONFIG_NOTE, configOptions, type Command } from './command.ts';
import { runApp } from './run-app.ts';

export const command: Command = {
  name: 'api',
  summary: 'Run the API and the web UI only; no deliveries are sent (pair it with `hookd worker` on PostgreSQL).',
  usage: 'hookd api [--port N] [--host ADDR] [--database-url URL] [--log-level LEVEL] [--insecure-no-auth]',
  options: configOptions('port', 'host', 'database-url', 'log-level', 'insecure-no-auth'),
  note: CONFIG_NOTE,
  run: (args) => runApp('api', args),
};
