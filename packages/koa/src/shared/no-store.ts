/** TMI-BFF-01 §4.2 (TMI-22), RFC 6749 §5.1: token and session responses are never cached. */
import type { Context, Next } from 'koa';

export function setNoStore(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

export function noStore(ctx: Context, next: Next): Promise<void> {
  setNoStore(ctx);
  return next();
}

/** Writes a JSON body with the exact content type of the draft's examples (TMI-22, D7). */
export function sendJson(ctx: Context, body: unknown): void {
  ctx.status = 200;
  ctx.type = 'application/json;charset=UTF-8';
  ctx.body = JSON.stringify(body);
}
