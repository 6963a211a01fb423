// Debian's Chromium (/usr/bin/chromium) driven by playwright-core, with the flags every
// browser test uses; tests skip themselves where it is not installed. Also what the UI tests
// share: waiting for a text, and screenshots kept in test-artifacts/ for a look after a run.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { App } from '../../src/app.ts';
import { newTarget, startTestApp, type TestAppOptions } from './stores.ts';

export const CHROMIUM = '/usr/bin/chromium';

export const chromiumInstalled = (): boolean => existsSync(CHROMIUM);

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

/** The text of the locator's first match once it matches `pattern` (polled; the UI updates on its own). */
export async function textOf(locator: Locator, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = (await locator.first().textContent({ timeout: Math.max(1, deadline - Date.now()) }).catch(() => null)) ?? '';
    if (pattern.test(last)) return last;
    if (Date.now() > deadline) throw new Error(`expected ${pattern} in ${locator}, last saw "${last}"`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A full-page screenshot in test-artifacts/, named by the page and the viewport width. */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `ui-${name}-${page.viewportSize()!.width}.png`), fullPage: true });
}

/**
 * What most browser tests start with: hookd on a fresh SQLite file and a Chromium, both
 * closed after the test; null (the test skipped, saying why) where Chromium is not installed.
 */
export async function hookdInChromium(t: TestContext, options: TestAppOptions = {}): Promise<{ hookd: App; browser: Browser } | null> {
  if (!chromiumInstalled()) {
    t.skip('chromium not installed: browser tests skipped');
    return null;
  }
  const target = newTarget('sqlite');
  const hookd = await startTestApp(target, options);
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await hookd.close();
    await target.cleanup();
  });
  return { hookd, browser };
}
