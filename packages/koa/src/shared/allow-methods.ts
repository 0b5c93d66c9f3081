/** D2: the methods an endpoint serves; anything else is 405 with an `Allow` header. */
import type { Context, Next } from 'koa';
import { MethodNotAllowed } from '../errors.js';

export function allowMethods(methods: string[]) {
  return async function requireAllowedMethod(ctx: Context, next: Next): Promise<void> {
    if (!methods.includes(ctx.method)) throw new MethodNotAllowed(methods);
    await next();
  };
}
