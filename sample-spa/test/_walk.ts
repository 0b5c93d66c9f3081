/** What the browser tests do as a reader would: wait for a text, sign in through the AS's pages. */
import type { Page } from 'playwright-core';
import type { Demo } from './_stack.js';

/** Waits until the element holds the text (or matches), and returns its whole text. */
export async function waitForText(page: Page, selector: string, expected: string | RegExp): Promise<string> {
  const source = typeof expected === 'string' ? { text: expected } : { re: expected.source, flags: expected.flags };
  await page.waitForFunction(
    ([sel, want]) => {
      const text = document.querySelector(sel as string)?.textContent ?? '';
      const w = want as { text?: string; re?: string; flags?: string };
      return w.text !== undefined ? text.includes(w.text) : new RegExp(w.re ?? '', w.flags).test(text);
    },
    [selector, source],
    { timeout: 15_000 },
  );
  return (await page.textContent(selector)) ?? '';
}

/** Step 1 in the browser: the app's Sign in link, then the AS's pages, back to the app. */
export async function signIn(page: Page, demo: Demo, how: { username: string } | { persona: string }): Promise<void> {
  await page.click('#sign-in');
  await page.waitForURL(`${demo.issuer}/**`);
  if ('username' in how) {
    await page.fill('#username', how.username);
    await page.fill('#password', how.username);
    await page.click('form[action$="/login"] button[type=submit]:not([name])');
  } else {
    await page.click(`button[name=persona][value=${how.persona}]`);
  }
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${demo.origin}/**`);
}
