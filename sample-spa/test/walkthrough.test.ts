/**
 * The sample SPA in a real Chromium, against the real mock AS, reference backend and demo APIs.
 * Each test signs in through the AS's own pages and clicks through the app as a reader would.
 */
import type { ExecutionContext } from 'ava';
import type { Request } from 'playwright-core';
import { browserTest, openBrowser, screenshot } from './_browser.js';
import { startDemo } from './_stack.js';
import { signIn, waitForText } from './_walk.js';

async function start(t: ExecutionContext) {
  const demo = await startDemo(t);
  const browser = await openBrowser(t);
  await browser.page.goto(`${demo.origin}/`);
  await waitForText(browser.page, '#who', 'Not signed in');
  return { demo, ...browser };
}

browserTest(
  'sample SPA (TMI-43, TMI-33, TMI-41, TMI-45, D9, D11): alice signs in at the AS, sees her name from bff-sessioninfo, gets and downscopes a Stocks token, calls the API directly (and retries once with a fresh token when it is rejected), runs the chain, signs out; nothing lands in browser storage',
  async (t) => {
    const { demo, page, problems } = await start(t);
    await screenshot(page, '01-signed-out');

    // 1–2. Sign in through the AS pages; the name comes from bff-sessioninfo (TMI-43).
    await signIn(page, demo, { username: 'alice' });
    t.is(await waitForText(page, '#user-name', 'Alice Adams'), 'Alice Adams');
    t.is(new URL(page.url()).search, '', 'the ?after=sign-in marker is cleaned from the address bar');
    await waitForText(page, '#exchanges', 'Signed in: /auth/login');
    await waitForText(page, '#exchanges', '/.well-known/bff-sessioninfo → 200');
    await screenshot(page, '02-signed-in');

    // 3. A Stocks token with both scopes, then the same again from the SDK's memory.
    const apiCalls: Request[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(demo.apiOrigin)) apiCalls.push(r);
    });
    await page.selectOption('#resource', `${demo.apiOrigin}/stocks`);
    await page.click('#get-token');
    const first = await waitForText(page, '#token-result', 'answered from');
    t.regex(first, /scopestocks:read stocks:buy|scopestocks:buy stocks:read/);
    t.regex(first, /answered frombackend: (cache|refresh)/);
    await page.click('#get-token');
    t.regex(await waitForText(page, '#token-result', 'SDK memory'), /answered fromSDK memory: no request/);

    // Downscoping: stocks:read after holding both; the backend refreshes with the narrower scope (D9).
    await page.click('#downscope');
    const down = await waitForText(page, '#token-result', 'Asked for: stocks:read');
    t.regex(down, /Asked for: stocks:read.*scopestocks:readanswered frombackend: refresh/s);
    const lastToken = page.locator('#exchanges li.exchange').filter({ hasText: 'bff-token' }).last();
    t.regex((await lastToken.locator('summary').textContent()) ?? '', /scope=stocks:read → 200 .*refresh/);
    await lastToken.locator('summary').click();
    const decoded = (await lastToken.textContent()) ?? '';
    t.regex(decoded, /"typ": "at\+jwt"/, 'the inspector decodes the token header for the reader');
    t.regex(decoded, /"scope": "stocks:read"/);
    t.regex(decoded, /Backend called the AS: refresh_token grant/);
    t.notRegex(decoded, /eyJ[\w-]{40,}\.[\w-]{40,}/, 'whole tokens are never printed, only shortened ones');
    await screenshot(page, '03-token-downscoped');

    // 4. The API, called directly from the page on its own origin, with the bearer token.
    await page.click('#quotes');
    t.regex(await waitForText(page, '#api-result', '→ 200'), /GET \/stocks\/quotes → 200.*ACME/s);
    const quotes = apiCalls.find((r) => r.url() === `${demo.apiOrigin}/stocks/quotes` && r.method() === 'GET');
    t.regex((await quotes?.allHeaders())?.authorization ?? '', /^Bearer ey/);
    await waitForText(page, '#exchanges', `${demo.apiOrigin}/stocks/quotes → 200`);

    // D11 (TMI-45): a token the API rejects → one fresh token, one retry, then an error; no loop.
    const before = apiCalls.length;
    await page.click('#wrong-audience');
    t.regex(await waitForText(page, '#api-result', 'fresh token too'), /The API rejected a fresh token too/);
    const quoteCalls = apiCalls.slice(before).filter((r) => r.method() === 'GET' && r.url().endsWith('/stocks/quotes'));
    t.is(quoteCalls.length, 2, 'one call and exactly one retry');
    await waitForText(page, '#exchanges', 'fresh=1 → 200');

    // 6. The chain: each hop's token is narrower, addressed to the next service, and names its actor.
    await page.click('#chain');
    await page.waitForSelector('#hops tbody tr:nth-child(3)');
    const hops = await page.$$eval('#hops tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)),
    );
    t.deepEqual(hops, [
      ['A', `${demo.apiOrigin}/a`, 'a b c', 'bff'],
      ['B', `${demo.apiOrigin}/b`, 'b c', 'service-a'],
      ['C', `${demo.apiOrigin}/c`, 'c', 'service-b'],
    ]);
    await screenshot(page, '04-chain');

    // TMI-BFF-01 §8.1 (TMI-33): nothing in browser storage; the session cookie is invisible to scripts.
    const storage = await page.evaluate(async () => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
      idb: (await indexedDB.databases()).length,
    }));
    t.deepEqual(storage, { local: 0, session: 0, cookie: '', idb: 0 });

    // 7. Sign out: the backend forgets the session, the AS ends its own, and the app is signed out.
    await page.click('#sign-out');
    await page.waitForURL(`${demo.issuer}/**`);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${demo.origin}/`);
    await waitForText(page, '#who', 'Not signed in');
    await page.click('#get-token');
    t.regex(await waitForText(page, '#token-result', 'invalid_session'), /Not signed in \(invalid_session\)/);
    t.truthy(await page.$('#token-result a[href^="/auth/login"]'), 'the error offers to sign in');
    await screenshot(page, '05-signed-out-again');
    t.deepEqual(problems, []);
  },
);

browserTest(
  'sample SPA (TMI-28, TMI-44): bob asks for stocks:buy and the page shows the AS refusal relayed by the backend',
  async (t) => {
    const { demo, page, problems } = await start(t);
    await signIn(page, demo, { persona: 'bob' });
    await waitForText(page, '#user-name', 'Bob Brown');
    await page.click('#err-forbidden');
    const shown = await waitForText(page, '#errors-result [role=alert]', 'refused');
    t.regex(shown, /The authorization server refused \(invalid_scope\)/);
    t.regex(shown, /stocks:buy/, 'the AS description names the scope');
    t.truthy(await page.$('#errors-result a[href*="#section-4.3.3"]'), 'it links to the draft section');
    await waitForText(page, '#exchanges', 'invalid_scope');
    await screenshot(page, '06-bob-refused');
    t.deepEqual(problems, []);
  },
);

browserTest(
  'sample SPA (TMI-27, D13, TMI-26, D4, TMI-44): backend_not_ready offers the consent route and, after granting, the same request gets a token; no session and no CSRF header are refused',
  async (t) => {
    const { demo, page, problems } = await start(t);
    await signIn(page, demo, { username: 'alice' });
    await waitForText(page, '#user-name', 'Alice Adams');

    await page.click('#err-no-session');
    t.regex(await waitForText(page, '#errors-result', 'invalid_session'), /Not signed in \(invalid_session\)/);
    await page.click('#err-no-csrf');
    t.regex(await waitForText(page, '#errors-result', 'CSRF'), /Refused without the CSRF header \(invalid_session\)/);
    t.regex(await waitForText(page, '#who', 'Alice Adams'), /Signed in as/, 'neither refusal ends the session');

    await page.click('#err-not-ready');
    const notReady = await waitForText(page, '#errors-result', 'backend_not_ready');
    // D13: the backend names the remediation, consent: the grant does not cover the resource.
    t.regex(notReady, new RegExp(`Your grant does not cover ${demo.apiOrigin}/b with b c`));
    await screenshot(page, '07-backend-not-ready');
    await page.getByRole('link', { name: 'Grant access' }).click();
    await page.waitForURL(`${demo.issuer}/**`);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${demo.origin}/**`);
    await waitForText(page, '#exchanges', 'Back from /auth/consent');
    await waitForText(page, '#who', 'Alice Adams');
    await page.click('#err-not-ready');
    t.regex(await waitForText(page, '#errors-result', 'answered from'), /scopeb c/);
    t.deepEqual(problems, []);
  },
);

browserTest(
  'sample SPA: at 375 px wide nothing overflows sideways, and the steps work from the keyboard',
  async (t) => {
    const { demo, page, problems } = await start(t);
    await page.setViewportSize({ width: 375, height: 812 });
    await signIn(page, demo, { username: 'alice' });
    await waitForText(page, '#user-name', 'Alice Adams');
    // Tab to "Ask bff-sessioninfo" and press Enter; then to "Run the chain" and press Space.
    for (const [id, key] of [
      ['session-info', 'Enter'],
      ['chain', 'Space'],
    ] as const) {
      let focused = '';
      for (let i = 0; i < 60 && focused !== id; i++) {
        await page.keyboard.press('Tab');
        focused = await page.evaluate(() => document.activeElement?.id ?? '');
      }
      t.is(focused, id, `#${id} is reachable with Tab`);
      await page.keyboard.press(key);
    }
    await waitForText(page, '#session-result', 'alice');
    await page.waitForSelector('#hops tbody tr:nth-child(3)');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    t.true(width <= 375, `the page is ${width} px wide`);
    await screenshot(page, '08-narrow');
    t.deepEqual(problems, []);
  },
);
