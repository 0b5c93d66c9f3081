/**
 * First in every endpoint stack: turns any thrown error into the spec's JSON error response.
 * TMI-BFF-01 §4.3 (TMI-25): status 400 and `{ error, error_description? }`; D6: the no-store
 * headers on errors too; a 5xx never carries its cause. Logged: a client's error at debug, the AS or
 * the store not answering (temporarily_unavailable) as a warning, a 5xx as an error.
 */
import type { Context, Next } from 'koa';
import { asTmiBffError, type ErrorBody, MethodNotAllowed, TemporarilyUnavailable, toErrorBody } from '../errors.js';
import type { Logger } from '../options.js';
import { setNoStore } from './no-store.js';

/** RFC 6749 §5.2: error_description MUST NOT use characters outside %x20-21 / %x23-5B / %x5D-7E. */
const NOT_OAUTH_TEXT = /[^\x20\x21\x23-\x5B\x5D-\x7E]/;

/**
 * A description may quote what the request sent (an `Origin`, a `resource`): quotes become
 * apostrophes, and any other character outside the set a `?`. The log keeps the original.
 */
function inOAuthText(body: ErrorBody): ErrorBody {
  const description = body.error_description;
  if (description === undefined || !NOT_OAUTH_TEXT.test(description)) return body;
  return { ...body, error_description: description.replace(/"/g, "'").replace(new RegExp(NOT_OAUTH_TEXT, 'g'), '?') };
}

export function errorHandler(eventName: string, log: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (thrown) {
      const err = asTmiBffError(thrown);
      ctx.status = err.status;
      setNoStore(ctx);
      if (err instanceof MethodNotAllowed) ctx.set('Allow', err.allow.join(', '));
      ctx.type = 'application/json;charset=UTF-8';
      ctx.body = inOAuthText(toErrorBody(err));
      const data = { error: err.error, description: err.error_description, detail: err.error_detail };
      // D6: the AS or the store not answering is the operator's concern, not the client's: a warning.
      if (err instanceof TemporarilyUnavailable) (log.warn ?? log.error).call(log, eventName, data);
      else if (err.expose) log.debug(eventName, data);
      else log.error(eventName, { error: err.error, detail: err.error_detail });
      ctx.app.emit(eventName, err, ctx);
    }
  };
}
