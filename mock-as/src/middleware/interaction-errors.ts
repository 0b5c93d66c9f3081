/**
 * Errors on the login and consent pages become an HTML page with an OAuth error code and a safe
 * description, never a stack trace:
 * - oidc-provider's errors (unknown or expired interaction, missing cookie) keep their status, code
 *   and description;
 * - client errors from reading the form (Koa's convention: `status` 4xx and `expose`), such as too
 *   large (413), not a UTF-8 form (415) or unreadable (400), get a fixed sentence: their own messages
 *   name the library that threw them;
 * - a path under /interaction/ that no route answers (404), or answers for other methods only (405,
 *   with the route's `Allow`), gets the page too;
 * - anything else is a bug: 500, with the stack in the AS log only.
 */
import type { Context, Next } from 'koa';
import { errors } from 'oidc-provider';
import { errorPage } from '../interactions/views.js';

const CLIENT_ERRORS: Record<number, string> = {
  400: 'the form could not be read',
  404: 'there is no such page',
  405: 'this page does not accept that method',
  413: 'the form is too large',
  415: 'the form must be sent as application/x-www-form-urlencoded, in UTF-8',
};

interface Failure {
  status: number;
  error: string;
  description: string | undefined;
}

function clientError(status: number): Failure {
  return { status, error: 'invalid_request', description: CLIENT_ERRORS[status] ?? 'the request cannot be answered' };
}

export function interactionErrors(log: (line: string) => void) {
  function failureOf(err: unknown): Failure {
    if (err instanceof errors.OIDCProviderError) {
      return { status: err.statusCode, error: err.error, description: err.error_description };
    }
    const { status, expose } = err as { status?: unknown; expose?: unknown };
    if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) return clientError(status);
    log(`interaction error: ${(err as Error).stack}`);
    return { status: 500, error: 'server_error', description: 'the login page failed; see the AS log' };
  }

  return async function renderInteractionErrors(ctx: Context, next: Next): Promise<void> {
    if (!ctx.path.startsWith('/interaction/')) return next();
    let failure: Failure;
    try {
      await next();
      if (ctx.body != null || (ctx.status !== 404 && ctx.status !== 405)) return;
      failure = clientError(ctx.status);
    } catch (err) {
      failure = failureOf(err);
    }
    ctx.status = failure.status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = errorPage(failure.error, failure.description);
  };
}
