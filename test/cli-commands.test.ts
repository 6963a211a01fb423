// `hookd listen` and `hookd send`, run as child processes against a real hookd child process:
// hookd delivers a signed webhook to the listener, which prints it and checks the signature.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call, subscribe } from './support/api.ts';
import { WAIT_MS, eventually } from './support/receiver.ts';
import { STARTUP_MS, databaseUrlFor, freePort, startHookd, type HookdProcess } from './support/hookd-process.ts';
import { STORE_NAMES, newTarget, openTestStore } from './support/stores.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const BIN = path.join(ROOT, 'bin/hookd.js');
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER_SECRET = 'whsec_dGhpcyBpcyBub3QgdGhlIHJpZ2h0IHNlY3JldA==';

interface Running {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in stdout, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<number | null>;
}

// listen and send need no hookd setting; they run outside the repository (no .env) with
// nothing of the test runner's environment but PATH.
const workDir = mkdtempSync(path.join(tmpdir(), 'hookd-cli-'));
const env = { PATH: process.env.PATH };

function start(args: string[]): Running {
  const child = spawn(NODE, [BIN, ...args], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return {
    child,
    output: () => stdout,
    async waitFor(pattern, timeoutMs = STARTUP_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = stdout.match(pattern);
        if (match) return match;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no ${pattern} in the output of hookd ${args.join(' ')}:\n${stdout}\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs a command to the end. */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function startListener(args: string[]): Promise<{ running: Running; url: string }> {
  const running = start(['listen', '--port', '0', ...args]);
  const [, url] = await running.waitFor(/receiving webhooks on (http:\/\/127\.0\.0\.1:\d+)/);
  return { running, url: url! };
}

after(() => rmSync(workDir, { recursive: true, force: true }));

/** POSTs `body` to the listener with these headers (values as Latin-1 bytes), through node:http. */
function post(url: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/hook`, { method: 'POST', headers: { 'content-length': String(body.length), ...headers } }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    });
    request.once('error', reject);
    request.end(body);
  });
}

test('listen escapes control characters from the request: terminal escapes never reach the terminal', async () => {
  const { running: listener, url } = await startListener([]);
  try {
    // Retitle the window, clear the screen, move up a line, a bare carriage return, a C1 CSI
    // (U+009B) and a right-to-left override, in a body that is not JSON and in a header...
    const raw = 'before \x1b]0;pwned\x07\x1b[2J\x1b[1A\r✓ signature valid \u009b31m \u202eevil\nline two\tend';
    assert.equal(await post(url, Buffer.from(raw, 'utf8'), { 'content-type': 'text/plain', 'x-sneaky': 'a\u009b2Jb' }), 200);
    // ... and in JSON strings, where the pretty printer keeps C1 and bidi characters as they are.
    assert.equal(await post(url, Buffer.from(JSON.stringify({ note: 'x\u009b2J\u202e\u001b[2J' }), 'utf8'), { 'content-type': 'application/json' }), 200);
    await listener.waitFor(/"note"/);
    await listener.waitFor(/signature not checked[\s\S]*signature not checked/);
    const printed = listener.output();
    assert.doesNotMatch(printed, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/, 'no control character printed');
    assert.ok(printed.includes('before \\x1b]0;pwned\\x07\\x1b[2J\\x1b[1A\\x0d✓ signature valid \\x9b31m \\u202eevil\nline two\tend'), printed);
    assert.ok(printed.includes('x-sneaky: a\\x9b2Jb'), printed);
    assert.ok(printed.includes('"note": "x\\x9b2J\\u202e\\u001b[2J"'), printed);
  } finally {
    assert.equal(await listener.stop(), 0);
  }
});

for (const storeName of STORE_NAMES) describe(`hookd listen and hookd send (${storeName})`, () => {
  const target = newTarget(storeName);
  let hookd: HookdProcess;
  let hookdUrl: string;
  const listeners: Running[] = [];

  before(async () => {
    await (await openTestStore(target)).close();
    hookd = startHookd('serve', {
      DATABASE_URL: databaseUrlFor(target), PORT: String(await freePort()), HOST: '127.0.0.1',
      HOOKD_ALLOW_NETWORKS: '127.0.0.0/8', LOG_LEVEL: 'info',
    });
    await hookd.waitHealthy();
    hookdUrl = hookd.url!;
  });
  after(async () => {
    const codes = await Promise.all(listeners.map((l) => l.stop()));
    assert.deepEqual(codes, listeners.map(() => 0), 'listen exits 0 on SIGTERM');
    assert.equal((await hookd.stop(10_000)).code, 0);
    await target.cleanup();
  });

  test('listen prints a signed delivery from hookd with ✓, its headers and its pretty JSON body', async () => {
    const { running: listener, url } = await startListener(['--secret', SECRET]);
    listeners.push(listener);
    const id = await subscribe(hookd, `${url}/hook`, { secret: SECRET, event_types: ['order.*'] });

    const sent = await run(['send', id, '--event-type', 'order.created', '--data', '{"order_id":"ORD-1","total":99.99}', '--url', hookdUrl]);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    const [, eventId] = sent.stdout.match(/event (\S+) accepted/)!;
    assert.match(sent.stdout, /attempt 1: success 200 in \d+ ms/);
    assert.match(sent.stdout, /✓ delivery \S+ succeeded after 1 attempt/);

    await listener.waitFor(/✓ signature valid/);
    const printed = listener.output();
    assert.match(printed, /POST \/hook {2}→ answered 200/);
    assert.match(printed, /^webhook-signature: v1,/m);
    assert.match(printed, new RegExp(`^webhook-id: ${eventId}$`, 'm'));
    assert.ok(printed.includes('{\n  "event_type": "order.created",\n  "data": {\n    "order_id": "ORD-1",\n    "total": 99.99\n  }\n}'), printed);
    assert.match(printed, new RegExp(`✓ signature valid \\(webhook-id ${eventId}, signed `));
  });

  test('listen shows ✗ when its --secret is not the subscription\'s', async () => {
    const { running: listener, url } = await startListener(['--secret', OTHER_SECRET]);
    listeners.push(listener);
    const id = await subscribe(hookd, `${url}/hook`, { secret: SECRET, event_types: ['user.*'] });
    const sent = await run(['send', id, '--event-type', 'user.registered', '--url', hookdUrl]);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    const [line] = await listener.waitFor(/[✓✗] signature.*/);
    assert.equal(line, '✗ signature invalid: no matching signature');
    assert.ok(listener.output().includes('"message": "Hello from hookd send"'));
  });

  test('send exits 1 when the delivery fails, and prints each attempt', async () => {
    const { running: listener, url } = await startListener(['--status', '500']);
    listeners.push(listener);
    const id = await subscribe(hookd, `${url}/hook`, { event_types: ['payment.*'], retry_policy: { max_attempts: 1 } });
    const sent = await run(['send', id, '--event-type', 'payment.refused', '--url', hookdUrl]);
    assert.equal(sent.code, 1, sent.stdout + sent.stderr);
    assert.match(sent.stdout, /attempt 1: http_error 500 in \d+ ms \(HTTP 500\)/);
    assert.match(sent.stdout, /✗ delivery \S+ failed after 1 attempt/);
    await listener.waitFor(/answered 500/);
    assert.match(listener.output(), /signature not checked/);
  });

  test('send --event-type fans out to the subscriptions that take the type', async () => {
    const sent = await run(['send', '--event-type', 'order.shipped', '--data', '{"order_id":"ORD-2"}', '--url', hookdUrl]);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    assert.match(sent.stdout, /accepted: 1 delivery/);
    await listeners[0]!.waitFor(/"order_id": "ORD-2"/);

    const none = await run(['send', '--event-type', 'nobody.listens', '--url', hookdUrl]);
    assert.equal(none.code, 1);
    assert.match(none.stdout, /no active subscription takes event type nobody\.listens/);
  });

  test('errors: usage is exit 2, a failed request exit 1, each with a clear message', async () => {
    const cases: [string[], number, RegExp][] = [
      [['send'], 2, /give a subscription id, or --event-type/],
      [['send', 'a', 'b'], 2, /at most one subscription id/],
      [['send', 'x', '--data', '{not json', '--url', hookdUrl], 2, /--data must be JSON/],
      [['send', 'x', '--url', 'ftp://example'], 2, /--url must be an http/],
      [['send', 'x', '--bogus'], 2, /unknown option --bogus/],
      [['listen', '--status', '99'], 2, /--status must be a whole number from 200 to 599/],
      [['listen', '--secret', 'whsec_!!'], 2, /--secret/],
      [['send', '0197a3c2-5f10-7c3e-8a41-2b9d6e0f4a11', '--url', hookdUrl], 1, /answered 404 \(subscription_not_found/],
      [['send', '--event-type', 'a.b', '--url', 'http://127.0.0.1:1'], 1, /cannot reach hookd at http:\/\/127\.0\.0\.1:1/],
    ];
    for (const [args, code, message] of cases) {
      const result = await run(args);
      assert.equal(result.code, code, `hookd ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, `hookd ${args.join(' ')}`);
    }
  });

  test('listen and send explain themselves with --help', async () => {
    for (const name of ['listen', 'send']) {
      const result = await run([name, '--help']);
      assert.equal(result.code, 0);
      assert.match(result.stdout, new RegExp(`^Usage: hookd ${name} `, 'm'));
    }
  });
});

