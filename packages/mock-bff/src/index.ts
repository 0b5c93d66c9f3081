/**
 * @tmi-bff/mock-bff: the mock BFF for frontend projects and their end-to-end tests. One call starts
 * the mock AS, the reference backend in mock mode in front of your app, and the demo APIs:
 *
 *   const bff = await startMockBff({ static: './dist' });
 *   const alice = await bff.signIn('alice');
 *   await page.context().addCookies(alice.cookies);
 *   await bff.stop();
 */

export { CSRF_HEADER, TOKEN_SOURCE_HEADER, WELL_KNOWN } from '@tmi-bff/koa';
export { type BrowserCookie, SignInError } from '@tmi-bff/mock-as/testing';
export { ADMIN_PATHS, type AdminClient, adminClient, MockAdminError, type TokenFault } from './admin-client.js';
export type { MockBffOptions } from './options.js';
export { cookieHeaderOf, type SignedIn, signInTo, type Who } from './sign-in.js';
export { type MockBff, startMockBff } from './start-mock-bff.js';
