// /docs, the interactive API reference, carries the web UI's security headers (a CSP that
// refuses framing by any origin, nosniff, no referrer) on the page and its assets, and still
// renders in Chromium under that CSP, with no violation reported.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_HEADERS } from '../src/ui/ui-routes.ts';
import { chromiumInstalled, launchChromium } from './support/chromium.ts';
import { newTarget, startTestApp } from './support/stores.ts';

test('/docs: the UI\'s security headers on the page and its assets, and Swagger UI renders under them', async (t) => {
  const target = newTarget('sqlite');
  const hookd = await startTestApp(target);
  t.after(async () => {
    await hookd.close();
    await target.cleanup();
  });

  const page = await fetch(`${hookd.url}/docs`);
  const html = await page.text();
  const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  assert.ok(assets.length >= 3, html);
  for (const [url, response] of [['/docs', page], ...await Promise.all(assets.map(async (asset) => [asset, await fetch(`${hookd.url}${asset}`)] as const))] as const) {
    if (!response.bodyUsed) await response.arrayBuffer();
    assert.equal(response.status, 200, url);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.equal(csp, PAGE_HEADERS['content-security-policy'], `${url}: its CSP`);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff', url);
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer', url);
  }

  if (!chromiumInstalled()) {
    t.skip('chromium not installed: the rendering check is skipped');
    return;
  }
  const browser = await launchChromium();
  t.after(() => browser.close());
  const tab = await browser.newPage();
  const problems: string[] = [];
  tab.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  tab.on('pageerror', (error) => problems.push(error.message));
  await tab.addInitScript({
    content: "document.addEventListener('securitypolicyviolation', (event) => console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI));",
  });
  await tab.goto(`${hookd.url}/docs`);
  await tab.locator('.swagger-ui .info .title').getByText('hookd').waitFor({ timeout: 15_000 });
  await tab.locator('.opblock-summary-path', { hasText: '/api/v1/subscriptions' }).first().waitFor();
  assert.deepEqual(problems, []);
});
