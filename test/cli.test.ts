// bin/hookd.js as an operator runs it: the Node version check, help, version, exit codes,
// one-line configuration errors, migrate, and serve stopping cleanly on SIGTERM and SIGINT.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandHelp } from '../src/cli/command.ts';
import { COMMANDS } from '../src/cli/commands.ts';
import { SETTINGS } from '../src/config.ts';
import { STORE_NAMES, newTarget, openTestStore, type StoreTarget } from './support/stores.ts';
import { STARTUP_MS, databaseUrlFor, freePort } from './support/hookd-process.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = path.join(REPO_ROOT, 'bin', 'hookd.js');
const VERSION: string = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;
const NODE_24 = Number(process.versions.node.split('.')[0]) >= 24 ? process.execPath : path.join(REPO_ROOT, 'node_modules', '.bin', 'node');
const HOOKD_SETTINGS = new Set(SETTINGS.map((s) => s.env));
const STACK_LINE = /^\s+at\s/m;

/** The first Node older than 24 on this machine (the system one, not the project's), if any. */
function findOldNode(): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !d.includes('node_modules'));
  const candidates = [...dirs.map((d) => path.join(d, 'node')), '/usr/bin/node', '/usr/local/bin/node', '/bin/node'];
  for (const candidate of new Set(candidates)) {
    if (!existsSync(candidate)) continue;
    try {
      const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: STARTUP_MS }).trim();
      if (Number(version.split('.')[0]) < 24) return candidate;
    } catch {
      // not runnable: try the next one
    }
  }
  return null;
}
const OLD_NODE = findOldNode();

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment without any hookd setting of the developer's shell or of the test runner. */
function cleanEnv(settings: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env)
    .filter(([name]) => !HOOKD_SETTINGS.has(name) && !name.startsWith('HOOKD_') && name !== 'NODE_TEST_CONTEXT' && name !== 'NODE_OPTIONS');
  return { ...Object.fromEntries(inherited), ...settings };
}

