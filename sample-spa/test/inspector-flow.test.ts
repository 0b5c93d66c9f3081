/**
 * The flow inspector in Chromium, in mock mode: the backend's own exchanges (its event stream,
 * reference-backend/src/flow-stream.ts) join the page's fetches in one timeline, in time order,
 * each with its timing, and secrets never appear whole.
 */
import { browserTest, openBrowser, screenshot } from './_browser.js';
import { startDemo } from './_stack.js';
import { signIn, waitForText } from './_walk.js';

browserTest(
  'mock mode: the inspector lists the authorize navigation, the code redemption and each refresh with their timings, labels the D11 retry, and says when a token expires',
  async (t) => {
    const demo = await startDemo(t, { mock: true });
    const { page, problems } = await openBrowser(t);
    await page.goto(`${demo.origin}/`);
    await waitForText(page, '#who', 'Not signed in');
    await signIn(page, demo, { persona: 'alice' });
    await waitForText(page, '#user-name', 'Alice');

    // The sign-in's navigations, as the backend saw them: replayed when the page came back.
    const authorize = page.locator('#exchanges li[data-kind="authorize"] summary');
    await authorize.waitFor();
    t.regex((await authorize.textContent()) ?? '', /authorization request.*\d+ s at the AS/);
    const code = page.locator('#exchanges li[data-kind="code"] summary');
    t.regex((await code.textContent()) ?? '', /code redemption.*→ ok \d+ ms/);
    await page.locator('#exchanges li[data-kind="code"] summary').click();
    const redeemed = (await page.locator('#exchanges li[data-kind="code"]').textContent()) ?? '';
    t.regex(redeemed, /"refresh_token": "issued \(kept by the backend, never shown\)"/);
    t.regex(redeemed, /"access_token": "[\w-]{6}…[\w-]{4}"/);

    // A token: the backend's refresh at the AS shows up, timed, next to the page's bff-token call.
    await page.selectOption('#resource', `${demo.apiOrigin}/stocks`);
    await page.click('#get-token');
    await waitForText(page, '#token-result', 'answered from');
    const refresh = page.locator('#exchanges li[data-kind="refresh"] summary').first();
    await refresh.waitFor();
    t.regex((await refresh.textContent()) ?? '', /refresh_token grant.*→ ok \d+ ms/);

    // D11: the API rejects the token → fresh=1, labelled as the retry, and the backend's refresh.
    await page.click('#wrong-audience');
    await waitForText(page, '#api-result', 'fresh token too');
    const retry = page.locator('#exchanges li.exchange').filter({ hasText: 'D11 retry' });
    await retry.first().waitFor();
    t.regex((await retry.first().locator('summary').textContent()) ?? '', /fresh=1 → 200/);
    await page.waitForFunction(() => document.querySelectorAll('#exchanges li[data-kind="refresh"]').length >= 2);

    // The decoded token says when it was issued and when it expires, not raw numbers only.
    const token = page
      .locator('#exchanges li.exchange:not(.backend)')
      .filter({ hasText: '/.well-known/bff-token' })
      .first();
    await token.locator('summary').click();
    t.regex((await token.locator('.lifetime').textContent()) ?? '', /^issued \d+ s ago · expires in \d+ min( \d+ s)?$/);

    // One timeline in time order: the navigations, then the redemption, then the refreshes.
    const kinds = await page.$$eval('#exchanges li[data-kind]', (items) =>
      items.map((li) => (li as HTMLElement).dataset.kind),
    );
    t.deepEqual(kinds.slice(0, 4), ['authorize', 'callback', 'code', 'refresh']);
    const lines = await page.$$eval('#exchanges > li', (items) =>
      items.map((li) => li.querySelector('summary')?.textContent ?? li.textContent ?? ''),
    );
    t.regex(lines[0] ?? '', /authorization request/, 'the sign-in comes first: it happened before the page loaded');
    const timeline = (await page.textContent('#exchanges')) ?? '';
    t.notRegex(timeline, /eyJ[\w-]{40,}\.[\w-]{40,}/, 'no whole token');

    // The whole timeline in one picture: the inspector unrolled (it scrolls by itself on wide screens).
    await page.$eval('#inspector', (el) => {
      Object.assign((el as HTMLElement).style, { position: 'static', maxHeight: 'none' });
    });
    await screenshot(page.locator('#inspector'), '30-inspector-backend-flow');
    t.deepEqual(problems, []);
  },
);
