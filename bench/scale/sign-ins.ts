/**
 * Sign-ins at the backend for the scale rows (lib/sign-in.ts times them), and sign-outs so that the
 * test user does not pile sessions up.
 */
import { type CookieJar, fetchWithJar, pageMessage } from '@tmi-bff/mock-as/testing';
import { AUTH_PATHS, cookieNames } from '@tmi-bff/reference-backend';
import { type TimedSignIn, timedSignIn as timedSignInAt } from '../lib/sign-in.js';

/** One sign-in at the backend as `persona`, timed; it must leave a session cookie. */
export async function timedSignIn(origin: string, persona = 'alice'): Promise<TimedSignIn> {
  const signedIn = await timedSignInAt(origin, AUTH_PATHS.login, persona);
  if (!signedIn.jar.get(new URL(origin).hostname, cookieNames(origin).session)) {
    throw new Error(`${AUTH_PATHS.callback} set no session cookie`);
  }
  return signedIn;
}

async function expectRedirect(res: Response, what: string): Promise<void> {
  if (res.status === 302 || res.status === 303) {
    await res.body?.cancel();
    return;
  }
  throw new Error(`${what} answered ${res.status}: ${pageMessage(await res.text())}`);
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
