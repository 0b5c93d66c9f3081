/**
 * The cookies of `signIn()` put into a real browser, the way a Playwright test does: Debian's
 * Chromium through playwright-core (never a downloaded browser), a tiny built app served by the
 * mock BFF in static mode, and its page asking bff-sessioninfo who is signed in.
 *
 * Without a browser the tests skip with the reason printed; under CI=true they run and fail.
 */
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MockBff, startMockBff } from '@tmi-bff/mock-bff';
import test, { type ExecutionContext, type Implementation } from 'ava';
import { type BrowserContext, chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const APP = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'app');

function missingBrowser(): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return undefined;
  } catch {
    return `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`;
  }
}
const missing = missingBrowser();

function browserTest(title: string, fn: Implementation<[]>): void {
  if (missing && process.env.CI !== 'true') {
    console.log(`skipped "${title}": ${missing}`);
    test.skip(title, fn);
    return;
  }
  test(title, fn);
}

/** A headless Chromium with a fresh context (as @playwright/test gives each test), closed in teardown. */
async function newContext(t: ExecutionContext): Promise<BrowserContext> {
  if (missing) throw new Error(missing);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking'],
  });
  t.teardown(() => browser.close());
  return browser.newContext();
}

async function startedWithApp(t: ExecutionContext): Promise<MockBff> {
  const bff = await startMockBff({ static: APP });
  t.teardown(() => bff.stop());
  return bff;
}

/** Opens the app and returns what its page learnt from bff-sessioninfo. */
async function askWho(context: BrowserContext, url: string) {
  const page = await context.newPage();
  const res = await page.goto(`${url}/`);
  await page.locator('#who[data-state="done"]').waitFor();
  const seen = JSON.parse((await page.locator('#who').textContent()) ?? '{}') as {
    status: number;
    body: Record<string, unknown>;
  };
  return { page, res, seen };
}

browserTest(
  "context.addCookies(signIn('alice').cookies) signs the browser in: the app's page sees alice",
  async (t) => {
    const bff = await startedWithApp(t);
    const context = await newContext(t);
    const alice = await bff.signIn('alice');
    await context.addCookies(alice.cookies);

    const { page, res, seen } = await askWho(context, bff.url);
    t.is(res?.status(), 200);
    t.regex(res?.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    t.is(seen.status, 200);
    t.like(seen.body, { sub: 'alice', name: 'Alice Adams', iss: bff.issuer });
    // The session cookie is HttpOnly: the page's script cannot read it.
    t.is(await page.evaluate<string>('document.cookie'), '');
  },
);

browserTest('a browser context without the cookies is not signed in: the same page gets invalid_session', async (t) => {
  const bff = await startedWithApp(t);
  const context = await newContext(t);
  await bff.signIn('alice');

  const { seen } = await askWho(context, bff.url);
  t.is(seen.status, 400);
  t.is(seen.body.error, 'invalid_session');
});
