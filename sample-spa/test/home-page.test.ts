/**
 * The backend's plain home page (served when there is no SPA): its sign-in link and its sign-out form
 * work in a real browser under the page's Content-Security-Policy, which must let the form's
 * redirect reach the AS (Chromium applies form-action to the redirects after a form POST).
 */
import { browserTest, openBrowser } from './_browser.js';
import { startDemo } from './_stack.js';

browserTest('the plain home page signs in and out in Chromium, with no CSP violation', async (t) => {
  const demo = await startDemo(t, { spa: false });
  const { page, problems } = await openBrowser(t);
  await page.goto(`${demo.origin}/`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL(`${demo.issuer}/**`);
  await page.click('button[name=persona][value=alice]');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${demo.origin}/`);
  t.regex((await page.textContent('main')) ?? '', /Signed in as/);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${demo.issuer}/**`);
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(`${demo.origin}/`);
  t.regex((await page.textContent('main')) ?? '', /Sign in/);
  t.deepEqual(problems, []);
});
