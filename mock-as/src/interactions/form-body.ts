/**
 * How the login and consent forms are read: an application/x-www-form-urlencoded body in UTF-8, at
 * most 16 KB, each field once and as text. Anything else is refused with a status that says why
 * (415, 413, 400); interaction-errors.ts turns it into the HTML error page.
 *
 * @see [WHATWG URL §5: application/x-www-form-urlencoded](https://url.spec.whatwg.org/#application/x-www-form-urlencoded)
 */
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';
import { errors } from 'oidc-provider';

const UTF8 = new Set(['', 'utf-8', 'utf8']);

export const formBody: Middleware[] = [
  async function acceptOnlyForms(ctx: Context, next: Next) {
    // WHATWG URL §5: the urlencoded format is UTF-8 only; our pages post nothing else. A bodyless
    // POST (a form without fields, sent by a script) is fine.
    if (ctx.is('application/x-www-form-urlencoded') === false || !UTF8.has(ctx.request.charset.toLowerCase())) {
      ctx.throw(415);
    }
    await next();
  },
  // Throws 413 (too large) and 400 (unreadable) errors with `expose`.
  bodyParser({ enableTypes: ['form'], formLimit: '16kb' }),
  async function requireTextFields(ctx: Context, next: Next) {
    // NOTE: as RFC 6749 §3.1 asks of OAuth endpoints, a field sent more than once (or as an array or
    // an object, which the parser builds from `a[]=` and `a[b]=`) is refused rather than guessed at.
    const fields = Object.values((ctx.request.body ?? {}) as Record<string, unknown>);
    if (fields.some((v) => typeof v !== 'string')) {
      throw new errors.InvalidRequest('each form field must be sent once, as text');
    }
    await next();
  },
];
