/**
 * Real sign-ins, timed: GET /auth/login at the backend, the mock AS's login and consent forms
 * (`signIn` from @tmi-bff/mock-as/testing), then GET /auth/callback at the backend. The callback is
 * the backend's part (the code grant, userinfo, and the session's records written to the store).
 */
import { CookieJar, fetchWithJar, pageMessage, signIn } from '@tmi-bff/mock-as/testing';
import { AUTH_PATHS, cookieNames } from '@tmi-bff/reference-backend';

export interface TimedSignIn {
  /** The backend's /auth/callback request. */
  callbackMs: number;
  /** From GET /auth/login to the callback's answer. */
  totalMs: number;
  jar: CookieJar;
}

async function expectRedirect(res: Response, what: string): Promise<void> {
  if (res.status === 302 || res.status === 303) {
    await res.body?.cancel();
    return;
  }
  throw new Error(`${what} answered ${res.status}: ${pageMessage(await res.text())}`);
}

/** One sign-in as `persona`, in a new browser (no cookies: a new AS session too). */
export async function timedSignIn(origin: string, persona = 'alice'): Promise<TimedSignIn> {
  const jar = new CookieJar();
  const started = performance.now();
  const login = await fetchWithJar(jar, `${origin}${AUTH_PATHS.login}`);
  await expectRedirect(login, AUTH_PATHS.login);
  const callback = await signIn(login.headers.get('location') ?? '', { persona, jar });
  const sent = performance.now();
  const end = await fetchWithJar(jar, callback);
  const done = performance.now();
  await expectRedirect(end, AUTH_PATHS.callback);
  if (!jar.get(new URL(origin).hostname, cookieNames(origin).session)) {
    throw new Error(`${AUTH_PATHS.callback} set no session cookie`);
  }
  return { callbackMs: done - sent, totalMs: done - started, jar };
}

/** Signs the jar's session out (POST /auth/logout), so that its user does not pile sessions up. */
export async function signOut(origin: string, jar: CookieJar): Promise<void> {
  const res = await fetchWithJar(jar, `${origin}${AUTH_PATHS.logout}`, { method: 'POST', headers: { origin } });
  await expectRedirect(res, AUTH_PATHS.logout);
}

/** The session cookie's value: the id its store records are under (`session:<id>`). */
export function sessionCookieId(origin: string, jar: CookieJar): string {
  const id = jar.get(new URL(origin).hostname, cookieNames(origin).session);
  if (!id) throw new Error('the jar holds no session cookie');
  return id;
}
