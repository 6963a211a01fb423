// Where hookd may serve without a key: HOST counts as loopback only when every address it
// stands for is loopback, whatever its name, and `[::1]` (URL spelling) binds ::1. Real hookd
// processes; `localhost` is re-pointed by running hookd in a user and mount namespace with its
// own /etc/hosts (unshare), so the machine's resolver is left alone.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from './support/hookd-process.ts';
import { eventually } from './support/receiver.ts';

const run = promisify(execFile);
const NODE = new URL('../node_modules/.bin/node', import.meta.url).pathname;
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

function canUnshare(): boolean {
  try {
    execFileSync('unshare', ['-rm', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** An address of this machine that is not loopback (binding it sends nothing anywhere), or one from TEST-NET. */
function nonLoopbackAddress(): string {
  const found = Object.values(networkInterfaces()).flat().find((entry) => entry && entry.family === 'IPv4' && !entry.internal);
  return found?.address ?? '192.0.2.123';
}

test('HOST=localhost resolving to a non-loopback address is refused without a key (exit 2, one line)', { skip: canUnshare() ? false : 'unshare -rm is not permitted here' }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hookd-bind-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const address = nonLoopbackAddress();
  for (const mapping of [[address], ['127.0.0.1', address]]) {
    const hosts = path.join(dir, 'hosts');
    writeFileSync(hosts, mapping.map((ip) => `${ip} localhost\n`).join(''));
    const script = `mount --bind "$1" /etc/hosts && shift && exec "$@"`;
    const env = { PATH: process.env.PATH, HOST: 'localhost', PORT: String(await freePort()), DATABASE_URL: path.join(dir, 'hookd.db'), LOG_LEVEL: 'warn' };
    const exit = await run('unshare', ['-rm', 'sh', '-c', script, 'sh', hosts, NODE, MAIN, 'serve'], { env, timeout: 90_000 })
      .then(({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }));
    assert.equal(exit.code, 2, `localhost as ${mapping.join(', ')}: ${exit.output}`);
    assert.match(exit.output, new RegExp(`refusing to serve the API on localhost \\(${mapping.join(', ').replace(/\./g, '\\.')}\\) without authentication`));
  }
});

test('HOST=[::1] binds ::1 and serves', async (t) => {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'hookd-bind-'));
  const child = spawn(NODE, [MAIN, 'serve'], {
    env: { PATH: process.env.PATH, HOST: '[::1]', PORT: String(port), DATABASE_URL: path.join(dir, 'hookd.db'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  let code: number | null | undefined;
  void exited.then((value) => (code = value));
  await eventually(async () => {
    if (code !== undefined) throw new Error(`hookd exited (${code}): ${output}`);
    const response = await fetch(`http://[::1]:${port}/api/v1/health`).catch(() => null);
    return response?.status === 200 ? true : undefined;
  }, 60_000, 'hookd on [::1] to answer');
});
