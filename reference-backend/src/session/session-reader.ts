/**
 * The session as bff-token and bff-sessioninfo read it, without koa-session: the two TMI-BFF
 * endpoints only read the session, and run before koa-session's middleware (app.ts), so a request
 * to them pays neither its checksums (a crc32 of the session's JSON on load and again on commit) nor
 * its commit. The routes that write the session (sign-in, consent, logout, pages) keep koa-session.
 *
 * It reads what koa-session wrote, the same way: the signed cookie (`ctx.cookies`, one HMAC,
 * session/cookie-keys.ts; a cookie signed with an older listed key is accepted and re-signed), the
 * store's record under `STORE_KEYS.session(id)`, and koa-session's own check on load: a record whose
 * `_expire` has passed is no session. A store that does not answer throws (D6).
 */
import type { BffSession } from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';
import type { Context } from 'koa';
import { STORE_KEYS } from '../store-keys.js';
import { bffSession, type SessionData, sessionCookie } from './session.js';

/** Reads the request's session, and ends it when its grant is gone. */
export interface SessionReader {
  read(ctx: Context): BffSession | undefined | Promise<BffSession | undefined>;
  end(ctx: Context): void | Promise<void>;
}

/** The session record as koa-session stores it: the session's data and koa-session's own fields. */
type StoredSession = Partial<SessionData> & { _expire?: unknown };

/** Which cookie id the request's session was read under (for `end`). */
const READ_ID = Symbol('session id read');

export function sessionReader(store: KeyValueStore, origin: string): SessionReader {
  const cookie = sessionCookie(origin);
  return {
    async read(ctx) {
      const id = ctx.cookies.get(cookie.name, { signed: true });
      if (!id) return undefined;
      const data = await store.get<StoredSession>(STORE_KEYS.session(id));
      // koa-session (ContextSession#valid): a missing record, or one past its `_expire`, is no session.
      if (!data || (typeof data._expire === 'number' && data._expire < Date.now())) return undefined;
      const session = bffSession(data);
      if (session) (ctx.state as { [READ_ID]?: string })[READ_ID] = id;
      return session;
    },

    /** As koa-session removes a session: its record goes, and its cookie is cleared. */
    async end(ctx) {
      const id = (ctx.state as { [READ_ID]?: string })[READ_ID];
      if (id) await store.delete(STORE_KEYS.session(id));
      ctx.cookies.set(cookie.name, '', { ...cookie.options, expires: new Date(0), maxAge: undefined });
    },
  };
}
