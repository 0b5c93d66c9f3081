/**
 * Signing in from a test: the real authorization code flow, driven server-side (the backend's
 * `/auth/login`, the mock AS's login and consent forms, the backend's callback), with no shortcut
 * route. The result works both for `fetch` (a `Cookie` header) and for a browser context.
 */
import { type BrowserCookie, signInThrough } from '@tmi-bff/mock-as/testing';

/** A persona's username (one click on the AS's persona picker), or a username and password. */
export type Who = string | { username: string; password: string };

/** A signed-in session of the app. */
export interface SignedIn {
  /** The value of a `Cookie` header, for `fetch`. */
  cookieHeader: string;
  /** The same cookies, for Playwright's `context.addCookies(cookies)`. */
  cookies: BrowserCookie[];
}

function coded(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** The `Cookie` header that carries `cookies`. */
export const cookieHeaderOf = (cookies: BrowserCookie[]): string =>
  cookies.map((c) => `${c.name}=${c.value}`).join('; ');

/**
 * Signs `who` in to the app at `appUrl`. A refusal (wrong password, unknown persona, an error page
 * of the backend) throws a `SignInError` whose message names the step and what the page said.
 */
export async function signInTo(appUrl: string, who: Who, returnTo = '/'): Promise<SignedIn> {
  let credentials: { persona: string } | { username: string; password: string };
  if (typeof who === 'string' && who !== '') credentials = { persona: who };
  else if (who && typeof who === 'object' && typeof who.username === 'string' && typeof who.password === 'string') {
    credentials = { username: who.username, password: who.password };
  } else throw coded('signIn() takes a persona name or { username, password }');
  const { cookies } = await signInThrough(appUrl, { ...credentials, returnTo });
  return { cookieHeader: cookieHeaderOf(cookies), cookies };
}