function start(node: string, args: string[], cwd: string, settings: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(node, [BIN, ...args], { cwd, env: cleanEnv(settings), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const done = new Promise<Run>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs to the end; killed (and failed) after `timeoutMs`. */
async function run(node: string, args: string[], cwd: string, settings: Record<string, string> = {}, timeoutMs = STARTUP_MS): Promise<Run> {
  const { child, done } = start(node, args, cwd, settings);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const result = await done;
    assert.notEqual(result.signal, 'SIGKILL', `hookd ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${result.stderr}`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

function assertOneLine(text: string): string {
  const line = text.trimEnd();
  assert.ok(line.length > 0, 'expected a message on stderr');
  assert.ok(!line.includes('\n'), `expected exactly one line, got:\n${text}`);
  assert.ok(!STACK_LINE.test(text), `no stack trace expected:\n${text}`);
  return line;
}

describe('bin/hookd.js', () => {
  let dir: string;
  before(() => {
    // A working directory of its own, so no .env of the developer's is read.
    dir = mkdtempSync(path.join(tmpdir(), 'hookd-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('on a Node older than 24', () => {
    const skip = OLD_NODE === null ? 'no Node older than 24 found on PATH or in /usr/bin, /usr/local/bin, /bin' : false;

    for (const args of [['--help'], ['serve'], []]) {
      it(`prints one line asking for Node.js 24 and exits 1 (${args.join(' ') || 'no arguments'})`, { skip }, async () => {
        const result = await run(OLD_NODE!, args, dir);
        assert.equal(result.code, 1);
        const line = assertOneLine(result.stderr);
        assert.match(line, /Node\.js 24/);
        assert.equal(result.stdout, '');
      });
    }

    // npm's own engine check printed its multi-line warning twice before hookd's line.
    const npx = OLD_NODE === null ? null : path.join(path.dirname(OLD_NODE), 'npx');
    it('npx hookd says it once', { skip: skip || (npx !== null && !existsSync(npx) && `no npx beside ${OLD_NODE}`) }, async () => {
      const cache = mkdtempSync(path.join(tmpdir(), 'hookd-npm-cache-'));
      try {
        const child = spawn(npx!, ['--offline', '--prefix', REPO_ROOT, 'hookd', '--version'], {
          cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...cleanEnv(), PATH: `${path.dirname(OLD_NODE!)}${path.delimiter}${process.env.PATH}`, npm_config_cache: cache, npm_config_update_notifier: 'false' },
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
        const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
        assert.equal(code, 1);
        assert.match(assertOneLine(stderr), /^hookd needs Node\.js 24/);
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    });
  });

  // Quick commands run side by side; each starts its own process.
  describe('on Node 24', { concurrency: true }, () => {
    it('--help lists the commands and exits 0', async () => {
      const result = await run(NODE_24, ['--help'], dir);
      assert.equal(result.code, 0, result.stderr);
      for (const command of ['serve', 'api', 'worker', 'migrate']) {
        assert.match(result.stdout, new RegExp(`^\\s+${command}\\s`, 'm'), `lists ${command}`);
      }
      assert.ok(result.stdout.includes(VERSION));
      assert.equal(result.stderr, '');
    });

    it('<command> --help explains the command and exits 0', async () => {
      const result = await run(NODE_24, ['serve', '--help'], dir);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /--port/);
      assert.match(result.stdout, /--database-url/);
    });

    it('--version prints the version of package.json', async () => {
      const result = await run(NODE_24, ['--version'], dir);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${VERSION}\n`);
      assert.equal(result.stderr, '');
    });

    it('an unknown command exits 2 naming it', async () => {
      const result = await run(NODE_24, ['frobnicate'], dir);
      assert.equal(result.code, 2);
      assert.match(assertOneLine(result.stderr), /frobnicate/);
      assert.equal(result.stdout, '');
    });

    it('an unknown option exits 2 naming it', async () => {
      const result = await run(NODE_24, ['migrate', '--no-such-option'], dir);
      assert.equal(result.code, 2);
      assert.match(assertOneLine(result.stderr), /unknown option --no-such-option/);
    });

    it('a bad setting exits 2 with one line naming it', async () => {
      const port = await run(NODE_24, ['serve'], dir, { PORT: 'abc' });
      assert.equal(port.code, 2);
      assert.match(assertOneLine(port.stderr), /\bPORT\b/);

      const level = await run(NODE_24, ['migrate'], dir, { LOG_LEVEL: 'loud' });
      assert.equal(level.code, 2);
      assert.match(assertOneLine(level.stderr), /\bLOG_LEVEL\b/);

      const flag = await run(NODE_24, ['migrate', '--database-url', 'mysql://x'], dir);
      assert.equal(flag.code, 2);
      assert.match(assertOneLine(flag.stderr), /--database-url/);
    });

    it('migrate --database-url <file> creates the SQLite database and exits 0, twice', async () => {
      const file = path.join(dir, 'nested', 'migrate.db');
      const first = await run(NODE_24, ['migrate', '--database-url', file], dir);
      assert.equal(first.code, 0, first.stderr);
      assert.ok(existsSync(file), 'the database file exists');
      const again = await run(NODE_24, ['migrate', '--database-url', `sqlite:${file}`], dir);
      assert.equal(again.code, 0, again.stderr);
    });
  });

  describe('each command\'s own options', () => {
    it('each command lists only its own options', async () => {
      const own: Record<string, string[]> = {
        serve: ['port', 'host', 'database-url', 'log-level', 'insecure-no-auth'],
        api: ['port', 'host', 'database-url', 'log-level', 'insecure-no-auth'],
        worker: ['database-url', 'log-level', 'metrics-port', 'host', 'insecure-no-auth'],
        migrate: ['database-url'],
      };
      for (const [name, options] of Object.entries(own)) {
        const { command } = await COMMANDS[name]!();
        const listed = [...commandHelp(command).matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]);
        assert.deepEqual(listed, options, `hookd ${name} --help`);
      }
    });

    it('another command\'s option exits 2 with one line naming the commands that take it', async () => {
      const refused: [string[], RegExp][] = [
        [['worker', '--port', '5'], /^hookd worker: unknown option --port \(it is an option of hookd serve, api, listen\)/],
        [['migrate', '--host', '0.0.0.0'], /^hookd migrate: unknown option --host/],
        [['serve', '--metrics-port', '9100'], /^hookd serve: unknown option --metrics-port \(it is an option of hookd worker\)/],
        // A worker listens only on its metrics port: --host means nothing without one.
        [['worker', '--host', '0.0.0.0'], /^hookd worker: --host concerns the metrics port, and this worker has none/],
      ];
      for (const [args, message] of refused) {
        const result = await run(NODE_24, args, dir);
        assert.equal(result.code, 2, `hookd ${args.join(' ')}: ${result.stderr}`);
        assert.match(assertOneLine(result.stderr), message);
        assert.equal(result.stdout, '');
      }
    });
  });

  describe('serve on Node 24', () => {
    for (const name of STORE_NAMES) {
      describe(`serve (${name})`, () => {
        let target: StoreTarget;
        before(async () => {
          target = newTarget(name);
          // Creates the Postgres schema the child then finds through its search_path.
          await (await openTestStore(target)).close();
        });
        after(() => target.cleanup());

        for (const signal of ['SIGTERM', 'SIGINT'] as const) {
          it(`answers /api/v1/health, then exits 0 within 5 s of ${signal}`, async () => {
            const port = await freePort();
            const { child, done } = start(NODE_24, ['serve', '--port', String(port), '--database-url', databaseUrlFor(target)], dir, { LOG_LEVEL: 'warn' });
            let exited: Run | null = null;
            void done.then((r) => { exited = r; });
            try {
              const deadline = Date.now() + STARTUP_MS;
              let status = 0;
              while (Date.now() < deadline) {
                if (exited) assert.fail(`hookd serve exited while starting: ${JSON.stringify(exited)}`);
                const response = await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => null);
                status = response?.status ?? 0;
                if (response) {
                  const body = await response.json();
                  if (status === 200) assert.deepEqual(body, { status: 'ok', checks: { database: 'ok' } });
                }
                if (status === 200) break;
                await new Promise((resolve) => setTimeout(resolve, 100));
              }
              assert.equal(status, 200, `healthy within ${STARTUP_MS / 1000} s`);

              const stopping = Date.now();
              child.kill(signal);
              const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
              const result = await done;
              clearTimeout(timer);
              const elapsed = Date.now() - stopping;
              assert.equal(result.signal, null, `exited by itself, not killed (${elapsed} ms):\n${result.stderr}`);
              assert.equal(result.code, 0, result.stderr);
              assert.ok(elapsed < 5000, `took ${elapsed} ms`);
              assert.ok(!STACK_LINE.test(result.stderr), result.stderr);
            } finally {
              if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            }
          });
        }
      });
    }
  });
});
