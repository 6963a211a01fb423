// What a hookd command is: a summary, a usage line, its own options, and a run function
// returning the exit code. src/cli/commands.ts lists them; src/main.ts parses and dispatches.
import { SETTINGS } from '../config.ts';

export const EXIT_OK = 0;
/** The work failed: a delivery failed, hookd could not be reached, the database refused. */
export const EXIT_FAILURE = 1;
/** The command line or the configuration is wrong; nothing was done. */
export const EXIT_USAGE = 2;

export interface Option {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder for the value in help, e.g. `N` or `URL`. */
  value?: string;
  description: string;
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, Option>;
  /** Names of positional arguments, for help; absent: none are accepted. */
  positionals?: string;
  /** A paragraph printed after the options in `--help`. */
  note?: string;
  run(args: Parsed): Promise<number>;
}

/** A wrong argument found while running; main prints it and exits with EXIT_USAGE. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The settings that have a flag, as options of the commands that run or migrate hookd. */
export const CONFIG_OPTIONS: Record<string, Option> = Object.fromEntries(
  SETTINGS.filter((s) => s.flag).map((s) => [s.flag!, s.booleanFlag
    ? { type: 'boolean', description: `${s.doc.replace(/`/g, '')} (or ${s.env}=true)` }
    : { type: 'string', value: s.env, description: s.doc.replace(/`/g, '') }]),
);

/** The options of these settings' flags: each command takes only those that mean something to it. */
export function configOptions(...flags: string[]): Record<string, Option> {
  return Object.fromEntries(flags.map((flag) => {
    const option = CONFIG_OPTIONS[flag];
    if (!option) throw new Error(`no setting has the flag --${flag}`);
    return [flag, option];
  }));
}

export const CONFIG_NOTE = 'Each option may also be set by the environment variable shown, or in a .env file; the README lists every setting.';

/** Config flags as loadConfig takes them. */
export function configFlags(values: Parsed['values']): Record<string, string | undefined> {
  return Object.fromEntries(Object.keys(CONFIG_OPTIONS).map((flag) => {
    const value = values[flag];
    return [flag, value === true ? 'true' : value as string | undefined];
  }));
}

export function commandHelp(command: Command): string {
  const lines = [command.summary, '', `Usage: ${command.usage}`];
  const options = Object.entries(command.options);
  if (options.length > 0) {
    lines.push('', 'Options:');
    const labels = options.map(([name, option]) => `--${name}${option.value ? ` ${option.value}` : ''}`);
    const width = Math.max(...labels.map((label) => label.length)) + 2;
    options.forEach(([, option], i) => lines.push(`  ${labels[i]!.padEnd(width)}${option.description}`));
  }
  if (command.note) lines.push('', command.note);
  return lines.join('\n') + '\n';
}

/** Parses a whole number within bounds, or throws a UsageError naming the option. */
export function integerOption(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}
