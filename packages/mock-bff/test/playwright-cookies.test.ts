/**
 * The cookies of `signIn()` put into a real browser, the way a Playwright test does: Debian's
 * Chromium through playwright-core (never a downloaded browser), a tiny built app served by the
 * mock BFF in static mode, and its page asking bff-sessioninfo who is signed in.
 *
 * Without a browser the tests skip with the reason printed; under CI=true they run and fail.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { browserTest, newContext } from './_browser.js';
import { started } from './_setup.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'app');

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
    const bff = await started(t, { static: APP });
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
  const bff = await started(t, { static: APP });
  const context = await newContext(t);
  await bff.signIn('alice');

  const { seen } = await askWho(context, bff.url);
  t.is(seen.status, 400);
  t.is(seen.body.error, 'invalid_session');
});
