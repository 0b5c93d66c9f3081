/**
 * An endpoint's stack, composed once when the app is built: koa-compose's dispatch, without the
 * per-request work of a nested router (matching, then composing the matched layers again).
 */
import type { Context, Middleware, Next } from 'koa';

export function composeOnce(stack: Middleware[]): (ctx: Context, next?: Next) => Promise<void> {
  return function endpoint(ctx, last) {
    const dispatch = (i: number): Promise<void> => {
      const fn = i < stack.length ? stack[i] : last;
      if (!fn) return Promise.resolve();
      try {
        return Promise.resolve(fn(ctx, () => dispatch(i + 1)));
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return dispatch(0);
  };
}
