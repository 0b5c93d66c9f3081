/**
 * The one place that writes the resource server's errors. `requireAccessToken` runs everything
 * after it inside this handler, so `requireScope` and the routes may throw a `ResourceServerError`
 * too. Errors that are not the package's pass through to the app untouched.
 */
import type { Context, Next } from 'koa';
import { ResourceServerError, toErrorBody } from './errors.js';

export async function handleResourceServerErrors(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (err) {
    if (!(err instanceof ResourceServerError)) throw err;
    ctx.status = err.status;
    ctx.set(err.headers);
    // RFC 6750 §3 answers depend on the credentials sent: never cached.
    ctx.set('Cache-Control', 'no-store');
    ctx.body = toErrorBody(err);
    // Koa's error event: a 5xx (an outage of the authorization server) reaches the app's log.
    if (err.status >= 500) ctx.app.emit('error', err, ctx);
  }
}
