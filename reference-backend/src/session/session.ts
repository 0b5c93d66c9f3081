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

/** What the session store holds for a signed-in user. */
export interface SessionData {
  /** Server-side id of the session's grant (refresh token, cached tokens). */
  sid: string;
  /** ID token claims, for bff-sessioninfo. */
  claims: Record<string, unknown>;
  /** The ID token, for `id_token_hint` at logout. */
  id_token?: string | undefined;
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

export function sessionMiddleware(app: Koa, store: KeyValueStore, origin: string, maxAgeMs: number) {
  const key = STORE_KEYS.session;
  const options: CreateSessionOptions = {
    key: cookieNames(origin).session,
    maxAge: maxAgeMs,
    httpOnly: true,
    sameSite: 'strict',
    signed: true,
    secure: origin.startsWith('https:'),
    rolling: false,
    renew: false,
    genid: randomId,
    store: {
      get: (k: string) => store.get(key(k)),
      set: (k: string, value: unknown, ttl: number) => store.set(key(k), value, ttl),
      destroy: (k: string) => store.delete(key(k)),
    },
  };
  return session(options, app);
}

/** The session as the TMI-BFF endpoints see it, or undefined. */
export function currentSession(ctx: Context): BffSession | undefined {
  const data = ctx.session;
  if (!data?.sid || !data.claims || !data.expires_at) return undefined;
  return { id: data.sid, claims: data.claims, expiresAt: data.expires_at };
}
