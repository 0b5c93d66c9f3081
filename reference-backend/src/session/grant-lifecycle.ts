/**
 * The sessions' grants, as the backend's routes see them. The token layer (TokenService in
 * @tmi-bff/koa) owns the grant records: it writes them at sign-in and consent, and at their end it
 * revokes their refresh tokens at the AS (RFC 7009), so no refresh token outlives the session that
 * held it. Best effort: an AS that cannot be told is logged with the reason, and the local state is
 * dropped all the same.
 *
 * One exception, and why: sign-ins in the same AS session (the ID token's `sid`, or else the same
 * user and `auth_time`: the grant's AS session) share one grant at many ASes (oidc-provider,
 * Keycloak). Revoking a refresh token there revokes the whole grant (RFC 7009 §2.1 allows it), and
 * with it the new refresh token that replaced the old one. So a refresh token superseded within the
 * same AS session is not revoked: it ends with that grant, at sign-out or at the session's expiry.
 *
 * What this file adds: the indexes back-channel logout needs (which session carries an AS session,
 * which sessions a user has), kept next to each grant's start and end.
 *
 * Walkthrough: docs/walkthrough/04-logout.md.
 */
import type { BffSession, GrantInput, TokenService } from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';
import type { Context } from 'koa';
import { STORE_KEYS } from '../store-keys.js';
import { koaSession } from './session.js';
import type { SessionReader } from './session-reader.js';

export interface GrantLifecycleDeps {
  tokens: TokenService;
  store: KeyValueStore;
  /** The store's clock. Default: Date.now. */
  now?: (() => number) | undefined;
}

/** Whose session it is: the issuer and the subject of its ID token. */
export interface SessionUser {
  iss?: unknown;
  sub?: unknown;
}

/** An AS session named by its ID tokens' (and logout tokens') `sid`. */
export const asSessionId = (iss: string, sid: string) => `sid ${iss} ${sid}`;

/** Which session last signed in through an AS session (its `sid`): that session carries its grant. */
const asSessionKey = STORE_KEYS.asSession;
/** Every session of one user at one issuer (OIDC Back-Channel Logout 1.0 §2.7: logout by `sub`). */
const userKey = STORE_KEYS.user;
/** Whose a session is, so that its end takes it out of its user's list. */
const sessionUserKey = STORE_KEYS.sessionUser;
const userOf = ({ iss, sub }: SessionUser) =>
  typeof iss === 'string' && typeof sub === 'string' ? `${iss} ${sub}` : undefined;

interface UserSessions {
  ids: string[];
  /** Epoch ms: the end of the latest of them, and of this record. */
  ends_at: number;
}

export type GrantLifecycle = ReturnType<typeof grantLifecycle>;

