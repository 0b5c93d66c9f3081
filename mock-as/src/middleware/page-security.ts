/**
 * Headers every HTML page of the AS carries, set in one place so that no page is forgotten: the login
 * and consent pages, the logout confirmation and the signed-out page, oidc-provider's error pages and
 * its self-submitting forms (a form_post response, a logout without an AS session), and the
 * interaction error page.
 * - `Content-Security-Policy`: nothing loads but the pages' inline style (by hash) and oidc-provider's
 *   inline scripts (by hash); no other site may frame a page (`frame-ancestors 'none'`, and
 *   `X-Frame-Options: DENY` for older browsers); forms lead only to the AS itself and to the origins
 *   the clients registered as redirect and post-logout redirect URIs;
 * - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` (these URLs carry
 *   interaction ids, and a redirect's carries the authorization code).
 *
 * The headers are set before the page is built, because oidc-provider adds the hash of its inline
 * script to a `script-src` directive only when one is already there; answers that turn out not to be
 * HTML (JSON, empty bodies) lose them again.
 *
 * @see [CSP Level 3](https://www.w3.org/TR/CSP3/)
 * @see [RFC 7034: X-Frame-Options](https://www.rfc-editor.org/rfc/rfc7034.html)
 */
import type { Context, Next } from 'koa';
import { INLINE_STYLE_SOURCE } from '../interactions/views.js';
import type { Seed } from '../seed.js';

/**
 * CSP sources for where the AS's forms may lead. Chromium applies `form-action` to the redirects
 * after a form POST too: the login form answers 303 to the AS's /auth/…, which answers 303 to the
 * client's redirect_uri; a form_post response posts to it directly; the logout form ends at a
 * post-logout redirect URI.
 */
export function formActionSources(seed: Seed): string[] {
  const targets = seed.clients.flatMap((c) => [...c.redirect_uris, ...(c.post_logout_redirect_uris ?? [])]);
  const sources = targets.map((uri) => {
    const url = new URL(uri);
    // A custom scheme (a native app's redirect) has no origin: allow the scheme.
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
  });
  return ["'self'", ...new Set(sources)];
}

/** The Content-Security-Policy of every HTML page of the AS. */
export function pagePolicy(seed: Seed): string {
  return [
    "default-src 'none'",
    `style-src ${INLINE_STYLE_SOURCE}`,
    "script-src 'none'", // oidc-provider appends the hash of its inline script where it sends one
    `form-action ${formActionSources(seed).join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function pageSecurity(seed: Seed) {
  const headers = {
    'Content-Security-Policy': pagePolicy(seed),
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
  return async function setPageSecurityHeaders(ctx: Context, next: Next): Promise<void> {
    ctx.set(headers);
    await next();
    if (!ctx.response.is('html')) {
      for (const name of Object.keys(headers)) ctx.remove(name);
      return;
    }
    // CSP3 §2.3.1: 'none' must stand alone in a source list; drop it where a script hash was added.
    const policy = ctx.response.get('Content-Security-Policy');
    ctx.set('Content-Security-Policy', policy.replace(/script-src 'none' (?=')/, 'script-src '));
  };
}
