/** `requireScope`: a route's scopes, every one of them, after `requireAccessToken`. */
import type { Context, Next } from 'koa';
import type { AccessTokenClaims } from './claims.js';
import { InsufficientScope } from './errors.js';

/**
 * Requires EVERY scope listed (`requireScope('a', 'b')` needs both), else 403 `insufficient_scope`
 * whose `scope` param lists what the route needs. RFC 9068 §4 step 7, RFC 6750 §3.1.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750.html#section-3.1
 */
export function requireScope(...scopes: string[]) {
  const needed = scopes.join(' ');
  return async function requireRouteScope(ctx: Context, next: Next): Promise<void> {
    // RFC 8693 §4.2: scope is a space-delimited list (its type was checked by requireAccessToken).
    const held = new Set((ctx.state.accessToken as AccessTokenClaims | undefined)?.scope?.split(' '));
    const missing = scopes.filter((s) => !held.has(s));
    // RFC 6750 §3.1: the token lacks a scope the route needs: 403, naming the scope needed.
    if (missing.length) throw new InsufficientScope(`this route needs ${needed}`, needed);
    await next();
  };
}
