/**
 * Debian's Chromium through playwright-core (never a downloaded browser), one fresh context per test
 * as @playwright/test gives. Without a browser the tests skip with the reason printed; under CI=true
 * they run and fail, naming what to install.
 */
import { accessSync, constants } from 'node:fs';
import test, { type ExecutionContext, type Implementation } from 'ava';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function missingBrowser(): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return undefined;
  } catch {
    return `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`;
  }
}
const missing = missingBrowser();

/** `test`, or a skip that prints its reason when there is no browser and this is not CI. */
export function browserTest(title: string, fn: Implementation<[]>): void {
  if (missing && process.env.CI !== 'true') {
    console.log(`skipped "${title}": ${missing}`);
    test.skip(title, fn);
    return;
  }
  test(title, fn);
}

/** A headless Chromium with a fresh context, closed in teardown. */
export async function newContext(t: ExecutionContext): Promise<BrowserContext> {
  if (missing) throw new Error(missing);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking'],
  });
  t.teardown(() => browser.close());
  return browser.newContext();
}
