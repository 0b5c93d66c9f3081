/** D2: the methods an endpoint serves; anything else is 405 with an `Allow` header. */
import type { Context, Next } from 'koa';
import { MethodNotAllowed } from '../errors.js';

export function allowMethods(methods: string[]) {
  // Not async, as the other checks of the endpoints' stacks: a pass costs no promise of its own.
  return function requireAllowedMethod(ctx: Context, next: Next): Promise<void> {
    if (!methods.includes(ctx.method)) return Promise.reject(new MethodNotAllowed(methods));
    return next();
  };
}
