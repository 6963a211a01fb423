// A hookd without API keys cannot be driven by a web page: requests addressed to a host name
// other than localhost, an IP address or HOOKD_ALLOWED_HOSTS get 421 (DNS rebinding), and
// state-changing requests a browser marks as cross-origin get 403. Once a key exists the key
// decides, whatever the Host. Proven with raw requests and in Chromium, whose resolver maps
// attacker.example to 127.0.0.1 as a rebinding attacker's DNS would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type App } from '../src/app.ts';
import { createLogger } from '../src/logger.ts';
import { hostName } from '../src/api/keyless-guard.ts';
import { call, subscribe } from './support/api.ts';
import { chromiumInstalled, launchChromium } from './support/chromium.ts';
import { request } from './support/raw-http.ts';
import { eventually, startReceiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, testConfig, type StoreTarget } from './support/stores.ts';

const KEY = `hk_${'g'.repeat(43)}`;
const NEW_SUBSCRIPTION = JSON.stringify({ target_url: 'https://93.184.215.14/hook' });

test('the Host header is read as a name without its port', () => {
  assert.equal(hostName('localhost:8000'), 'localhost');
  assert.equal(hostName('Attacker.Example:8000'), 'attacker.example');
  assert.equal(hostName('[::1]:8000'), '::1');
  assert.equal(hostName('127.0.0.1'), '127.0.0.1');
  for (const bad of ['', 'a:b:c', '[::1', 'host:port', 'a b']) assert.equal(hostName(bad), null, bad);
});

