/** One log line per request: method, path, grant type, client, status, OAuth error, duration. */
import type { Context, Next } from 'koa';

export function logRequests(log: (line: string) => void) {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    try {
      await next();
    } finally {
      const body = ctx.body as { error?: string } | undefined;
      const grant = ctx.oidc?.route === 'token' ? ` grant_type=${ctx.oidc.params?.grant_type ?? '-'}` : '';
      const client = ctx.oidc?.client ? ` client=${ctx.oidc.client.clientId}` : '';
      const error = body && typeof body === 'object' && body.error ? ` error=${body.error}` : '';
      const ms = (performance.now() - started).toFixed(0);
      log(`${ctx.method} ${ctx.path}${grant}${client} → ${ctx.status}${error} (${ms} ms)`);
    }
  };
}
