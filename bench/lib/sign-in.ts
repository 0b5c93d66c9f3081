/**
 * Real sign-ins through the mock AS's forms (`@tmi-bff/mock-as/testing` signIn), as a browser
 * would run them: the app's own login route, the AS's pages, the app's callback. Each sign-in gets a
 * jar of its own (a new browser: a new AS session too; the jar ignores ports, and every server here
 * is on 127.0.0.1).
 */
import { CookieJar, fetchWithJar, pageMessage, signIn } from '@tmi-bff/mock-as/testing';

export interface TimedSignIn {
  /** The app's callback request: its part of the sign-in (the code grant, the session written). */
  callbackMs: number;
  /** From the login route to the callback's answer. */
  totalMs: number;
  jar: CookieJar;
}

/** One sign-in as `persona` at the app on `origin`, timed. */
export async function timedSignIn(origin: string, loginPath: string, persona = 'alice'): Promise<TimedSignIn> {
  const jar = new CookieJar();
  const started = performance.now();
  const start = await fetchWithJar(jar, `${origin}${loginPath}`);
  const authorizationUrl = start.headers.get('location');
  if (!authorizationUrl) throw new Error(`${origin}${loginPath} answered ${start.status} without a redirect`);
  await start.body?.cancel();
  const callback = await signIn(authorizationUrl, { persona, jar });
  const sent = performance.now();
  const done = await fetchWithJar(jar, callback);
  const ended = performance.now();
  if (done.status >= 400) {
    throw new Error(`${callback.pathname} answered ${done.status}: ${pageMessage(await done.text())}`);
  }
  await done.body?.cancel();
  return { callbackMs: ended - sent, totalMs: ended - started, jar };
}

/** The `Cookie` header of a session freshly signed in as `persona` at the app on `origin`. */
export async function signInAt(origin: string, loginPath: string, persona = 'alice'): Promise<string> {
  return (await timedSignIn(origin, loginPath, persona)).jar.header(origin);
}