for (const name of STORE_NAMES) {
  describe(`a hookd without API keys (${name})`, () => {
    const targets: StoreTarget[] = [];
    let app: App;
    let subscriptionId: string;
    let port: string;

    before(async () => {
      targets.push(newTarget(name));
      app = await startTestApp(targets[0]!, { config: { allowedHosts: ['hookd.internal'] } });
      port = new URL(app.url!).port;
      subscriptionId = await subscribe(app, 'https://93.184.215.14/hook');
    });
    after(async () => {
      await app.close();
      for (const target of targets) await target.cleanup();
    });

    test('answers 421 host_not_allowed to any other host name, on every path', async () => {
      for (const host of [`attacker.example:${port}`, 'attacker.example', `localhost.attacker.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
        for (const [method, path, body] of [['GET', `/api/v1/subscriptions/${subscriptionId}/secret`], ['GET', '/api/v1/subscriptions'], ['POST', '/api/v1/subscriptions', NEW_SUBSCRIPTION], ['GET', '/'], ['GET', '/api/v1/health']] as const) {
          const answer = await request(`${app.url}${path}`, { method, headers: { host, 'content-type': 'application/json' }, ...(body && { body }) });
          assert.equal(answer.status, 421, `${method} ${path} with Host ${host}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.error.code, 'host_not_allowed');
          assert.match(answer.body.error.message, /HOOKD_ALLOWED_HOSTS/);
          assert.ok(answer.body.error.message.includes(host), 'the message quotes the Host it refused');
        }
      }
      const listed = await call(app, 'GET', '/subscriptions');
      assert.equal(listed.body.items.length, 1, 'nothing was created');
    });

    test('serves localhost, IP addresses and the names in HOOKD_ALLOWED_HOSTS', async () => {
      for (const host of [`localhost:${port}`, 'localhost', `127.0.0.1:${port}`, `[::1]:${port}`, `HOOKD.internal:${port}`, `10.1.2.3:${port}`]) {
        const answer = await request(`${app.url}/api/v1/subscriptions/${subscriptionId}/secret`, { headers: { host } });
        assert.equal(answer.status, 200, `Host ${host}: ${JSON.stringify(answer.body)}`);
        assert.match(answer.body.secret, /^whsec_/);
      }
    });

    test('refuses state-changing requests that a browser marks as coming from another origin', async () => {
      const host = `localhost:${port}`;
      const post = (headers: Record<string, string>) => request(`${app.url}/api/v1/subscriptions`, {
        method: 'POST', body: NEW_SUBSCRIPTION, headers: { host, 'content-type': 'application/json', ...headers },
      });
      const crossOrigin: Record<string, string>[] = [
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site', origin: `http://localhost:3000` },
        { origin: 'http://attacker.example' },
        { origin: `http://localhost:${Number(port) + 1}` },
        { origin: 'null' },
      ];
      for (const headers of crossOrigin) {
        const answer = await post(headers);
        assert.equal(answer.status, 403, `${JSON.stringify(headers)}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'cross_origin_refused');
      }
      const deleted = await request(`${app.url}/api/v1/subscriptions/${subscriptionId}`, { method: 'DELETE', headers: { host, 'sec-fetch-site': 'cross-site' } });
      assert.equal(deleted.status, 403);
      assert.equal((await call(app, 'GET', `/subscriptions/${subscriptionId}`)).status, 200, 'still there');

      // The web UI's own requests, and clients that are not browsers.
      const sameOrigin: Record<string, string>[] = [{ 'sec-fetch-site': 'same-origin', origin: `http://${host}` }, { origin: `http://${host}` }, {}];
      for (const headers of sameOrigin) {
        const answer = await post(headers);
        assert.equal(answer.status, 201, `${JSON.stringify(headers)}: ${JSON.stringify(answer.body)}`);
      }
      const read = await request(`${app.url}/api/v1/subscriptions`, { headers: { host, 'sec-fetch-site': 'cross-site' } });
      assert.equal(read.status, 200, 'a cross-site read is not refused: the browser does not let that page see the answer');
    });

    test('once an API key exists, the key decides whatever the Host', async () => {
      targets.push(newTarget(name));
      const keyed = await startTestApp(targets.at(-1)!, { config: { apiKey: KEY } });
      try {
        const headers = { host: 'hookd.example.com', authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
        assert.equal((await request(`${keyed.url}/api/v1/subscriptions`, { method: 'POST', headers, body: NEW_SUBSCRIPTION })).status, 201);
        const without = await request(`${keyed.url}/api/v1/subscriptions`, { headers: { host: 'hookd.example.com' } });
        assert.equal(without.status, 401);
      } finally {
        await keyed.close();
      }
    });
  });
}

test('with the database gone, the keys read before still decide, so health answers in its own shape', async (t) => {
  const target = newTarget('sqlite');
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('warn', { destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  // API only: no workers polling the store this test breaks.
  const app = await startApp({ config: testConfig(target), logger, role: 'api' });
  t.after(async () => {
    await app.close().catch(() => {});
    await target.cleanup();
  });
  assert.equal((await call(app, 'GET', '/health')).status, 200);
  await app.store.close();
  await eventually(async () => {
    const answer = await call(app, 'GET', '/health');
    assert.deepEqual([answer.status, answer.body], [503, { status: 'unavailable', checks: { database: 'unavailable' } }]);
    return lines.some((line) => line.msg === 'could not re-read the API keys; using the ones read before') ? true : undefined;
  }, 10_000, 'the API keys to be re-read and fail');
  const answer = await call(app, 'GET', '/health');
  assert.deepEqual([answer.status, answer.body], [503, { status: 'unavailable', checks: { database: 'unavailable' } }]);
});

test('in Chromium, a page on a rebound host name can neither read nor create a subscription; the UI works on localhost and 127.0.0.1', async (t) => {
  if (!chromiumInstalled()) {
    t.skip('chromium not installed: browser test skipped');
    return;
  }
  const target = newTarget('sqlite');
  const receiver = await startReceiver();
  const hookd = await startTestApp(target, { config: { allowNetworks: ['127.0.0.0/8'] } });
  const port = new URL(hookd.url!).port;
  const subscriptionId = await subscribe(hookd, receiver.url, { description: 'payments receiver' });
  // Chromium's own Private Network Access check would stop this page's requests (its document
  // came from a "public" server); Firefox and Safari have no such check, so it is turned off
  // here to test hookd's own defence.
  const browser = await launchChromium([
    '--host-resolver-rules=MAP attacker.example 127.0.0.1',
    '--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks',
  ]);
  t.after(async () => {
    await browser.close();
    await hookd.close();
    await receiver.close();
    await target.cleanup();
  });

  const page = await browser.newPage();
  const attackerOrigin = `http://attacker.example:${port}`;
  // The attacker's page, as its own server first served it before re-pointing the name at
  // 127.0.0.1; everything it requests afterwards goes to 127.0.0.1, that is to hookd.
  await page.route(`${attackerOrigin}/`, (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><title>cute cats</title><script>
      const read = (answer) => answer.text().then((text) => ({ status: answer.status, text }));
      window.results = Promise.all([
        fetch('/api/v1/subscriptions/${subscriptionId}/secret').then(read),
        fetch('/api/v1/subscriptions').then(read),
        fetch('/api/v1/subscriptions', { method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ target_url: 'https://93.184.215.14/exfiltrate' }) }).then(read),
      ]).catch((error) => [{ status: 0, text: String(error) }]);
    </script>`,
  }));
  await page.goto(`${attackerOrigin}/`);
  const results = await page.evaluate(() => (globalThis as unknown as { results: Promise<{ status: number; text: string }[]> }).results);
  assert.equal(results.length, 3, JSON.stringify(results));
  for (const { status, text } of results) {
    assert.equal(status, 421, text);
    assert.equal(JSON.parse(text).error.code, 'host_not_allowed');
    assert.doesNotMatch(text, /whsec_|payments receiver/);
  }
  const subscriptions = await call(hookd, 'GET', '/subscriptions');
  assert.deepEqual(subscriptions.body.items.map((s: { id: string }) => s.id), [subscriptionId], 'the page created nothing');

  // The web UI reads and writes (a test event) on both names.
  for (const [i, host] of ['localhost', '127.0.0.1'].entries()) {
    const ui = await browser.newPage();
    await ui.goto(`http://${host}:${port}/subscriptions`);
    await ui.getByText('payments receiver').first().waitFor({ timeout: 10_000 });
    await ui.goto(`http://${host}:${port}/subscriptions/${subscriptionId}`);
    await ui.getByRole('button', { name: 'Send test event' }).click();
    await ui.getByRole('dialog', { name: 'Send a test event' }).getByRole('button', { name: 'Send event' }).click();
    await receiver.waitFor(i + 1);
    await ui.close();
  }
});
