/**
 * Real sign-ins through the mock AS's forms (`@tmi-bff/mock-as/testing` signIn), as a browser
 * would run them: the app's own login route, the AS's pages, the app's callback. Each app gets a
 * jar of its own (the jar ignores ports, and every server here is on 127.0.0.1).
 */
import { CookieJar, fetchWithJar, signIn } from '@tmi-bff/mock-as/testing';

/** The `Cookie` header of a session freshly signed in as `persona` at the app on `origin`. */
export async function signInAt(origin: string, loginPath: string, persona = 'alice'): Promise<string> {
  const jar = new CookieJar();
  const start = await fetchWithJar(jar, `${origin}${loginPath}`);
  const authorizationUrl = start.headers.get('location');
  if (!authorizationUrl) throw new Error(`${origin}${loginPath} answered ${start.status} without a redirect`);
  const callback = await signIn(authorizationUrl, { persona });
  const done = await fetchWithJar(jar, callback);
  if (done.status >= 400) throw new Error(`${callback.pathname} answered ${done.status}: ${await done.text()}`);
  return jar.header(origin);
}
