/**
 * POST at the authorization and end-session endpoints, read as the same request by GET.
 *
 * OIDC Core §3.1.2.1 requires the authorization endpoint to support POST (the parameters form-encoded
 * in the body), and RP-Initiated Logout §2 allows it at end_session. oidc-provider's own POST support
 * (`enableHttpPostMethods`) demands `SameSite=None` on its session cookie, which browsers drop
 * without `Secure`, i.e. on this plain-HTTP loopback AS. So a form POST here becomes the GET it
 * stands for: the body is the query. The cookies stay `SameSite=Lax`: a same-site POST (the demo's
 * parties all run on loopback) carries them; a cross-site one arrives without the AS session.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 * @see https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout
 */
import type { Context, Next } from 'koa';

/** At most this many bytes of form body, as for the login and consent forms. */
const LIMIT = 16 * 1024;

export function postAsGet(paths: readonly string[]) {
  const endpoints = new Set(paths);
  return async function readPostAsGet(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || !endpoints.has(ctx.path)) return next();
    // WHATWG URL §5: the urlencoded format, UTF-8 only.
    if (
      !ctx.is('application/x-www-form-urlencoded') ||
      !['', 'utf-8', 'utf8'].includes(ctx.request.charset.toLowerCase())
    ) {
      ctx.throw(415, 'send the parameters as application/x-www-form-urlencoded');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > LIMIT) ctx.throw(413);
      chunks.push(chunk);
    }
    ctx.method = 'GET';
    ctx.querystring = Buffer.concat(chunks).toString('utf8');
    await next();
  };
}
