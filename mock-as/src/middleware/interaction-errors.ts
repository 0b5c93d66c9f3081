/** Errors on the login and consent pages become an HTML page with the OAuth error, never a stack trace. */
import type { Context, Next } from 'koa';
import { errors } from 'oidc-provider';
import { errorPage } from '../interactions/views.js';

export function interactionErrors(log: (line: string) => void) {
  return async function renderInteractionErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      if (!ctx.path.startsWith('/interaction/')) throw err;
      const known = err instanceof errors.OIDCProviderError;
      if (!known) log(`interaction error: ${(err as Error).stack}`);
      ctx.status = known ? err.statusCode : 500;
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = known
        ? errorPage(err.error, err.error_description)
        : errorPage('server_error', 'the login page failed; see the AS log');
    }
  };
}
