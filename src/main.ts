// The hookd command line: finds the command, parses its options, runs it and turns the
// outcome into an exit code: 0 success, 1 runtime failure, 2 bad usage or configuration.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { EXIT_FAILURE, EXIT_USAGE, UsageError, commandHelp, type Command, type Parsed } from './cli/command.ts';
import { COMMANDS, DEFAULT_COMMAND } from './cli/commands.ts';
import { ConfigError } from './config.ts';
import { VERSION } from './version.ts';

async function help(): Promise<string> {
  const lines = [`hookd ${VERSION}: durable webhook delivery`, '', 'Usage: hookd <command> [options]', '', 'Commands:'];
  for (const load of Object.values(COMMANDS)) {
    const { command } = await load();
    lines.push(`  ${command.name.padEnd(10)}${command.summary}`);
  }
  lines.push('', `Without a command, hookd runs \`${DEFAULT_COMMAND}\`. Run \`hookd <command> --help\` for a command's options.`);
  return lines.join('\n') + '\n';
}

function parserOptions(command: Command): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = { help: { type: 'boolean', short: 'h' } };
  for (const [name, option] of Object.entries(command.options)) {
    options[name] = option.short ? { type: option.type, short: option.short } : { type: option.type };
  }
  return options;
}

/** What was wrong with the command line, in a few words: an unknown option names the commands that take it. */
async function parseProblem(error: Error & { code?: string }, command: Command): Promise<string> {
  const unknown = error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(--?[^' ]+)'/.exec(error.message)?.[1] : undefined;
  if (unknown === undefined) return error.message.split(/\.\s/, 1)[0]!.replace(/\.$/, '');
  const option = unknown.replace(/^--?/, '').split('=', 1)[0]!;
  const takers: string[] = [];
  for (const load of Object.values(COMMANDS)) {
    const other = (await load()).command;
    if (other.name !== command.name && Object.hasOwn(other.options, option)) takers.push(other.name);
  }
  return `unknown option ${unknown}${takers.length > 0 ? ` (it is an option of hookd ${takers.join(', ')})` : ''}`;
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(await help());
    return 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const named = first !== undefined && !first.startsWith('-');
  const name = named ? first : DEFAULT_COMMAND;
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`hookd: unknown command "${name}". Run hookd --help.\n`);
    return EXIT_USAGE;
  }
  const { command } = await load();
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: named ? argv.slice(1) : argv,
      options: parserOptions(command),
      allowPositionals: command.positionals !== undefined,
      strict: true,
    });
  } catch (error) {
    process.stderr.write(`hookd ${name}: ${await parseProblem(error as Error & { code?: string }, command)}; hookd ${name} --help lists its options\n`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  try {
    return await command.run({ values: parsed.values as Parsed['values'], positionals: parsed.positionals });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hookd: configuration error: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`hookd ${name}: ${error.message} (see hookd ${name} --help)\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`hookd ${name}: ${(error as Error).message}\n`);
    return EXIT_FAILURE;
  }
}

process.exitCode = await main(process.argv.slice(2));
