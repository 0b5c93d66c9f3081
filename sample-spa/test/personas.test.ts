/**
 * Each persona of the demo world walks the seven steps of the sample SPA in a real Chromium, against
 * the real mock AS, backend and APIs. Before each step the page says what this persona will see and
 * why (src/persona.ts); after each click, every outcome is explained. Screenshots go to
 * test-results/sample-spa/.
 */
import type { Page } from 'playwright-core';
import { browserTest, openBrowser, screenshot } from './_browser.js';
import { type Demo, startDemo } from './_stack.js';
import { signIn, waitForText } from './_walk.js';

/** Clicks a step's button and returns the text of its result once the request is done. */
async function run(page: Page, button: string, result: string): Promise<string> {
  await page.$eval(result, (el) => el.replaceChildren());
  await page.click(`#${button}`);
  await page.waitForFunction(
    (sel) => {
      const el = document.querySelector(sel);
      return !!el && el.textContent !== '' && !el.hasAttribute('aria-busy');
    },
    result,
    { timeout: 15_000 },
  );
  return (await page.textContent(result)) ?? '';
}

const note = async (page: Page, step: string) => (await page.textContent(`#step-${step} .persona-note`)) ?? '';

/** What every persona does the same way: sign in, read step 2, the two refusals without a session, sign out. */
async function common(t: import('ava').ExecutionContext, demo: Demo, page: Page, persona: string, name: string) {
  await signIn(page, demo, { persona });
  await waitForText(page, '#user-name', name);
  t.regex(await note(page, 'sign-in'), new RegExp(`^As ${name} \\(${persona}\\): `));
  t.regex(await note(page, 'who'), new RegExp(`bff-sessioninfo answers ${name}'s claims`));
  t.regex(await run(page, 'session-info', '#session-result'), new RegExp(`"sub": "${persona}"`));
  t.regex(await run(page, 'err-no-session', '#errors-result'), /Not signed in \(invalid_session\)/);
  t.regex(await run(page, 'err-no-csrf', '#errors-result'), /Refused without the CSRF header \(invalid_session\)/);
}

async function signOut(page: Page, demo: Demo) {
  await page.click('#sign-out');
  await page.waitForURL(`${demo.issuer}/**`);
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(`${demo.origin}/`);
  await waitForText(page, '#who', 'Not signed in');
}

async function start(t: import('ava').ExecutionContext) {
  const demo = await startDemo(t);
  const browser = await openBrowser(t);
  await browser.page.goto(`${demo.origin}/`);
  await waitForText(browser.page, '#who', 'Not signed in');
  return { demo, ...browser };
}

