/**
 * TMI-BFF-01 §4.2 (TMI-22), RFC 6749 §5.1: token and session responses are never cached. Nor is a
 * JSON answer ever sniffed as something else (`X-Content-Type-Options: nosniff`): the endpoints set
 * it themselves, so they need no page middleware in front of them.
 */
import type { Context, Next } from 'koa';

export function setNoStore(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.set('X-Content-Type-Options', 'nosniff');
}

export function noStore(ctx: Context, next: Next): Promise<void> {
  setNoStore(ctx);
  return next();
}

/** The exact content type of the draft's examples (TMI-22, D7). */
const JSON_TYPE = 'application/json;charset=UTF-8';

/** Writes a JSON body with the exact content type of the draft's examples (TMI-22, D7). */
export function sendJson(ctx: Context, body: unknown): void {
  sendJsonText(ctx, JSON.stringify(body));
}

/** Writes JSON text already serialised, as `sendJson` would. */
export function sendJsonText(ctx: Context, json: string): void {
  ctx.status = 200;
  // Set as a header: the type is already a full media type, with nothing for Koa's lookup to add.
  ctx.set('Content-Type', JSON_TYPE);
  ctx.body = json;
}
