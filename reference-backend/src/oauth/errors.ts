/**
 * The errors of the routes that answer a browser with a page: sign-in, consent, the callback,
 * sign-out (and the pages around them: the https check, the user's frontend). A step throws a
 * `SignInError`; `renderErrorPages`, first on the route, writes it as an HTML page (pages.ts) under
 * the page security headers (page-security.ts). The JSON endpoints have their own errors
 * (@tmi-bff/koa `TmiBffError`).
 */
import { describeAsFailure } from '@tmi-bff/koa';
import type { Context, Next } from 'koa';
import { errorPage, sendPage } from '../pages.js';

/**
 * A failure shown to the user as a page: `title` and `detail` are shown (say what to do next);
 * `log` only goes to the log.
 */
export class SignInError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly log?: string,
  ) {
    super(`${title}: ${detail}`);
    this.name = 'SignInError';
  }
}

/** First on every page route: a `SignInError` becomes its page; anything else a generic one, logged. */
export function renderErrorPages(event: string, log: (line: string) => void) {
  return async function renderErrorPage(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const known = err instanceof SignInError;
      log(`${event} ${known ? (err.log ?? err.message) : ((err as Error).stack ?? String(err))}`);
      const shown = known ? err : new SignInError(500, 'Something went wrong', 'The request failed; try again.');
      sendPage(ctx, shown.status, errorPage(shown.title, shown.detail));
    }
  };
}

/**
 * D6: a discovery that failed, as a page that says what is wrong (not just "unreachable") and
 * which setting to check.
 */
export function discoveryFailed(err: unknown, issuer: string): SignInError {
  const failure = describeAsFailure(err, issuer);
  const down = failure.reason === 'unreachable' || failure.reason === 'timeout';
  return new SignInError(
    503,
    down ? 'The sign-in server is not reachable' : 'The sign-in server answered, but not as expected',
    `${failure.description}. ${down ? 'Is it running? Try again in a moment.' : 'Check the issuer setting (BFF_ISSUER).'}`,
    `discovery ${failure.reason}: ${failure.detail}`,
  );
}
