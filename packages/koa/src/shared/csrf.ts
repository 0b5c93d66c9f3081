/**
 * D4 (TMI-37), the CSRF defence on both endpoints, after the browser-apps BCP §6.1.3.3:
 * - a static custom header must be present: a cross-origin page cannot send it without a CORS
 *   preflight, and these endpoints answer no preflight (no CORS headers at all);
 * - `Sec-Fetch-Site`, when the browser sends it, must be `same-origin` or `none`;
 * - `Origin`, when present, must be the app's own origin.
 * A refused request is not in a verified session context: 400 `invalid_session`, with a
 * description naming the cause.
 *
 * Form mode, for form POSTs (sign-out) that cannot send a custom header: `Origin` (exact match) and
 * `Sec-Fetch-Site` stand in for it, and at least one of them must be present.
 *
 * Without a header name, for a read-only GET that a browser API opens without custom headers (an
 * `EventSource`): no header is asked, and `Sec-Fetch-Site` and `Origin` are checked as above.
 */
import type { Context, Next } from 'koa';
import { InvalidSession } from '../errors.js';

export interface CsrfOptions {
  /**
   * The header's name, e.g. `TMI-BFF-CSRF`. Not required in form mode. Undefined: no header is
   * asked, for a read-only GET that cannot send one (an `EventSource`).
   */
  header: string | undefined;
  /** The app's origin, e.g. `http://localhost:3000`. */
  origin: string;
  /**
   * Form mode: no custom header; `Origin` or `Sec-Fetch-Site` must be present and same-origin.
   * Default: false.
   */
  form?: boolean | undefined;
  /**
   * The error thrown for a refused request, given why. Default: `InvalidSession` (400
   * `invalid_session`); an HTML route may throw its own page error instead.
   */
  refuse?: ((description: string) => Error) | undefined;
}

// #region walkthrough:csrf
const SAME_SITE = new Set(['same-origin', 'none']);

/** Why a request fails the defence, or undefined when it passes. */
function refusal(ctx: Context, opts: CsrfOptions): string | undefined {
  const origin = ctx.get('origin');
  const site = ctx.get('sec-fetch-site');
  if (opts.form) {
    if (!origin && !site) return 'a form post without Origin or Sec-Fetch-Site is refused (CSRF defence)';
  } else if (opts.header !== undefined && !ctx.get(opts.header)) {
    return `the ${opts.header} request header is required (CSRF defence)`;
  }
  if (site && !SAME_SITE.has(site)) return `a ${site} request is refused (CSRF defence)`;
  if (origin && origin !== opts.origin) return `requests from origin ${origin} are refused (CSRF defence)`;
  return undefined;
}

export function requireSameOrigin(opts: CsrfOptions) {
  const refuse = opts.refuse ?? ((description: string) => new InvalidSession(description));
  return function requireCsrfDefence(ctx: Context, next: Next): Promise<void> {
    const why = refusal(ctx, opts);
    return why ? Promise.reject(refuse(why)) : next();
  };
}
// #endregion
