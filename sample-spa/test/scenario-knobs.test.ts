/**
 * The "Scenario knobs" panel in Chromium: hidden unless the backend is in mock mode; in mock mode
 * its buttons, used from the keyboard, turn the backend's knobs and the app shows the effect.
 */
import type { Page } from 'playwright-core';
import { browserTest, openBrowser } from './_browser.js';
import { type Demo, startDemo } from './_stack.js';

async function signInAsAlice(page: Page, demo: Demo): Promise<void> {
  await page.goto(`${demo.origin}/`);
  await page.click('#sign-in');
  await page.waitForURL(`${demo.issuer}/**`);
  await page.click('button[name=persona][value=alice]');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${demo.origin}/**`);
  await page.waitForSelector('#user-name');
}

/** Focuses a control and presses a key on it, as a keyboard user would. */
async function press(page: Page, selector: string, key = 'Enter'): Promise<void> {
  await page.focus(selector);
  await page.keyboard.press(key);
}

browserTest('without mock mode the scenario knobs panel stays hidden and /_mock is not there', async (t) => {
  const demo = await startDemo(t);
  const { page, problems } = await openBrowser(t);
  await page.goto(`${demo.origin}/`);
  await page.waitForFunction(() => document.body.dataset.session === 'no');
  t.true(await page.isHidden('#step-knobs'));
  t.is(await page.locator('meta[name="tmi-bff-mock"]').count(), 0);
  t.deepEqual(problems, []);
});

browserTest(
  'in mock mode the panel shows the state, and its keyboard-driven knobs switch persona and take the AS down and up',
  async (t) => {
    const demo = await startDemo(t, { mock: true });
    const { page, problems } = await openBrowser(t);
    await signInAsAlice(page, demo);
    t.true(await page.isVisible('#step-knobs'));
    await page.waitForFunction(() =>
      /alice, \d+ s left/.test(document.querySelector('#knobs-state')?.textContent ?? ''),
    );
    t.regex((await page.textContent('#knobs-state')) ?? '', /authorization server\s*up/);

    // Switch persona: a new session for bob, with no sign-out round trip.
    await page.selectOption('#knob-persona-name', 'bob');
    await press(page, '#knob-persona');
    await page.waitForFunction(() => /\(bob\)/.test(document.querySelector('#who')?.textContent ?? ''));
    t.regex((await page.textContent('#knobs-result')) ?? '', /"persona": "bob"/);

    // The AS down: a token request fails with temporarily_unavailable; up again, the Stocks API call works.
    await press(page, '#knob-down');
    await page.waitForFunction(() =>
      /authorization server\s*down/.test(document.querySelector('#knobs-state')?.textContent ?? ''),
    );
    await press(page, '#quotes');
    await page.waitForFunction(() =>
      /\/\.well-known\/bff-token.*→ 400/.test(document.querySelector('#exchanges')?.textContent ?? ''),
    );
    t.regex((await page.textContent('#exchanges')) ?? '', /temporarily_unavailable/);
    await press(page, '#knob-up');
    await page.waitForFunction(() =>
      /authorization server\s*up/.test(document.querySelector('#knobs-state')?.textContent ?? ''),
    );
    await press(page, '#quotes');
    await page.waitForFunction(() =>
      /\/stocks\/quotes → 200/.test(document.querySelector('#exchanges')?.textContent ?? ''),
    );
    t.deepEqual(problems, []);
  },
);
