/**
 * Debian's Chromium, driven by playwright-core (never a downloaded browser). Without a browser the
 * tests skip with the reason printed; under CI=true they run and fail, naming what to install.
 */
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext, Implementation } from 'ava';
import test from 'ava';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Flags for a headless Chromium on a machine whose network is closed (see docs/walkthrough/06-sample-spa.md). */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots of each main state go here (git-ignored). */
export const SCREENSHOTS = join(
  dirname(dirname(dirname(fileURLToPath(import.meta.url)))),
  'test-results',
  'sample-spa',
);

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

/** A fresh browser profile in a temporary folder, closed and removed after the test. */
export async function openBrowser(
  t: ExecutionContext,
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  if (missing) throw new Error(missing);
  const profile = await mkdtemp(join(tmpdir(), 'tmi-bff-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
  });
  t.teardown(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Script errors and CSP violations, for the test to assert there were none. Chromium also logs
  // every 4xx answer to fetch as a console error; those are the error steps working as meant.
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  return { context, page, problems };
}

/** Saves `<name>.png` in the screenshots folder: the whole page, or one element of it. */
export async function screenshot(target: Page | Locator, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  if ('goto' in target) await target.screenshot({ path, fullPage: true });
  else await target.screenshot({ path });
}
