/**
 * TMI-BFF-01 §1.2 (TMI-02): an https app is served over https only. Reached over plain http, the
 * session cookie (Secure, `__Host-`) cannot be set, and Koa would answer a bare 500. Instead: a
 * warning at start-up when the settings cannot work, and a page that names the setting involved.
 * The BFF endpoints answer their own JSON error for this (`requireTls` in @tmi-bff/koa).
 */
import type { Context, Next } from 'koa';
import type { BackendConfig } from './config.js';
import { PageError, renderErrorPages } from './pages.js';

const HOW =
  'Serve it behind a TLS-terminating proxy and set BFF_TRUST_PROXY=1 (Koa then reads X-Forwarded-Proto), or set BFF_ORIGIN to the http:// origin it is reached at.';

/** The start-up warning for an https origin served by a plain-http listener with no proxy trusted. */
export function transportWarning(config: Pick<BackendConfig, 'origin' | 'trustProxy'>): string | undefined {
  if (!config.origin.startsWith('https:') || config.trustProxy) return undefined;
  return `warning: BFF_ORIGIN is ${config.origin}, but this server listens on plain http and BFF_TRUST_PROXY is not set: every request will be refused. ${HOW}`;
}

export function requireConfiguredTransport(config: Pick<BackendConfig, 'origin' | 'log'>, endpointPaths: string[]) {
  const https = config.origin.startsWith('https:');
  const pageErrors = renderErrorPages('transport.error', config.log ?? console.log);
  // Not async: a request that passes costs no promise of its own.
  return function requireHttpsWhenConfigured(ctx: Context, next: Next): Promise<void> {
    if (!https || ctx.protocol === 'https' || endpointPaths.includes(ctx.path)) return next();
    return pageErrors(ctx, async () => {
      throw new PageError(
        400,
        'This app is served over https only',
        `BFF_ORIGIN is ${config.origin}, but this request arrived over plain http. Open ${config.origin}. ${HOW}`,
        `plain-http request to ${ctx.path} (BFF_ORIGIN is https; BFF_TRUST_PROXY is not set or the proxy sent no X-Forwarded-Proto)`,
      );
    });
  };
}
