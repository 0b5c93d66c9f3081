/**
 * Where the browser goes after sign-in or consent: a path of this app, never anywhere else
 * (RFC 9700 §4.11, open redirection). The check is made on the value that is actually sent in
 * `Location`, after the URL parser has normalised it: dot segments, tabs and newlines (which the
 * parser drops), backslashes (which it reads as slashes) and percent-encoded dots can all turn an
 * innocent-looking path into `//evil.example`, which a browser reads as another host.
 *
 * Walkthrough: docs/walkthrough/01-login.md.
 */
import { AUTH_PREFIX } from '../paths.js';

/** Longer return paths are not kept (the login transaction stores it). */
const MAX_LENGTH = 2048;
/** C0 controls, DEL and backslash have no place in a path we send back. */
const isUnsafe = (path: string) => [...path].some((c) => c <= '\u001f' || c === '\u007f' || c === '\\');

/** A path that, resolved against `origin` by any browser, stays on `origin`. */
function isSameOriginPath(path: string, origin: string): boolean {
  return (
    path.startsWith('/') &&
    !path.startsWith('//') &&
    !isUnsafe(path) &&
    URL.canParse(path, origin) &&
    new URL(path, origin).origin === origin
  );
}

/**
 * The same-origin path to return to, normalised; anything else becomes `/`.
 * @see https://www.rfc-editor.org/rfc/rfc9700.html#section-4.11
 */
export function safeReturnTo(value: unknown, origin: string): string {
  // A path only: not an absolute URL, not a scheme-relative one, not `javascript:`.
  if (typeof value !== 'string' || value.length > MAX_LENGTH || !isSameOriginPath(value, origin)) return '/';
  const url = new URL(value, origin);
  const path = `${url.pathname}${url.search}${url.hash}`;
  // RFC 9700 §4.11: validate what is used. `/..//evil.example` normalises to `//evil.example`.
  return isSameOriginPath(path, origin) ? path : '/';
}

/**
 * The page a request came from, as a candidate return path: the `Referer` when it is a page of this
 * origin outside `/auth/` (the sign-in pages themselves are no place to return to); else `/`.
 * The caller still passes it through `safeReturnTo`.
 */
export function refererPath(referer: string | undefined, origin: string): string {
  if (!referer || !URL.canParse(referer)) return '/';
  const url = new URL(referer);
  if (url.origin !== origin || url.pathname.startsWith(AUTH_PREFIX)) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
