// The admin web UI with a read-only API key, in a real Chromium: GET /api/v1/access tells the
// page the key may only read, the header says so, and no page offers a change the API would
// refuse (403 read_only_key); reading works as before. The same pages with a writable key
// show those buttons, so their absence here is the key's doing.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { call } from './support/api.ts';
import { hookdInChromium, textOf } from './support/chromium.ts';
import { buildUiIfStale } from './support/ui-build.ts';

before(async () => {
  await buildUiIfStale();
});

async function pageWithKey(browser: Browser, key: string, problems: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript((k) => sessionStorage.setItem('hookd.apiKey', k), key);
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() === 401 || response.status() === 403) problems.push(`${response.status()} from ${response.request().method()} ${response.url()}`);
  });
  return page;
}

test('the admin web UI with a read-only key: everything readable, no button for a change', async (t) => {
  // An API process: the delivery stays queued, so its page holds still.
  const started = await hookdInChromium(t, { role: 'api' });
  if (!started) return;
  const { hookd, browser } = started;
  const first = await call(hookd, 'POST', '/api-keys', { name: 'admin' });
  const admin = { authorization: `Bearer ${first.body.key}` };
  const readOnly = await call(hookd, 'POST', '/api-keys', { name: 'auditor', read_only: true }, admin);
  assert.equal(readOnly.status, 201, JSON.stringify(readOnly.body));
  assert.equal((await call(hookd, 'POST', '/applications', { uid: 'acme', name: 'ACME' }, admin)).status, 201);
  assert.equal((await call(hookd, 'POST', '/event-types', { name: 'order.created', description: 'An order was placed' }, admin)).status, 201);
  const subscription = await call(hookd, 'POST', '/subscriptions', { target_url: 'https://example.com/hooks', description: 'orders endpoint' }, admin);
  const delivery = await call(hookd, 'POST', `/ingest/${subscription.body.id}`, { event_type: 'order.created' }, admin);
  assert.equal(delivery.status, 202);
  const problems: string[] = [];
  const url = (p: string) => hookd.url + p;

  // Each page: first the header's word that /access has answered, then the page's own
  // content, and only then the buttons that must be missing.
  const page = await pageWithKey(browser, readOnly.body.key, problems);
  const settled = async (path: string, content: () => Promise<void>) => {
    await page.goto(url(path));
    await page.getByTestId('read-only-key').waitFor();
    await content();
  };

  await t.test('a writable key sees the buttons (the control)', async () => {
    const writer = await pageWithKey(browser, first.body.key, problems);
    await writer.goto(url('/subscriptions'));
    await writer.getByRole('link', { name: 'New subscription' }).waitFor();
    assert.equal(await writer.getByTestId('read-only-key').count(), 0);
    await writer.close();
  });

  await t.test('subscriptions: the list and a subscription, without new, edit, test, disable, delete, rotate or replay', async () => {
    await settled('/subscriptions', () => page.getByText('orders endpoint').waitFor());
    assert.equal(await page.getByRole('link', { name: 'New subscription' }).count(), 0);
    await settled(`/subscriptions/${subscription.body.id}`, async () => {
      await page.getByRole('button', { name: 'Reveal' }).waitFor();
      await page.getByRole('heading', { name: 'Recent deliveries' }).waitFor();
    });
    for (const name of ['Send test event', 'Disable', 'Delete', 'Rotate…', 'Replay failed…']) {
      assert.equal(await page.getByRole('button', { name }).count(), 0, `no "${name}" button`);
    }
    assert.equal(await page.getByRole('link', { name: 'Edit' }).count(), 0);
    await settled('/subscriptions/new', async () => {
      await textOf(page.getByTestId('read-only'), /read-only/);
    });
    assert.equal(await page.getByRole('button', { name: 'Create subscription' }).count(), 0);
  });

  await t.test('a delivery, without retry or replay', async () => {
    await settled(`/deliveries/${delivery.body.delivery_id}`, () => page.getByText('order.created').first().waitFor());
    assert.equal(await page.getByRole('button', { name: 'Retry now' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Replay failed/ }).count(), 0);
  });

  await t.test('the catalog: read, every field of an entry disabled, nothing to add, deprecate or save', async () => {
    await settled('/event-types', () => page.locator('tr[data-event-type="order.created"]').waitFor());
    assert.equal(await page.getByRole('link', { name: 'New event type' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Deprecate/ }).count(), 0);
    await settled('/event-types/order.created/edit', () => page.getByLabel('Description').waitFor());
    assert.equal(await page.getByLabel('Description').inputValue(), 'An order was placed');
    assert.equal(await page.getByLabel('Description').isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Save changes' }).count(), 0);
  });

  await t.test('applications: listed and choosable, not created or deleted', async () => {
    await settled('/applications', () => page.getByRole('cell', { name: 'acme', exact: true }).waitFor());
    assert.equal(await page.getByRole('button', { name: 'Create application' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Delete' }).count(), 0);
    assert.ok(await page.getByRole('button', { name: 'Show only this' }).count() > 0);
  });

  assert.deepEqual(problems, [], 'no refusal reached the pages');
});