export function grantLifecycle({ tokens, store, now = Date.now }: GrantLifecycleDeps) {
  /** Adds or removes a session in its user's list; ids whose grant has ended are dropped on the way. */
  async function updateUserSessions(user: string, add: string | undefined, remove: string | undefined, ttlMs = 0) {
    await store.withLock(userKey(user), async () => {
      const found = await store.get<UserSessions>(userKey(user));
      const ids = new Set(found?.ids ?? []);
      if (add) ids.add(add);
      if (remove) ids.delete(remove);
      const live: string[] = [];
      for (const id of ids) if (await tokens.hasGrant(id)) live.push(id);
      const ends_at = Math.max(found?.ends_at ?? 0, now() + ttlMs);
      if (live.length === 0 || ends_at <= now()) await store.delete(userKey(user));
      else await store.set<UserSessions>(userKey(user), { ids: live, ends_at }, ends_at - now());
    });
  }

  /** Indexes a session by the AS session it now carries, and by its user (for back-channel logout). */
  async function index(sessionId: string, asSession: string | undefined, ttlMs: number, user?: SessionUser) {
    if (asSession) await store.set(asSessionKey(asSession), sessionId, ttlMs);
    const owner = user && userOf(user);
    if (owner) {
      await store.set(sessionUserKey(sessionId), owner, ttlMs);
      await updateUserSessions(owner, sessionId, undefined, ttlMs);
    }
  }

  return {
    /** Sign-in: the new session's grant, indexed, and its ID token kept for sign-out. */
    async start(
      sessionId: string,
      grant: GrantInput,
      ttlMs: number,
      user?: SessionUser,
      idToken?: string,
    ): Promise<void> {
      await tokens.startGrant(sessionId, grant, ttlMs);
      if (idToken) await store.set(STORE_KEYS.idToken(sessionId), idToken, ttlMs);
      await index(sessionId, grant.asSession, ttlMs, user);
    },

    /** The ID token the session signed in with (OIDC RP-Initiated Logout 1.0 §2: `id_token_hint`). */
    idToken(sessionId: string): Promise<string | undefined> {
      return store.get<string>(STORE_KEYS.idToken(sessionId));
    },

    /** Consent (D13): the session's grant grows; a replaced refresh token is retired by the token layer. */
    async widen(sessionId: string, grant: GrantInput, ttlMs: number, user?: SessionUser): Promise<void> {
      const { asSession } = await tokens.widenGrant(sessionId, grant, ttlMs);
      await index(sessionId, asSession, ttlMs, user);
    },

    /** A grant obtained and not kept: revoked, unless it is the one `keptBy` already holds. */
    discard(grant: GrantInput, why: string, keptBy?: string): Promise<void> {
      return tokens.discardGrant(grant, why, keptBy);
    },

    /**
     * Ends a session's grant (sign-out, a new sign-in over it, back-channel logout): the token layer
     * deletes it and revokes its refresh token unless `successor` carries the same AS session.
     */
    async end(sessionId: string, why: string, successor?: string): Promise<void> {
      const user = await store.get<string>(sessionUserKey(sessionId));
      if (user) {
        await store.delete(sessionUserKey(sessionId));
        await updateUserSessions(user, undefined, sessionId);
      }
      await store.delete(STORE_KEYS.idToken(sessionId));
      const ended = await tokens.endGrant(sessionId, { why, successor });
      if (ended?.asSession && (await store.get<string>(asSessionKey(ended.asSession))) === sessionId) {
        await store.delete(asSessionKey(ended.asSession));
      }
    },

    /**
     * The request's session, while its grant record exists: a session whose grant was ended (by
     * back-channel logout, or by an admin) is no session, and its cookie is cleared. Read through
     * koa-session unless `reader` says otherwise (session-reader.ts, for the TMI-BFF endpoints).
     */
    async current(ctx: Context, reader: SessionReader = koaSession): Promise<BffSession | undefined> {
      const session = await reader.read(ctx);
      if (!session) return undefined;
      // The grant read here is the request's: bff-token's cache lookup uses it too (one read).
      if (await tokens.hasGrant(session.id, ctx)) return session;
      await reader.end(ctx);
      return undefined;
    },

    /**
     * OIDC Back-Channel Logout 1.0 §2.7: the sessions a logout token names, by the AS session
     * (`sid`), else by the user (`sub`), at one issuer.
     */
    async sessionsOf(iss: string, claims: { sid?: string | undefined; sub?: string | undefined }): Promise<string[]> {
      const ofUser = claims.sub ? ((await store.get<UserSessions>(userKey(`${iss} ${claims.sub}`)))?.ids ?? []) : [];
      if (!claims.sid) return ofUser;
      const asSession = asSessionId(iss, claims.sid);
      const owner = await store.get<string>(asSessionKey(asSession));
      const found: string[] = [];
      for (const id of new Set([...(owner ? [owner] : []), ...ofUser])) {
        if ((await tokens.asSessionOf(id)) === asSession) found.push(id);
      }
      return found;
    },

    /**
     * The store dropped an expired grant record: its session ended. Its refresh token is revoked,
     * unless a newer session carries the same AS session.
     */
    expired(record: unknown): Promise<void> {
      return tokens.grantExpired(record, async (asSession) => {
        const owner = await store.get<string>(asSessionKey(asSession));
        return owner !== undefined && (await tokens.asSessionOf(owner)) === asSession;
      });
    },
  };
}
