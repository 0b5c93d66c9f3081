/**
 * The user's session (D5): koa-session with a server-side store, so the cookie carries an opaque,
 * signed id and nothing else. HttpOnly, Path=/, no Domain, SameSite=Strict; Secure and the
 * `__Host-` prefix when the app is served over https. Tokens never go in the session cookie; the
 * refresh token and cached access tokens live in the store, keyed by the session's `sid`.
 */
import { randomBytes } from 'node:crypto';
import type { BffSession } from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';
import type Koa from 'koa';
import type { Context } from 'koa';
import session, { type CreateSessionOptions } from 'koa-session';
import { STORE_KEYS } from '../store-keys.js';

/**
 * What the session store holds for a signed-in user: only what bff-sessioninfo and bff-token read,
 * on every request (session-reader.ts; koa-session, which checksums it, on the other routes). The ID token, for sign-out's
 * `id_token_hint`, is kept in a record of its own (grant-lifecycle.ts).
 */
export interface SessionData {
  /** Server-side id of the session's grant (refresh token, cached tokens). */
  sid: string;
  /** ID token claims, for bff-sessioninfo. */
  claims: Record<string, unknown>;
  /** Epoch ms at which the session ends (absolute, from sign-in). */
  expires_at: number;
}

declare module 'koa' {
  interface DefaultContext {
    session: (Partial<SessionData> & { regenerate(): Promise<void> | undefined }) | null;
  }
}

export const randomId = () => randomBytes(32).toString('base64url');

/** D5: cookie names, `__Host-` prefixed over https. */
export function cookieNames(origin: string) {
  const prefix = origin.startsWith('https:') ? '__Host-' : '';
  return { session: `${prefix}bff-session`, login: `${prefix}bff-login` };
}

/** D5: the session cookie's name and attributes (koa-session's, and session-reader.ts's to clear it). */
export function sessionCookie(origin: string) {
  return {
    name: cookieNames(origin).session,
    options: { httpOnly: true, sameSite: 'strict', signed: true, secure: origin.startsWith('https:') } as const,
  };
}

export function sessionMiddleware(app: Koa, store: KeyValueStore, origin: string, maxAgeMs: number) {
  const key = STORE_KEYS.session;
  const cookie = sessionCookie(origin);
  const options: CreateSessionOptions = {
    key: cookie.name,
    maxAge: maxAgeMs,
    ...cookie.options,
    rolling: false,
    renew: false,
    genid: randomId,
    store: {
      // A store that does not answer (Redis down) is not "no session": the failure is kept and thrown
      // where the session is asked for (currentSession), inside the route's own error handling, so
      // pages answer a 503 page (bff-token and bff-sessioninfo: session-reader.ts, temporarily_unavailable, D6).
      // koa-session meanwhile holds an empty, unchanged session: it writes nothing back.
      get: (k: string, _maxAge: unknown, { ctx }: { ctx?: Context }) =>
        store.get(key(k)).catch((err: unknown) => {
          if (!ctx) throw err;
          (ctx.state as { [LOAD_FAILED]?: unknown })[LOAD_FAILED] = err;
          return undefined;
        }),
      set: (k: string, value: unknown, ttl: number) => store.set(key(k), value, ttl),
      destroy: (k: string) => store.delete(key(k)),
    },
  };
  return session(options, app);
}

const LOAD_FAILED = Symbol('session store failure');

/**
 * The session as the TMI-BFF endpoints see it, or undefined. Throws the store's error when the
 * session could not be read (StoreUnavailable: TMI_BFF_STORE_UNAVAILABLE, D6).
 */
export function currentSession(ctx: Context): BffSession | undefined {
  const failed = (ctx.state as { [LOAD_FAILED]?: unknown })[LOAD_FAILED];
  if (failed !== undefined) throw failed;
  return bffSession(ctx.session);
}

/** A stored session record as the TMI-BFF endpoints see it: undefined unless it is complete. */
export function bffSession(data: Partial<SessionData> | null | undefined): BffSession | undefined {
  if (!data?.sid || !data.claims || !data.expires_at) return undefined;
  return { id: data.sid, claims: data.claims, expiresAt: data.expires_at };
}

/** The session as koa-session holds it (`currentSession`); ending it is koa-session's `ctx.session = null`. */
export const koaSession = {
  read: currentSession,
  end: (ctx: Context) => {
    ctx.session = null;
  },
};
