// A @playwright/test fixture for your app's end-to-end tests: one mock BFF per worker, and a page
// signed in as any persona in one line. Copy it into your project (next to playwright.config.ts).
//
// This file is documentation: this repository does not depend on @playwright/test, so it is not
// type-checked here (packages/mock-bff/tsconfig.test.json includes test/ only). The same steps run
// for real in packages/mock-bff/test/playwright-cookies.test.ts, with playwright-core and Chromium.
import { test as base, expect, type Page } from '@playwright/test';
import { type MockBff, startMockBff } from '@tmi-bff/mock-bff';

interface WorkerFixtures {
  /** The mock AS, the BFF in front of your app, and the demo APIs, on ephemeral ports. */
  mockBff: MockBff;
}

interface TestFixtures {
  /** Signs `persona` in through the real code flow, puts the session cookies in the context, opens `path`. */
  signedInPage: (persona: string, path?: string) => Promise<Page>;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  mockBff: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern.
    async ({}, use) => {
      // Your built app (or `frontend: 'http://localhost:5173'` for a running dev server).
      const bff = await startMockBff({ static: 'dist' });
      await use(bff);
      await bff.stop();
    },
    { scope: 'worker' },
  ],

  // Relative URLs in page.goto() go to the app, behind the BFF.
  baseURL: async ({ mockBff }, use) => {
    await use(mockBff.url);
  },

  signedInPage: async ({ mockBff, context, page }, use) => {
    await use(async (persona, path = '/') => {
      const { cookies } = await mockBff.signIn(persona);
      await context.addCookies(cookies);
      await page.goto(path);
      return page;
    });
  },
});

export { expect };

// In a spec file:
//
//   import { expect, test } from './fixtures';
//
//   test('alice sees her name', async ({ signedInPage }) => {
//     const page = await signedInPage('alice');
//     await expect(page.getByText('Alice Adams')).toBeVisible();
//   });
//
//   test('an expired session sends the user back to sign in', async ({ signedInPage, mockBff, context }) => {
//     const page = await signedInPage('alice');
//     const cookieHeader = (await context.cookies(mockBff.url)).map((c) => `${c.name}=${c.value}`).join('; ');
//     await mockBff.admin.setSessionLifetime(cookieHeader, 0);
//     await page.reload();
//     await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
//   });
