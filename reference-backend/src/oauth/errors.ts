/**
 * The errors of sign-in, consent, the callback and sign-out. A step throws a `SignInError`;
 * `renderErrorPages` (pages.ts), first on the route, writes it as an HTML page under the page
 * security headers (page-security.ts), as it does the other pages' `PageError`s (the https check,
 * the user's frontend). The JSON endpoints have their own errors (@tmi-bff/koa `TmiBffError`).
 */
import { describeAsFailure } from '@tmi-bff/koa';
import { PageError } from '../pages.js';

/** A step of sign-in, consent, the callback or sign-out that failed: shown as a page (pages.ts `PageError`). */
export class SignInError extends PageError {}

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
