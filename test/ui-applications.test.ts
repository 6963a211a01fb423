// The web UI with applications, in a real Chromium: the applications page (create, show only
// one, delete), the header's application switch, and every page filtered by it (subscriptions,
// deliveries, dashboard, live tail), new subscriptions created in the chosen application.
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { call } from './support/api.ts';
import { hookdInChromium, shoot, textOf } from './support/chromium.ts';
import { buildUiIfStale } from './support/ui-build.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

before(async () => {
  await buildUiIfStale();
});


test('the web UI in Chromium: applications page, the application switch, and pages filtered by it', async (t) => {
  // An API process: deliveries stay queued, so the lists hold still while the test reads them.
  const started = await hookdInChromium(t, { role: 'api' });
  if (!started) return;
  const { hookd, browser } = started;
  for (const uid of ['acme', 'globex']) {
    assert.equal((await call(hookd, 'POST', '/applications', { uid, name: uid.toUpperCase() })).status, 201);
    const subscription = await call(hookd, 'POST', `/applications/${uid}/subscriptions`, { target_url: `https://${uid}.example.com/hooks` });
    await call(hookd, 'POST', `/ingest/${subscription.body.id}`, { event_type: `${uid}.created` });
  }
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Nothing here needs a key: a refusal would put the key prompt over every page.
  page.on('response', (response) => {
    if (response.status() === 401) problems.push(`401 from ${response.request().method()} ${response.url()}`);
  });
  t.after(() => {
    if (problems.length > 0) t.diagnostic(`problems: ${problems.join('; ')}`);
  });
  page.on('dialog', (dialog) => void dialog.accept());
  const url = (p: string) => hookd.url + p;

  await t.test('the applications page lists them and creates one', async () => {
    await page.goto(url('/applications'));
    await page.getByRole('cell', { name: 'acme', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'globex', exact: true }).waitFor();
    await page.getByLabel('Uid').fill('initech');
    await page.getByLabel('Name').fill('Initech');
    await page.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('cell', { name: 'initech', exact: true }).waitFor();
    await shoot(page, 'applications');
  });

  await t.test('the switch shows one application: its subscriptions, deliveries and figures alone', async () => {
    await page.getByRole('link', { name: 'Subscriptions' }).click();
    await page.getByText('https://globex.example.com/hooks').waitFor();
    await page.getByRole('combobox', { name: 'Application' }).selectOption({ label: 'ACME (acme)' });
    await page.getByText('https://globex.example.com/hooks').waitFor({ state: 'detached' });
    await page.getByText('https://acme.example.com/hooks').waitFor();
    await page.getByRole('link', { name: 'Deliveries' }).click();
    await page.getByText('acme.created').first().waitFor();
    assert.equal(await page.getByText('globex.created').count(), 0);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    await page.getByTestId('deliveries-hour').getByText('1', { exact: true }).waitFor();
    await shoot(page, 'dashboard-one-application');
    // The choice is kept across reloads.
    await page.reload();
    assert.equal(await page.getByRole('combobox', { name: 'Application' }).inputValue(), (await call(hookd, 'GET', '/applications/acme')).body.id);
  });

  await t.test('a subscription created with an application chosen belongs to it', async () => {
    await page.goto(url('/subscriptions/new'));
    await page.getByLabel('Target URL').fill('https://acme.example.com/second');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.waitForURL(/\/subscriptions\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    assert.equal((await call(hookd, 'GET', `/subscriptions/${id}`)).body.application_id, (await call(hookd, 'GET', '/applications/acme')).body.id);
  });

  await t.test('the catalog page says how many of the chosen application\'s subscriptions receive each type', async () => {
    assert.equal((await call(hookd, 'POST', '/event-types', { name: 'acme.created' })).status, 201);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Event types' }).click();
    // ACME's two subscriptions take every event type; GLOBEX's is not counted.
    assert.equal(await textOf(page.locator('tr[data-event-type="acme.created"]').getByTestId('receivers'), /\d/), '2');
    await page.getByRole('columnheader', { name: 'Subscriptions' }).waitFor();
  });

  await t.test('all applications again, and deleting one from its page', async () => {
    await page.getByRole('combobox', { name: 'Application' }).selectOption({ label: 'All applications' });
    await page.waitForFunction(() => localStorage.getItem('hookd.application') === null);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Subscriptions' }).click();
    await page.getByText('https://globex.example.com/hooks').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Event types' }).click();
    await page.locator('tr[data-event-type="acme.created"]').waitFor();
    assert.equal(await page.getByRole('columnheader', { name: 'Subscriptions' }).count(), 0, 'no counts without an application chosen');
    await page.goto(url('/applications'));
    await page.getByRole('row', { name: /initech/ }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('cell', { name: 'initech', exact: true }).waitFor({ state: 'detached' });
    assert.equal((await call(hookd, 'GET', '/applications/initech')).status, 404);
  });
  assert.deepEqual(problems, []);
});
