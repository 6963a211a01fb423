// The consumer portal in a real Chromium: a portal link opens one application's endpoints and
// deliveries on hookd's own origin, themed, embeddable by the configured origin only; the token
// leaves the address at once and no API key reaches the browser; the page cannot read another
// application or reach an admin route; revoking the session ends it.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { before, test } from 'node:test';
import { call } from './support/api.ts';
import { chromiumInstalled, launchChromium, shoot, textOf } from './support/chromium.ts';
import { newTarget, startTestApp } from './support/stores.ts';
import { buildUiIfStale } from './support/ui-build.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

before(async () => {
  await buildUiIfStale();
});

test('the consumer portal in Chromium: one application, themed, embeddable, no API key in the browser, revocable', async (t) => {
  if (!chromiumInstalled()) {
    t.skip('chromium not installed: browser tests skipped');
    return;
  }
  // The user's own product, on another origin, frames the portal.
  let portalUrl = '';
  const product = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>Product</title><h1>My product</h1><iframe id="portal" src="${portalUrl}" width="1000" height="700"></iframe>`);
  });
  await new Promise<void>((resolve) => product.listen(0, 'localhost', resolve));
  const productOrigin = `http://localhost:${(product.address() as AddressInfo).port}`;
  const target = newTarget('sqlite');
  const hookd = await startTestApp(target, { role: 'api', config: { portalFrameAncestors: [productOrigin] } });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await hookd.close();
    await target.cleanup();
    await new Promise((resolve) => product.close(resolve));
  });

  const admin = { authorization: `Bearer ${(await call(hookd, 'POST', '/api-keys', { name: 'admin' })).body.key}` };
  const ids: Record<string, string> = {};
  for (const uid of ['shop', 'rival']) {
    await call(hookd, 'POST', '/applications', { uid, name: uid }, admin);
    ids[uid] = (await call(hookd, 'POST', `/applications/${uid}/subscriptions`, { target_url: `https://${uid}.example.com/hooks`, description: `${uid} endpoint` }, admin)).body.id;
  }
  const session = await call(hookd, 'POST', '/applications/shop/portal-sessions', { theme: { name: 'Shop webhooks', accent: '#0a7d52' } }, admin);
  assert.equal(session.status, 201);
  portalUrl = session.body.url;
  const token: string = session.body.token;

  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

  await t.test('the link opens the application\'s endpoints, themed, and the token leaves the address', async () => {
    await page.goto(portalUrl);
    await page.getByText('shop endpoint').waitFor();
    assert.equal(await page.getByText('rival endpoint').count(), 0);
    await page.getByText('Shop webhooks').first().waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the token is gone from the address');
    assert.equal(await page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"), '#0a7d52');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('hookd.apiKey')), null, 'no API key in the browser');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('hookd.portalToken')), token);
    await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'ui-portal-1280.png'), fullPage: true });
  });

  await t.test('an endpoint created in the portal belongs to its application, its event types chosen from the catalog', async () => {
    assert.equal((await call(hookd, 'POST', '/event-types', { name: 'order.shipped', description: 'An order left the warehouse' }, admin)).status, 201);
    await page.getByRole('link', { name: 'New subscription' }).click();
    const choices = page.getByRole('group', { name: 'Choose from the catalog' });
    await textOf(choices, /order\.shipped/);
    await choices.getByRole('button', { name: 'order.shipped' }).click();
    assert.equal(await page.getByLabel('Event types').inputValue(), 'order.shipped');
    await page.getByLabel('Target URL').fill('https://shop.example.com/second');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.waitForURL(/\/portal\/subscriptions\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    const created = await call(hookd, 'GET', `/subscriptions/${id}`, undefined, admin);
    assert.equal(created.body.application_id, (await call(hookd, 'GET', '/applications/shop', undefined, admin)).body.id);
    assert.deepEqual(created.body.event_types, ['order.shipped']);
  });

  await t.test('the catalog page lists the event types, with how many of the application\'s subscriptions receive each', async () => {
    const refunded = { name: 'order.refunded', description: 'Money went back', schema: { type: 'object', properties: { refund_id: { type: 'string' } } }, example: { refund_id: 'R-1' }, deprecated: true };
    assert.equal((await call(hookd, 'POST', '/event-types', refunded, admin)).status, 201);
    const sessionReads: string[] = [];
    const noteSessionRead = (request: { url(): string }) => {
      if (request.url().endsWith('/api/v1/portal/session')) sessionReads.push(request.url());
    };
    page.on('request', noteSessionRead);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Event types' }).click();
    await page.waitForURL(/\/portal\/event-types$/);
    const shipped = page.locator('article[data-event-type="order.shipped"]');
    await shipped.waitFor();
    page.off('request', noteSessionRead);
    assert.deepEqual(sessionReads, [], 'the catalog takes the application from the portal shell\'s session');
    // The endpoint that takes every type and the one created above for order.shipped; the rival's is not counted.
    assert.equal(await textOf(shipped.getByTestId('receivers'), /subscription/), '2 subscriptions receive it');
    await textOf(shipped, /An order left the warehouse/);
    const entry = page.locator('article[data-event-type="order.refunded"]');
    assert.equal(await textOf(entry.getByTestId('receivers'), /subscription/), '1 subscription receives it');
    await textOf(entry, /deprecated/);
    const example = entry.locator('details', { hasText: 'Example data' });
    await example.getByText('Example data').click();
    assert.equal(await example.getAttribute('open'), '', 'opened');
    assert.deepEqual(JSON.parse(await example.locator('pre').textContent() ?? ''), refunded.example);
    const schema = entry.locator('details', { hasText: 'Schema of its data' });
    assert.deepEqual(JSON.parse(await schema.locator('pre').textContent() ?? ''), refunded.schema);
    await shoot(page, 'portal-catalog');
  });

  await t.test('another application and the admin routes are out of reach from the portal page', async () => {
    await page.goto(`${hookd.url}/portal/subscriptions/${ids.rival}`);
    await page.getByText(/No subscription with id/).waitFor();
    const answers = await page.evaluate(async (rival) => {
      const headers = { authorization: `Bearer ${sessionStorage.getItem('hookd.portalToken')}` };
      const status = async (path: string, init: RequestInit = {}) => (await fetch(path, { ...init, headers })).status;
      return {
        rival: await status(`/api/v1/subscriptions/${rival}`),
        rivalApp: await status('/api/v1/applications/rival'),
        rivalCatalog: await status('/api/v1/applications/rival/event-types'),
        keys: await status('/api/v1/api-keys'),
        status: await status('/api/v1/status'),
        newSession: await status('/api/v1/applications/shop/portal-sessions', { method: 'POST' }),
        adminPage: (await fetch('/')).headers.get('content-security-policy'),
      };
    }, ids.rival);
    assert.equal(answers.rival, 404);
    assert.equal(answers.rivalApp, 404);
    assert.equal(answers.rivalCatalog, 404);
    assert.equal(answers.keys, 403);
    assert.equal(answers.status, 403);
    assert.equal(answers.newSession, 403);
    assert.match(answers.adminPage ?? '', /frame-ancestors 'none'/, 'the admin UI is never framed');
  });

  await t.test('the product\'s origin may frame the portal', async () => {
    const framed = await browser.newPage();
    await framed.goto(productOrigin);
    const frame = framed.frameLocator('#portal');
    await frame.getByText('shop endpoint').waitFor();
    await framed.close();
  });

  await t.test('a read-only link shows everything and offers no change: no button the API would refuse', async () => {
    const readOnly = await call(hookd, 'POST', '/applications/shop/portal-sessions', { read_only: true }, admin);
    assert.equal(readOnly.status, 201);
    const ingested = await call(hookd, 'POST', `/ingest/${ids.shop}`, { event_type: 'order.shipped', data: { order: 7 } }, admin);
    assert.equal(ingested.status, 202);
    const viewer = await (await browser.newContext()).newPage();
    viewer.on('pageerror', (error) => problems.push(`page error (read-only): ${error.message}`));
    // Each check first waits for the session to be known (the header says read-only) and the
    // page's own content, so a button that a writable session would see has had its chance.
    await viewer.goto(readOnly.body.url);
    await viewer.getByTestId('portal-application').getByText('read-only').waitFor();
    await viewer.getByText('shop endpoint').waitFor();
    assert.equal(await viewer.getByRole('link', { name: 'New subscription' }).count(), 0);

    await viewer.goto(`${hookd.url}/portal/subscriptions/${ids.shop}`);
    await viewer.getByTestId('portal-application').getByText('read-only').waitFor();
    await viewer.getByRole('button', { name: 'Reveal' }).waitFor();
    await viewer.getByRole('heading', { name: 'Recent deliveries' }).waitFor();
    for (const name of ['Send test event', 'Disable', 'Delete', 'Rotate…', 'Replay failed…']) {
      assert.equal(await viewer.getByRole('button', { name }).count(), 0, `no "${name}" button`);
    }
    assert.equal(await viewer.getByRole('link', { name: 'Edit' }).count(), 0);

    await viewer.goto(`${hookd.url}/portal/deliveries/${ingested.body.delivery_id}`);
    await viewer.getByTestId('portal-application').getByText('read-only').waitFor();
    await viewer.getByText('order.shipped').first().waitFor();
    assert.equal(await viewer.getByRole('button', { name: 'Retry now' }).count(), 0);
    assert.equal(await viewer.getByRole('button', { name: /Replay failed/ }).count(), 0);

    await viewer.goto(`${hookd.url}/portal/subscriptions/new`);
    await textOf(viewer.getByTestId('read-only'), /read-only/);
    assert.equal(await viewer.getByRole('button', { name: 'Create subscription' }).count(), 0);

    await viewer.goto(`${hookd.url}/portal/event-types`);
    await viewer.getByTestId('portal-application').getByText('read-only').waitFor();
    await viewer.locator('article[data-event-type="order.shipped"]').waitFor();
    assert.equal(await viewer.getByRole('link', { name: 'Subscribe to some of them' }).count(), 0);
    await viewer.close();
  });

  await t.test('revoking the session ends the portal at once', async () => {
    assert.equal((await call(hookd, 'DELETE', `/applications/shop/portal-sessions/${session.body.id}`, undefined, admin)).status, 204);
    await page.goto(`${hookd.url}/portal/subscriptions`);
    await page.getByText('This link has ended').waitFor();
  });
  assert.deepEqual(problems, []);
});
