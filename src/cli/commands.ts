// Every hookd command, by name, in the order `hookd --help` lists them. Each module exports
// `command: Command`; it is loaded only when needed, so `hookd listen` does not load the
// server. Adding a command is one line here.
import type { Command } from './command.ts';

export const DEFAULT_COMMAND = 'serve';

export const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  serve: () => import('./serve.ts'),
  api: () => import('./api.ts'),
  worker: () => import('./worker.ts'),
  migrate: () => import('./migrate.ts'),
  listen: () => import('./listen.ts'),
  send: () => import('./send.ts'),
  keys: () => import('./keys.ts'),
};
