import { loadConfig } from '../config.ts';
import { CONFIG_NOTE, CONFIG_OPTIONS, UsageError, configFlags, configOptions, type Command } from './command.ts';
import { runApp } from './run-app.ts';

export const command: Command = {
  name: 'worker',
  summary: 'Run delivery workers only, with no HTTP port (on PostgreSQL: any number of them, on any machine).',
  usage: 'hookd worker [--database-url URL] [--log-level LEVEL] [--metrics-port N [--host ADDR] [--insecure-no-auth]]',
  options: {
    ...configOptions('database-url', 'log-level', 'metrics-port'),
    // A worker listens only on its metrics port, if it has one: these two concern that port.
    host: { ...CONFIG_OPTIONS.host!, description: 'Address the metrics port binds (default 127.0.0.1).' },
    'insecure-no-auth': { ...CONFIG_OPTIONS['insecure-no-auth']!, description: 'Serve the metrics port without an API key although bound to a non-loopback address while no key exists.' },
  },
  note: CONFIG_NOTE,
  run: (args) => {
    const withoutPort = ['host', 'insecure-no-auth'].find((flag) => args.values[flag] !== undefined);
    if (withoutPort && loadConfig({ flags: configFlags(args.values), loadDotEnv: true }).metricsPort === null) {
      throw new UsageError(`--${withoutPort} concerns the metrics port, and this worker has none (give --metrics-port or HOOKD_METRICS_PORT)`);
    }
    return runApp('worker', args);
  },
};