browserTest('alice walks the seven steps: every token, call and hop succeeds, and each note says so', async (t) => {
  const { demo, page, problems } = await start(t);
  await common(t, demo, page, 'alice', 'Alice Adams');
  t.regex(await note(page, 'sign-in'), /entitled to every scope/);

  // 3. Both Stocks scopes start checked; the downscoping demo narrows Stocks.
  t.regex(await note(page, 'token'), /Every token request succeeds/);
  t.is(await page.locator('#scopes input:checked').count(), 2);
  t.regex(await run(page, 'get-token', '#token-result'), /scopestocks:read stocks:buy|scopestocks:buy stocks:read/);
  t.is(await page.textContent('#downscope'), 'Downscope Stocks API to stocks:read');
  t.regex(await run(page, 'downscope', '#token-result'), /Asked for: stocks:read.*scopestocks:read/s);

  // 4. Buying works for alice.
  t.regex(await note(page, 'api'), /Every call works, buying included/);
  t.regex(await run(page, 'buy', '#api-result'), /POST \/stocks\/orders → 20[01]/);

  // 5. The AS grants alice stocks:buy; Service B needs consent first.
  t.regex(await note(page, 'errors'), /Alice Adams may buy: “AS refusal: stocks:buy” gets a token; sign in as bob/);
  t.regex(await run(page, 'err-forbidden', '#errors-result'), /The AS granted stocks:buy/);
  t.regex(await run(page, 'err-not-ready', '#errors-result'), /Your grant does not cover .*\/b with b c/);

  // 6. The chain: act is named with its subject, never a bare null.
  t.regex(await note(page, 'chain'), /Each hop narrows the scopes/);
  await page.click('#chain');
  await page.waitForSelector('#hops tbody tr:nth-child(3)');
  const rows = await page.$$eval('#hops tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
  );
  t.deepEqual(
    rows.map((r) => [r[0], r[4], r[5]]),
    [
      ['A', 'alice', 'none: bff asks for alice itself'],
      ['B', 'alice', 'service-a, for alice'],
      ['C', 'alice', 'service-b, after service-a, for alice'],
    ],
  );
  // No mid-word wrapping: every value but act is one line box, the table scrolls sideways instead.
  const wrapped = await page.$$eval('#hops td:not(.act)', (tds) =>
    tds
      .filter((td) => {
        const range = document.createRange();
        range.selectNodeContents(td);
        return range.getClientRects().length > 1;
      })
      .map((td) => td.textContent),
  );
  t.deepEqual(wrapped, [], 'no value is broken over lines');
  await screenshot(page, '10-alice-chain');

  // 7.
  t.regex(await note(page, 'sign-out'), /No, stay signed in/);
  await signOut(page, demo);
  t.is(await page.locator('.persona-note').count(), 0, 'signed out, no persona notes');
  t.deepEqual(problems, []);
});

