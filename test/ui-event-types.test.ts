// The web UI's event-type catalog in a real Chromium against a real hookd: the Event types page
// (list, add, edit, deprecate) and the catalog offered in the subscription form beside patterns.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { call } from './support/api.ts';
import { chromiumInstalled, CHROMIUM, launchChromium, shoot, textOf } from './support/chromium.ts';
import { newTarget, startTestApp } from './support/stores.ts';
import { buildUiIfStale } from './support/ui-build.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const PHONE = { width: 390, height: 844 };



test('the web UI in Chromium: the event-type catalog page and the catalog in the subscription form', async (t) => {
  if (!chromiumInstalled()) {
    t.skip(`chromium not installed at ${CHROMIUM}: browser tests skipped`);
    return;
  }
  // The pages are tested as the sources are now, not as some earlier `npm install` built them.
  await buildUiIfStale();
  const target = newTarget('sqlite');
  const hookd = await startTestApp(target, { config: { allowNetworks: ['127.0.0.0/8'] } });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await hookd.close();
    await target.cleanup();
  });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs every 4xx as an error; the 422s this test provokes are expected.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error: ${message.text()}`);
  });
  const url = (p: string) => hookd.url + p;

  await t.test('an event type is added from the empty page; bad JSON, a schema that does not compile and a mismatching example are shown at their fields', async () => {
    await page.goto(url('/'));
    await page.getByRole('link', { name: 'Event types' }).click();
    await page.getByText('The catalog is empty.').waitFor();
    await page.getByRole('link', { name: 'New event type' }).click();
    await page.getByLabel('Name').fill('order.created');
    await page.getByLabel('Description').fill('A customer placed an order');
    await page.getByLabel('JSON Schema of data').fill('{ "type": ');
    await page.getByRole('button', { name: 'Add event type' }).click();
    assert.equal(await textOf(page.locator('#schema-error'), /JSON/), 'is not valid JSON');

    await page.getByLabel('JSON Schema of data').fill('{ "type": "nope" }');
    await page.getByRole('button', { name: 'Add event type' }).click();
    await textOf(page.locator('#schema-error'), /^cannot be compiled: /);
    assert.equal(await page.evaluate('document.activeElement.id'), 'schema', 'focus moves to the field at fault');

    await page.getByLabel('JSON Schema of data').fill('{ "type": "object", "required": ["order_id"], "properties": { "order_id": { "type": "string" } } }');
    await page.getByLabel('Example data').fill('{ "order_id": 12 }');
    await page.getByRole('button', { name: 'Add event type' }).click();
    await textOf(page.locator('#example-error'), /example\.order_id: must be string/);
    await shoot(page, 'event-type-form-error');

    await page.getByLabel('Example data').fill('{ "order_id": "ORD-1" }');
    await page.getByRole('button', { name: 'Add event type' }).click();
    await page.waitForURL(url('/event-types'));
    await textOf(page.locator('tr[data-event-type="order.created"]'), /A customer placed an order.*documented.*current/);
  });

  await t.test('the list deprecates a type; the edit form turns validation on, and ingest then checks the data', async () => {
    assert.equal((await call(hookd, 'POST', '/event-types', { name: 'order.cancelled', description: 'Old style cancellation' })).status, 201);
    await page.reload();
    const cancelled = page.locator('tr[data-event-type="order.cancelled"]');
    await cancelled.getByRole('button', { name: 'Deprecate order.cancelled' }).click();
    await textOf(cancelled, /deprecated/);
    await cancelled.getByRole('button', { name: 'Undeprecate order.cancelled' }).waitFor();
    assert.equal((await call(hookd, 'GET', '/event-types/order.cancelled')).body.deprecated, true);
    await shoot(page, 'event-types');

    await page.getByRole('link', { name: 'order.created' }).click();
    await page.locator('main h1', { hasText: 'Edit order.created' }).waitFor();
    assert.match(await page.getByLabel('JSON Schema of data').inputValue(), /"required": \[\s*"order_id"\s*\]/);
    await page.getByLabel(/^Validate/).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(url('/event-types'));
    await textOf(page.locator('tr[data-event-type="order.created"]'), /validated at ingest/);
    const refused = await call(hookd, 'POST', '/events', { event_type: 'order.created', data: {} });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.details[0].field, 'data.order_id');
  });

  await t.test('the subscription form offers the catalog beside patterns, deprecated types marked', async () => {
    await page.goto(url('/subscriptions/new'));
    const choices = page.getByRole('group', { name: 'Choose from the catalog' });
    await textOf(choices, /order\.cancelled \(deprecated\).*order\.created/);
    const field = page.getByLabel('Event types');
    await choices.getByRole('button', { name: 'order.created' }).click();
    assert.equal(await field.inputValue(), 'order.created');
    assert.equal(await choices.getByRole('button', { name: 'order.created' }).getAttribute('aria-pressed'), 'true');
    await field.fill('order.created, user.*');
    await choices.getByRole('button', { name: /order\.cancelled/ }).click();
    await choices.getByRole('button', { name: 'order.created' }).click();
    assert.equal(await field.inputValue(), 'user.*, order.cancelled');
    await shoot(page, 'subscription-form-catalog');
    await page.getByLabel('Target URL').fill('http://127.0.0.1:9/hook');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.waitForURL(/\/subscriptions\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    assert.deepEqual((await call(hookd, 'GET', `/subscriptions/${id}`)).body.event_types, ['user.*', 'order.cancelled']);
  });

  await t.test('the catalog pages fit a phone screen', async () => {
    await page.setViewportSize(PHONE);
    for (const [name, pagePath] of [['event-types', '/event-types'], ['event-type-form', '/event-types/order.created/edit'], ['subscription-form-catalog', '/subscriptions/new']] as const) {
      await page.goto(url(pagePath));
      await page.locator('main h1').waitFor();
      await page.locator('.state.loading').first().waitFor({ state: 'detached' });
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
      assert.ok(overflow <= 0, `${name} is ${overflow}px wider than the phone screen`);
      await shoot(page, name);
    }
  });

  assert.deepEqual(problems, [], 'no script errors in the browser');
});
