/**
 * D4 (TMI-37), the CSRF defence on both endpoints, after the browser-apps BCP §6.1.3.3:
 * - a static custom header must be present: a cross-origin page cannot send it without a CORS
 *   preflight, and these endpoints answer no preflight (no CORS headers at all);
 * - `Sec-Fetch-Site`, when the browser sends it, must be `same-origin` or `none`;
 * - `Origin`, when present, must be the app's own origin.
 * A refused request is not in a verified session context: 400 `invalid_session`, with a
 * description naming the cause.
 */
import type { Context, Next } from 'koa';
import { InvalidSession } from '../errors.js';

export interface CsrfOptions {
  /** The header's name. */
  header: string;
  /** The app's origin, e.g. `http://localhost:3000`. */
  origin: string;
}

// #region walkthrough:csrf
export function requireSameOrigin(opts: CsrfOptions) {
  const header = opts.header.toLowerCase();
  return async function requireCsrfDefence(ctx: Context, next: Next): Promise<void> {
    if (!ctx.get(header)) {
      throw new InvalidSession(`the ${opts.header} request header is required (CSRF defence)`);
    }
    const site = ctx.get('sec-fetch-site');
    if (site && site !== 'same-origin' && site !== 'none') {
      throw new InvalidSession(`a ${site} request is refused (CSRF defence)`);
    }
    const origin = ctx.get('origin');
    if (origin && origin !== opts.origin) {
      throw new InvalidSession(`requests from origin ${origin} are refused (CSRF defence)`);
    }
    await next();
  };
}
// #endregion
