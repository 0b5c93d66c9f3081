/**
 * TMI-BFF-01 §3 (TMI-08) and §4.3.1 (TMI-26): every call must come inside a valid authenticated
 * session; without one the answer is `invalid_session`, on both endpoints (D6, TMI-32).
 */
import type { Context, Next } from 'koa';
import { InvalidSession } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { BffSession } from '../tokens/types.js';

export interface TmiBffState {
  session: BffSession;
}

export function requireSession(opts: Pick<ResolvedOptions, 'getSession'>) {
  return async function requireValidSession(ctx: Context, next: Next): Promise<void> {
    const session = await opts.getSession(ctx);
    if (!session) throw new InvalidSession();
    if (session.expiresAt !== undefined && session.expiresAt <= Date.now()) {
      throw new InvalidSession('the session has expired: sign in again');
    }
    (ctx.state as { tmiBff: TmiBffState }).tmiBff = { session };
    await next();
  };
}

export function sessionOf(ctx: Context): BffSession {
  return (ctx.state as { tmiBff: TmiBffState }).tmiBff.session;
}