browserTest(
  'bob walks the seven steps: stocks:buy starts unchecked, so step 3 works; the downscoping demo uses Service A; buying and the stocks:buy button are refused, each time with his account policy named',
  async (t) => {
    const { demo, page, problems } = await start(t);
    await common(t, demo, page, 'bob', 'Bob Brown');
    t.regex(await note(page, 'sign-in'), /Bob Brown's account policy at the AS denies stocks:buy/);

    // 3. stocks:buy unchecked by default: the default request works.
    t.regex(await note(page, 'token'), /stocks:buy starts unchecked: the AS refuses stocks:buy to bob/);
    t.deepEqual(
      await page.$$eval('#scopes input:checked', (inputs) => inputs.map((i) => (i as HTMLInputElement).value)),
      ['stocks:read'],
    );
    t.regex(await run(page, 'get-token', '#token-result'), /scopestocks:readanswered from/);
    t.is(await page.textContent('#downscope'), 'Downscope Service A to a');
    t.regex(await run(page, 'downscope', '#token-result'), /Held: a b c.*Asked for: a.*scopeaanswered from/s);
    await page.check('#scopes input[value="stocks:buy"]');
    const refused = await run(page, 'get-token', '#token-result');
    t.regex(refused, /The authorization server refused \(invalid_scope\)/);
    t.regex(refused, /Bob Brown \(bob\)'s account policy at the AS denies stocks:buy/);
    await screenshot(page, '11-bob-refused');

    // 4. Quotes work; buying is refused before any order.
    t.regex(await note(page, 'api'), /Buying needs stocks:buy: the AS refuses that token/);
    t.regex(await run(page, 'quotes', '#api-result'), /GET \/stocks\/quotes → 200/);
    t.regex(await run(page, 'buy', '#api-result'), /account policy at the AS denies stocks:buy/);

    // 5.
    t.regex(await note(page, 'errors'), /“AS refusal: stocks:buy” is refused for bob/);
    t.regex(await run(page, 'err-forbidden', '#errors-result'), /denies stocks:buy, so the AS refuses the token/);
    t.regex(await run(page, 'err-not-ready', '#errors-result'), /Your grant does not cover .*\/b with b c/);

    // 6.
    await page.click('#chain');
    await page.waitForSelector('#hops tbody tr:nth-child(3)');
    t.regex((await page.textContent('#hops')) ?? '', /service-b, after service-a, for bob/);
    t.regex(await note(page, 'sign-out'), /revokes the refresh token at the AS/);

    await signOut(page, demo);
    t.deepEqual(problems, []);
  },
);

browserTest(
  'carol walks the seven steps: every token answers backend_not_ready, each step says why beforehand, and the advice offers another persona instead of a sign-in that would end the same way',
  async (t) => {
    const { demo, page, problems } = await start(t);
    await common(t, demo, page, 'carol', 'Carol Clark');
    t.regex(await note(page, 'sign-in'), /no refresh token at carol's sign-in/);
    t.regex(await note(page, 'who'), /tokens_unavailable/);
    t.regex((await page.textContent('#session-result')) ?? '', /"tokens_unavailable"/);

    const ended = (text: string) => {
      t.regex(text, /The backend gets no refresh token from this authorization server \(backend_not_ready\)/);
      t.regex(text, /Carol Clark \(carol\)'s account policy at the AS: signing in again gives the same answer/);
    };
    t.regex(await note(page, 'token'), /Every token request answers backend_not_ready/);
    ended(await run(page, 'get-token', '#token-result'));
    t.deepEqual(
      await page.$$eval('#token-result .next a', (as) => as.map((a) => a.textContent)),
      ['Switch persona (step 1)'],
      'no Sign in again, no Grant access: the remediation ends here',
    );
    ended(await run(page, 'downscope', '#token-result'));
    t.regex(await note(page, 'api'), /No API call is made/);
    ended(await run(page, 'quotes', '#api-result'));
    t.regex(await note(page, 'errors'), /Every other button answers backend_not_ready/);
    ended(await run(page, 'err-not-ready', '#errors-result'));
    ended(await run(page, 'err-forbidden', '#errors-result'));
    t.regex(await note(page, 'chain'), /which bff-token cannot give: backend_not_ready/);
    ended(await run(page, 'chain', '#chain-result'));
    t.regex(await note(page, 'sign-out'), /there is no refresh token to revoke/);
    await screenshot(page, '12-carol-not-ready');

    // The advice's way out: step 1's Switch persona, to bob.
    await page.click('#token-result .next a');
    await page.click('#switch-persona');
    await page.waitForURL(`${demo.issuer}/**`);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.click('button[name=persona][value=bob]');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${demo.origin}/**`);
    await waitForText(page, '#user-name', 'Bob Brown');
    await signOut(page, demo);
    t.deepEqual(problems, []);
  },
);

browserTest(
  'after “No, stay signed in” at the AS, Sign in comes back as the same persona, and Switch persona lets the AS ask again',
  async (t) => {
    const { demo, page, problems } = await start(t);
    await signIn(page, demo, { persona: 'alice' });
    await waitForText(page, '#user-name', 'Alice Adams');
    await page.click('#sign-out');
    await page.waitForURL(`${demo.issuer}/**`);
    await page.getByRole('button', { name: 'No, stay signed in' }).click();
    await page.waitForURL(`${demo.origin}/**`);
    await waitForText(page, '#who', 'Not signed in');

    // The AS session stayed: Sign in returns as alice without asking who (at most, consent again).
    await page.click('#sign-in');
    await page.waitForURL(
      (u) => u.pathname.includes('/interaction/') || (u.origin === demo.origin && u.pathname === '/'),
    );
    if (page.url().startsWith(demo.issuer)) {
      t.is(await page.locator('button[name=persona]').count(), 0, 'the AS does not ask who');
      await page.getByRole('button', { name: 'Allow' }).click();
    }
    await waitForText(page, '#user-name', 'Alice Adams');

    await page.click('#switch-persona');
    await page.waitForURL(`${demo.issuer}/**`);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.click('button[name=persona][value=carol]');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${demo.origin}/**`);
    await waitForText(page, '#user-name', 'Carol Clark');
    t.regex(await note(page, 'token'), /As Carol Clark \(carol\): Every token request answers backend_not_ready/);
    await screenshot(page, '13-switched-to-carol');
    t.deepEqual(problems, []);
  },
);
