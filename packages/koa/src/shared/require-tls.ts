/**
 * TMI-BFF-01 §1.2 (TMI-02): the endpoints are used over TLS. When the app's origin is https, a
 * request that did not arrive over https is refused (behind a TLS-terminating proxy, set
 * `app.proxy = true` so Koa reads X-Forwarded-Proto). A plain-http origin (loopback development)
 * is served as it is.
 */
import type { Context, Next } from 'koa';
import { InvalidSession } from '../errors.js';

export function requireTls(origin: string) {
  const https = origin.startsWith('https:');
  return function requireSecureTransport(ctx: Context, next: Next): Promise<void> {
    if (https && ctx.protocol !== 'https') {
      return Promise.reject(new InvalidSession('this endpoint is served over https only'));
    }
    return next();
  };
}
