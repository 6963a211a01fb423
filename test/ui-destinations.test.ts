// The web UI's subscription form and detail with a broker destination, in Chromium against a
// real hookd and the RabbitMQ on this machine: the kind is chosen in the form, the API's 422
// is shown at the broker field, the detail shows the URL with its password masked, a test
// event sent from the UI arrives in the queue, and an edit that leaves the masked URL as it is
// keeps the stored password.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { brokerPlace } from './support/brokers.ts';
import { newTarget, startTestApp } from './support/stores.ts';
import { CHROMIUM, launchChromium, shoot, textOf } from './support/chromium.ts';
import { buildUiIfStale } from './support/ui-build.ts';

const ROOT = path.resolve(import.meta.dirname, '..');



test('the web UI creates, shows and edits a RabbitMQ destination, and a test event reaches the queue', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`chromium not installed at ${CHROMIUM}: browser tests skipped`);
    return;
  }
  await buildUiIfStale();
  const target = newTarget('sqlite');
  const hookd = await startTestApp(target, { config: { allowNetworks: ['127.0.0.0/8'], pollIntervalMs: 50 } });
  const place = await brokerPlace('rabbitmq');
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await hookd.close();
    await place.cleanup();
    await target.cleanup();
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  const destination = place.destination() as { url: string; exchange: string; routing_key: string };

  await page.goto(`${hookd.url}/subscriptions/new`);
  await page.getByLabel('Deliver to').selectOption('rabbitmq');
  await page.getByLabel('Broker URL').fill(destination.url);
  await page.getByLabel('Exchange').fill('bad exchange name');
  await page.getByLabel('Routing key').fill(destination.routing_key);
  await page.getByLabel('Description').fill('Warehouse queue');
  await page.getByRole('button', { name: 'Create subscription' }).click();
  assert.match(await textOf(page.locator('[id="destination.exchange-error"]'), /exchange name/), /letters, digits/);
  assert.equal(await page.evaluate('document.activeElement.id'), 'destination.exchange', 'focus moves to the field at fault');
  await shoot(page, 'subscription-form-broker-error');

  await page.getByLabel('Exchange').fill(destination.exchange);
  await page.getByRole('button', { name: 'Create subscription' }).click();
  await page.waitForURL(/\/subscriptions\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;
  await textOf(page.getByTestId('destination-kind'), /RabbitMQ/);
  const shownUrl = await textOf(page.getByTestId('destination-url'), /amqp:/);
  assert.equal(shownUrl, 'amqp://guest:****@127.0.0.1:5672', 'the password is masked');
  assert.ok(!(await page.content()).includes('guest:guest'), 'the password is nowhere on the page');
  await shoot(page, 'subscription-broker');

  await page.getByRole('button', { name: 'Send test event' }).click();
  const dialog = page.getByRole('dialog', { name: 'Send a test event' });
  await dialog.getByRole('button', { name: 'Send event' }).click();
  await textOf(dialog.getByTestId('test-delivery'), /succeeded/i, 30_000);
  const [message] = await place.awaitCount(1);
  assert.match(message!.body.toString(), /"message": "A test event sent from the hookd web UI"/);
  await page.keyboard.press('Escape');

  // Editing shows the URL masked; saved as it is, the stored URL (with its password) stays.
  await page.goto(`${hookd.url}/subscriptions/${id}/edit`);
  assert.equal(await page.getByLabel('Deliver to').inputValue(), 'rabbitmq');
  assert.equal(await page.getByLabel('Broker URL').inputValue(), 'amqp://guest:****@127.0.0.1:5672');
  await page.getByLabel('Description').fill('Warehouse queue, renamed');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(new RegExp(`/subscriptions/${id}$`));
  await textOf(page.locator('h1'), /renamed/);
  assert.equal((await hookd.store.subscriptions.get(id))?.destination?.url, destination.url);
  assert.deepEqual(problems, []);
});
