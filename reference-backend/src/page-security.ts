/**
 * Headers every response of the backend carries, set in one place so that no page is forgotten:
 * - `X-Content-Type-Options: nosniff` on everything;
 * - on every HTML answer (error pages, the home page, the short bodies of redirects): a
 *   Content-Security-Policy with `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for older
 *   browsers), so no other site can frame a page of this app (clickjacking), and
 *   `Referrer-Policy: no-referrer`.
 * A route that sets its own policy (the sample SPA's page) keeps it.
 */
import type { Context, Next } from 'koa';
import { PAGE_POLICY } from './pages.js';

export async function pageSecurity(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } finally {
    ctx.set('X-Content-Type-Options', 'nosniff');
    // The media type as Koa reads it (no parameters): cheaper than type-is on every JSON answer.
    if (ctx.response.type === 'text/html') {
      if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', PAGE_POLICY);
      if (!ctx.response.get('Referrer-Policy')) ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('X-Frame-Options', 'DENY');
    }
  }
}