test('a localhost target while loopback is not allowed: the hint to HOOKD_ALLOW_NETWORKS at creation, in the attempt, in hookd send and in the log', async () => {
  const target = newTarget('sqlite');
  await (await openTestStore(target)).close();
  const hookd = startHookd('serve', { DATABASE_URL: databaseUrlFor(target), PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  try {
    await hookd.waitHealthy();
    const hint = '(HOOKD_ALLOW_NETWORKS can allow it)';
    const created = await call(hookd, 'POST', '/subscriptions', { target_url: 'http://localhost:9/hook', event_types: ['order.*'] });
    assert.equal(created.status, 201);
    assert.ok(created.body.warnings.some((w: { code: string; message: string }) => w.code === 'target_host_blocked' && w.message.endsWith(hint)), JSON.stringify(created.body.warnings));
    const sent = await run(['send', created.body.id, '--event-type', 'order.created', '--url', hookd.url!]);
    assert.equal(sent.code, 1, sent.stdout + sent.stderr);
    assert.match(sent.stdout, /attempt 1: blocked in \d+ ms \(blocked: host localhost resolved to .* loopback .*\(HOOKD_ALLOW_NETWORKS can allow it\)\)/);
    const deliveries = await call(hookd, 'GET', `/subscriptions/${created.body.id}/deliveries`);
    const delivery = await call(hookd, 'GET', `/deliveries/${deliveries.body.items[0].id}`);
    assert.ok(delivery.body.logs[0].error_details.endsWith(hint), delivery.body.logs[0].error_details);
    // The log line reaches this process through hookd's stdout, maybe after the API's answer.
    const logged = await eventually(() => hookd.output.split('\n').find((line) => line.includes('delivery attempt') && line.includes('blocked')), WAIT_MS, 'the blocked attempt in the log');
    assert.ok(logged.includes(hint), logged);
  } finally {
    assert.equal((await hookd.stop(10_000)).code, 0);
    await target.cleanup();
  }
});
