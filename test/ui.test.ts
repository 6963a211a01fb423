// The web UI: served at its paths without shadowing the API, and used end to end in a real
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core) against a real hookd and a
// loopback receiver. Screenshots of every page, at laptop and phone widths, go to test-artifacts/.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { App } from '../src/app.ts';
import { UI_DIR } from '../src/ui/ui-routes.ts';
import { startReceiver, status, type Receiver } from './support/receiver.ts';
import { newTarget, startTestApp, type StoreTarget } from './support/stores.ts';
import { shoot, textOf } from './support/chromium.ts';
import { buildUiIfStale } from './support/ui-build.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(import.meta.dirname, '..');
const LOOPBACK = { allowNetworks: ['127.0.0.0/8', '::1/128'] };
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const API_KEY = `hk_${'ui-test-key-'.repeat(4)}`;

// The pages are tested as the sources are now, not as some earlier `npm install` built them.
before(async () => {
  await buildUiIfStale();
});



describe('web UI pages', () => {
  let target: StoreTarget;
  let hookd: App;

  before(async () => {
    target = newTarget('sqlite');
    hookd = await startTestApp(target);
  });
  after(async () => {
    await hookd.close();
    await target.cleanup();
  });

  it('serves the app at each of its paths, its assets, and leaves every other path to the API', async () => {
    for (const page of ['/', '/subscriptions', '/subscriptions/new', '/deliveries/0197a3c2-7d42-7e19-9c55-5a7c3e91b0f2', '/live']) {
      const response = await fetch(hookd.url + page);
      assert.equal(response.status, 200, page);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/, page);
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.match(await response.text(), /<div id="app">/);
    }
    const script = readdirSync(path.join(UI_DIR, 'assets')).find((f) => f.endsWith('.js'))!;
    const asset = await fetch(`${hookd.url}/assets/${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);

    for (const apiPath of ['/api/v1/nothing-here', '/api/v1/subscriptions/x/y/z', '/no-such-page', '/portal/no-such-page']) {
      const response = await fetch(hookd.url + apiPath);
      assert.equal(response.status, 404, apiPath);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'route_not_found');
    }
  });

  it('serves the page at every route of the admin app and of the portal, so a reload or a shared link opens it', async () => {
    // Read from the clients' own <Route path=…> lists: a route added there without its
    // server path answered the API's 404 on reload (the portal's /portal/event-types did).
    const routesOf = (file: string) => [...readFileSync(path.join(ROOT, 'src/ui/client', file), 'utf8').matchAll(/<Route path="([^"]+)"/g)].map((m) => m[1]!);
    const routes = [...routesOf('app.tsx'), ...routesOf('portal.tsx')];
    assert.ok(routes.includes('/portal/event-types') && routes.includes('/applications'), `routes found: ${routes.join(' ')}`);
    for (const route of routes) {
      const page = route.replace(':id', '0197a3c2-7d42-7e19-9c55-5a7c3e91b0f2').replace(':name', 'order.created');
      const response = await fetch(hookd.url + page);
      assert.equal(response.status, 200, page);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/, page);
    }
  });
});

test('the web UI in Chromium: subscriptions, test events, live tail, delivery detail, retry, dashboard', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`chromium not installed at ${CHROMIUM}: browser tests skipped`);
    return;
  }
  const target = newTarget('sqlite');
  const receiver: Receiver = await startReceiver();
  const hookd = await startTestApp(target, { config: LOOPBACK });
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  t.after(async () => {
    await browser.close();
    await hookd.close();
    await receiver.close();
    await target.cleanup();
  });
  const context = await browser.newContext({ viewport: LAPTOP });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs every 4xx as an error; the 422 this test provokes is expected.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error: ${message.text()}`);
  });
  const url = (p: string) => hookd.url + p;

  await t.test('the dashboard and the subscription list start empty, and say what to do', async () => {
    await page.goto(url('/'));
    await textOf(page.getByTestId('deliveries-hour'), /Deliveries, last hour\s*0/);
    await page.getByText('Nothing delivered yet.').waitFor();
    await shoot(page, 'dashboard-empty');
    await page.getByRole('link', { name: 'Subscriptions' }).click();
    await page.getByText('No subscriptions yet.').waitFor();
  });

  let subscriptionId = '';
  await t.test('creating a subscription shows the API\'s validation message at the field, then creates it', async () => {
    await page.getByRole('link', { name: 'New subscription' }).click();
    await page.getByLabel('Target URL').fill('not a url');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    const message = await textOf(page.locator('#target_url-error'), /http/);
    assert.match(message, /absolute http:\/\/ or https:\/\/ URL/);
    assert.equal(await page.getByLabel('Target URL').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate('document.activeElement.id'), 'target_url', 'focus moves to the field at fault');
    await shoot(page, 'subscription-form-error');

    await page.getByLabel('Target URL').fill(receiver.url);
    await page.getByLabel('Description').fill('Orders receiver');
    await page.getByLabel('Event types').fill('order.*');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.waitForURL(/\/subscriptions\/[0-9a-f-]{36}$/);
    subscriptionId = page.url().split('/').pop()!;
    await page.getByText('Subscription created.').waitFor();
    await textOf(page.getByTestId('secret'), /^whsec_[A-Za-z0-9+/=]{20,}$/);
    await textOf(page.locator('h1'), /Orders receiver/);
  });

  let deliveryId = '';
  await t.test('a test event sent from the UI succeeds, and the live tail shows its attempt as it happens', async () => {
    const live = await context.newPage();
    await live.goto(url('/live'));
    await textOf(live.getByTestId('live-state'), /Live/);

    await page.getByRole('button', { name: 'Send test event' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send a test event' });
    assert.match(await dialog.locator('textarea').inputValue(), /"event_type": "order\.test"/);
    await dialog.getByRole('button', { name: 'Send event' }).click();
    await textOf(dialog.getByTestId('test-delivery'), /succeeded/i);
    deliveryId = (await dialog.getByTestId('test-delivery').locator('a').textContent())!;
    assert.equal(receiver.requests.length, 1);

    const row = live.locator(`[data-testid="live-row"][data-delivery="${deliveryId}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.equal(await row.getAttribute('data-outcome'), 'success');
    assert.match((await row.textContent())!, /order\.test/);
    await shoot(live, 'live-tail');
    await live.close();

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await shoot(page, 'subscription');
  });

  await t.test('the delivery detail shows the payload as sent (the UI sends it indented) and the headers sent', async () => {
    await page.goto(url(`/deliveries/${deliveryId}`));
    const payload = await textOf(page.getByTestId('payload'), /"event_type": "order\.test"/);
    assert.match(payload, /\n {2}"data": \{\n {4}"message"/, 'indented two spaces per level');
    const headers = page.getByRole('region', { name: 'Headers sent' });
    await textOf(headers, /webhook-signature\s*v1,/);
    await textOf(headers, /x-hookd-delivery-id/);
    await textOf(page.getByTestId('attempt'), /HTTP 200/);
    await shoot(page, 'delivery');
  });

  let failingId = '';
  await t.test('a failed delivery is retried from the UI and succeeds once the receiver recovers', async () => {
    receiver.respond(status(500, 'receiver is down'));
    await page.goto(url('/subscriptions/new'));
    await page.getByLabel('Target URL').fill(receiver.url);
    await page.getByLabel('Description').fill('Flaky receiver');
    await page.getByText('Retry policy (empty fields use the server\'s defaults)').click();
    await page.getByLabel('Max attempts').fill('1');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.waitForURL(/\/subscriptions\/[0-9a-f-]{36}$/);

    await page.getByRole('button', { name: 'Send test event' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send a test event' });
    await dialog.getByRole('button', { name: 'Send event' }).click();
    await textOf(dialog.getByTestId('test-delivery'), /failed/i);
    failingId = (await dialog.getByTestId('test-delivery').locator('a').textContent())!;
    await dialog.getByTestId('test-delivery').locator('a').click();

    await page.waitForURL(url(`/deliveries/${failingId}`));
    await textOf(page.getByTestId('attempt'), /HTTP 500/);
    await textOf(page.getByTestId('attempt'), /receiver is down|Response body/);
    await shoot(page, 'delivery-failed');

    receiver.respond(status(200, 'back up'));
    await page.getByRole('button', { name: 'Retry now' }).click();
    await textOf(page.locator('.page-head .badge'), /succeeded/i, 15_000);
    const attempts = page.getByTestId('attempt');
    await textOf(attempts.first(), /Attempt 2.*HTTP 200.*manual retry/s);
    assert.equal(await attempts.count(), 2);
    await shoot(page, 'delivery-retried');
  });

  await t.test('the deliveries explorer lists both deliveries and filters them by status', async () => {
    await page.goto(url('/deliveries'));
    const rows = page.locator('table tbody tr');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/status=succeeded/);
    await textOf(page.locator('table tbody'), /succeeded/i);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No delivery matches these filters.').waitFor();
    await page.getByRole('button', { name: 'Clear' }).click();
    await rows.nth(1).waitFor();
    await shoot(page, 'deliveries');
  });

  await t.test('the dashboard numbers moved: two deliveries, three attempts, one failed', async () => {
    await page.goto(url('/'));
    await textOf(page.getByTestId('deliveries-hour'), /Deliveries, last hour\s*2/);
    await textOf(page.getByTestId('success-rate'), /66\.7 %.*2 of 3 attempts/s);
    await textOf(page.getByRole('region', { name: /Failing subscriptions/ }), /1 failed attempt · last/);
    await page.locator('.chart canvas').first().waitFor();
    await shoot(page, 'dashboard');
  });

  await t.test('every page at phone width', async () => {
    await page.setViewportSize(PHONE);
    for (const [name, pagePath] of [
      ['dashboard', '/'], ['subscriptions', '/subscriptions'], ['subscription', `/subscriptions/${subscriptionId}`],
      ['subscription-form', '/subscriptions/new'], ['deliveries', '/deliveries'], ['delivery', `/deliveries/${failingId}`], ['live-tail', '/live'],
    ] as const) {
      await page.goto(url(pagePath));
      await page.locator('main h1').waitFor();
      await page.locator('.state.loading').first().waitFor({ state: 'detached' });
      // Evaluated in the page, as text: this file is type-checked without the DOM's types.
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
      assert.ok(overflow <= 0, `${name} is ${overflow}px wider than the phone screen`);
      await shoot(page, name);
    }
    await page.setViewportSize(LAPTOP);
    await shoot(page, 'live-tail');
    await page.goto(url('/subscriptions'));
    await page.locator('table').waitFor();
    await shoot(page, 'subscriptions');
  });

  await t.test('it is usable from the keyboard: the main navigation is reached and followed with Tab and Enter', async () => {
    await page.goto(url('/'));
    await page.locator('main h1').waitFor();
    const visited: string[] = [];
    for (let i = 0; i < 8 && !visited.includes('Deliveries'); i++) {
      await page.keyboard.press('Tab');
      visited.push(String(await page.evaluate("document.activeElement?.textContent?.trim() ?? ''")));
    }
    assert.ok(visited.includes('Deliveries'), `Tab reached: ${visited.join(' | ')}`);
    await page.keyboard.press('Enter');
    await page.waitForURL(url('/deliveries'));
  });

  assert.deepEqual(problems, [], 'no script errors in the browser');
});

test('the web UI asks for an API key when the API answers 401, and uses it', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`chromium not installed at ${CHROMIUM}: browser tests skipped`);
    return;
  }
  const target = newTarget('sqlite');
  const hookd = await startTestApp(target, { config: { ...LOOPBACK, apiKey: API_KEY } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'] });
  t.after(async () => {
    await browser.close();
    await hookd.close();
    await target.cleanup();
  });
  const page = await browser.newPage({ viewport: LAPTOP });
  await page.goto(`${hookd.url}/`);
  const dialog = page.getByRole('dialog', { name: 'API key needed' });
  await dialog.waitFor();
  await shoot(page, 'api-key');
  await dialog.getByLabel('API key').fill('hk_wrong-key-wrong-key-wrong-key-wrong-key');
  await dialog.getByRole('button', { name: 'Use this key' }).click();
  await textOf(dialog, /did not accept the key/);
  await dialog.getByLabel('API key').fill(API_KEY);
  await dialog.getByRole('button', { name: 'Use this key' }).click();
  await dialog.waitFor({ state: 'detached' });
  await textOf(page.getByTestId('deliveries-hour'), /Deliveries, last hour\s*0/);
  assert.equal(await page.evaluate("sessionStorage.getItem('hookd.apiKey')"), API_KEY);
  // The live tail's stream carries the key too.
  await page.getByRole('link', { name: 'Live tail' }).click();
  await textOf(page.getByTestId('live-state'), /Live/);
});

test('the web UI with long event types, raw payloads, failed attempts, unknown ids, rotations and /docs', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`chromium not installed at ${CHROMIUM}: browser tests skipped`);
    return;
  }
  const target = newTarget('sqlite');
  const receiver: Receiver = await startReceiver();
  const hookd = await startTestApp(target, { config: LOOPBACK });
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  t.after(async () => {
    await browser.close();
    await hookd.close();
    await receiver.close();
    await target.cleanup();
  });
  const url = (p: string) => hookd.url + p;
  const api = async (method: string, p: string, body?: string | object) => {
    const response = await fetch(url(`/api/v1${p}`), {
      method, ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return (await response.json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const finished = async (id: string) => {
    for (;;) {
      const delivery = await api('GET', `/deliveries/${id}`);
      if (['succeeded', 'failed'].includes(delivery.status)) return delivery;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  // A failed delivery to a subscription without a description, then one with a
  // 100-character event type to a described one, its body as a sender wrote it.
  const plain = (await api('POST', '/subscriptions', { target_url: `${receiver.url}?plain`, retry_policy: { max_attempts: 1 } })).id as string;
  receiver.respond(status(500, 'down'));
  const failed = (await api('POST', `/ingest/${plain}`, { event_type: 'order.failed', data: {} })).delivery_id as string;
  await finished(failed);
  receiver.respond(status(200, 'ok'));
  const described = (await api('POST', '/subscriptions', { target_url: receiver.url, description: 'Billing service' })).id as string;
  const longType = `order.${'long'.repeat(23)}xx`;
  assert.equal(longType.length, 100);
  const raw = `{"event_type":"${longType}",  "data": {"big": 12345678901234567890, "text": "é",   "list":[1,2]}}`;
  const delivered = (await api('POST', `/ingest/${described}`, raw)).delivery_id as string;
  await finished(delivered);

  const context = await browser.newContext({ viewport: LAPTOP });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  /** How far a table sticks out of its box, and the widths of its event-type cells' text. */
  const layout = async () => JSON.parse(String(await page.evaluate(`JSON.stringify({
    overflow: document.querySelector('.table-wrap').scrollWidth - document.querySelector('.table-wrap').clientWidth,
    pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
    clipped: [...document.querySelectorAll('td[data-label="Event type"] .clipped')].map((e) => ({ title: e.title, text: e.textContent, cut: e.scrollWidth > e.clientWidth })),
  })`))) as { overflow: number; pageOverflow: number; clipped: { title: string; text: string; cut: boolean }[] };

  await t.test('a 100-character event type is cut to fit the Deliveries and Live tables, whole on hover', async () => {
    for (const pagePath of ['/deliveries', '/live']) {
      await page.goto(url(pagePath));
      await page.locator('table tbody tr').nth(1).waitFor();
      const measured = await layout();
      assert.ok(measured.overflow <= 0, `${pagePath}: the table is ${measured.overflow}px wider than its box`);
      assert.ok(measured.pageOverflow <= 0, `${pagePath}: the page is ${measured.pageOverflow}px wider than the window`);
      const long = measured.clipped.find((c) => c.title === longType);
      assert.ok(long, `${pagePath}: the long event type has its whole text as title`);
      assert.equal(long.text, longType, 'the text itself is whole (for screen readers and copying)');
      assert.ok(long.cut, `${pagePath}: and it is cut on screen`);
      // Subscriptions are named by description, else URL; not by the end of their id.
      const names = await page.locator('td[data-label="Subscription"]').allTextContents();
      assert.ok(names.includes('Billing service'), `${pagePath}: ${names.join(' | ')}`);
      assert.ok(names.includes(`${receiver.url}?plain`), `${pagePath}: ${names.join(' | ')}`);
      await shoot(page, `long-event-type${pagePath.replace('/', '-')}`);
    }
  });

  await t.test('the payload is shown as sent, byte for byte, and indented on request', async () => {
    await page.goto(url(`/deliveries/${delivered}`));
    const payload = page.getByTestId('payload');
    await textOf(payload, /12345678901234567890/);
    assert.equal(await payload.textContent(), raw);
    assert.equal(await page.getByTestId('payload-size').textContent(), `${Buffer.byteLength(raw)} bytes as received, sent byte for byte`);
    await page.getByRole('button', { name: 'Pretty' }).click();
    const pretty = await textOf(payload, /\n {2}"data"/);
    assert.match(pretty, /"big": 12345678901234567890,\n {4}"text": "é"/, 'numbers keep their digits, keys their order');
    await page.getByRole('button', { name: 'As sent' }).click();
    await textOf(payload, /^\{"event_type"/);
  });

  await t.test('a failed attempt says HTTP 500 once', async () => {
    await page.goto(url(`/deliveries/${failed}`));
    const attempt = await textOf(page.getByTestId('attempt'), /HTTP 500/);
    assert.equal(attempt.match(/HTTP 500/g)!.length, 1, attempt);
  });

  await t.test('an unknown delivery id says there is no such delivery, once, without a useless retry', async () => {
    const timed = await browser.newContext({ viewport: LAPTOP });
    const unknown = '0197a3c2-7d42-7e19-9c55-5a7c3e91b0f2';
    try {
      const tab = await timed.newPage();
      let asked = 0;
      await tab.route(`**/api/v1/deliveries/${unknown}`, (route) => {
        asked++;
        return route.continue();
      });
      await tab.clock.install();
      await tab.goto(url(`/deliveries/${unknown}`));
      await tab.getByText('No such delivery.').waitFor();
      assert.equal(await tab.getByRole('button', { name: 'Try again' }).count(), 0);
      assert.equal(await tab.getByText('Something went wrong').count(), 0);
      // A minute of the page's time later, it has not asked again.
      await tab.clock.runFor(60_000);
      await tab.clock.resume();
      await tab.evaluate("fetch('/api/v1/health').then((r) => r.status)");
      assert.equal(asked, 1);
      await shoot(tab, 'delivery-unknown');
    } finally {
      await timed.close();
    }
  });

  await t.test('after a rotation the secret card says until when the previous secret still signs', async () => {
    await page.goto(url(`/subscriptions/${described}`));
    await textOf(page.locator('h1'), /Billing service/);
    assert.equal(await page.getByTestId('previous-secret').count(), 0, 'no rotation yet');
    await page.getByRole('button', { name: 'Rotate…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the signing secret' });
    await dialog.getByLabel('Grace period (hours)').fill('2');
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    await dialog.waitFor({ state: 'detached' });
    await textOf(page.getByTestId('previous-secret'), /previous secret still signs deliveries, beside this one, until \d{4}-\d\d-\d\d \d\d:\d\d/);
    // And still after the page is opened again.
    const { previous_secret_expires_at: until } = await api('GET', `/subscriptions/${described}`);
    assert.ok(Date.parse(until) > Date.now() + 3600_000);
    await page.reload();
    await textOf(page.getByTestId('previous-secret'), /until/);
    await shoot(page, 'subscription-rotated');
  });

  await t.test('a secret not in the whsec_ form: the form and the secret card say how receivers must load it', async () => {
    const hint = /must load it with \{ format: "raw" \}/;
    await page.goto(url('/subscriptions/new'));
    await page.getByLabel('Target URL').fill(receiver.url);
    const secret = page.getByLabel('Signing secret');
    await secret.fill('whsec_LEn2DIbz+8l5ICQwbmXpL8AW2ArSdDJN');
    await textOf(page.locator('#secret-hint'), /generates a whsec_ secret/);
    await secret.fill('your-long-secret-key');
    await textOf(page.locator('#secret-hint'), hint);
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.waitForURL(/\/subscriptions\/[0-9a-f-]{36}$/);
    await textOf(page.getByTestId('secret'), /your-long-secret-key/);
    await textOf(page.getByTestId('raw-secret-hint'), hint);
    await shoot(page, 'subscription-raw-secret');
    // Rotating to a generated whsec_ secret ends the hint; a revealed raw secret shows it again.
    await page.getByRole('button', { name: 'Rotate…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the signing secret' });
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    await dialog.waitFor({ state: 'detached' });
    await textOf(page.getByTestId('secret'), /^whsec_/);
    assert.equal(await page.getByTestId('raw-secret-hint').count(), 0);
    const id = page.url().split('/').at(-1)!;
    await api('POST', `/subscriptions/${id}/secret/rotate`, { secret: 'another-long-raw-secret', grace_seconds: 0 });
    await page.reload();
    await page.getByRole('button', { name: 'Reveal' }).click();
    await textOf(page.getByTestId('raw-secret-hint'), hint);
  });

  await t.test('a deliveries address with a time that is not one shows the deliveries and says what it ignored', async () => {
    await page.goto(url('/deliveries?since=garbage&status=failed'));
    await textOf(page.getByTestId('ignored-filters'), /since=garbage \(not a date and time\)/);
    await textOf(page.locator('table tbody'), /failed/i);
    assert.equal(await page.locator('table tbody tr').count(), 1, 'the status filter still applies');
  });

  await t.test('/docs is the hookd API reference, not fastify\'s', async () => {
    await page.goto(url('/docs'));
    const logo = page.locator('.topbar img');
    await logo.waitFor();
    assert.equal(await page.title(), 'hookd API reference');
    const src = (await logo.getAttribute('src'))!;
    assert.match(src, /^data:image\/svg\+xml;base64,/);
    assert.match(Buffer.from(src.split(',')[1]!, 'base64').toString('utf8'), /hookd/);
    assert.match((await page.locator('link[rel="icon"]').first().getAttribute('href'))!, /hookd\.svg$/);
    assert.doesNotMatch((await page.content()).toLowerCase(), /fastify/);
    await shoot(page, 'docs');
  });

  assert.deepEqual(problems, [], 'no script errors in the browser');
});
