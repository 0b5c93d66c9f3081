/**
 * The end of a grant. When the backend stops using a refresh token (sign-out, a new sign-in over a
 * session, a consent that brings a new one, the session's expiry), it tells the AS with RFC 7009
 * revocation, so no refresh token outlives the session that held it. Best effort: an AS that cannot
 * be told is logged with the reason, and the local state is dropped all the same.
 *
 * One exception, and why: sign-ins in the same AS session (the ID token's `sid`, or else the same
 * user and `auth_time`: `StoredGrant.as_session`) share one grant at many ASes (oidc-provider, Keycloak). Revoking a refresh token there revokes the whole grant
 * (RFC 7009 §2.1 allows it), and with it the new refresh token that replaced the old one. So a
 * refresh token superseded within the same AS session is not revoked: it ends with that grant, at
 * sign-out or at the session's expiry.
 *
 * Walkthrough: docs/walkthrough/04-logout.md.
 */
import type { AuthorizationServer, BffSession, StoredGrant, TokenService } from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';
import type { Context } from 'koa';
import { STORE_KEYS } from '../store-keys.js';
import { currentSession } from './session.js';

export interface GrantLifecycleDeps {
  tokens: TokenService;
  store: KeyValueStore;
  authorizationServer: AuthorizationServer;
  log: (line: string) => void;
  /** The store's clock. Default: Date.now. */
  now?: (() => number) | undefined;
}

/** Whose session it is: the issuer and the subject of its ID token. */
export interface SessionUser {
  iss?: unknown;
  sub?: unknown;
}

/** An AS session named by its ID tokens' (and logout tokens') `sid`: `StoredGrant.as_session`. */
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

const sameAsSession = (a: StoredGrant | undefined, b: StoredGrant | undefined) =>
  a?.as_session !== undefined && a.as_session === b?.as_session;

export type GrantLifecycle = ReturnType<typeof grantLifecycle>;

export function grantLifecycle({ tokens, store, authorizationServer, log, now = Date.now }: GrantLifecycleDeps) {
  /** RFC 7009: revoke the grant's refresh token, and log what became of it. */
  async function revoke(grant: StoredGrant | undefined, why: string): Promise<void> {
    if (!grant?.refresh_token) return;
    const outcome = await authorizationServer.revokeRefreshToken(grant.refresh_token);
    log(
      outcome.revoked
        ? `grant.revoked (${why})`
        : `grant.revocation_failed (${why}): ${outcome.reason}: ${outcome.description}${outcome.detail ? ` [${outcome.detail}]` : ''}`,
    );
  }

  /** A grant the backend stops using; `successor` is what replaces it, if anything. */
  async function retire(grant: StoredGrant | undefined, why: string, successor?: StoredGrant): Promise<void> {
    if (!grant?.refresh_token || grant.refresh_token === successor?.refresh_token) return;
    if (sameAsSession(grant, successor)) {
      log(`grant.superseded (${why}): same AS session, so the same grant; not revoked`);
      return;
    }
    await revoke(grant, why);
  }

  /** Adds or removes a session in its user's list; ids whose grant has ended are dropped on the way. */
  async function updateUserSessions(user: string, add: string | undefined, remove: string | undefined, ttlMs = 0) {
    await store.withLock(userKey(user), async () => {
      const found = await store.get<UserSessions>(userKey(user));
      const ids = new Set(found?.ids ?? []);
      if (add) ids.add(add);
      if (remove) ids.delete(remove);
      const live: string[] = [];
      for (const id of ids) if (await tokens.getGrant(id)) live.push(id);
      const ends_at = Math.max(found?.ends_at ?? 0, now() + ttlMs);
      if (live.length === 0 || ends_at <= now()) await store.delete(userKey(user));
      else await store.set<UserSessions>(userKey(user), { ids: live, ends_at }, ends_at - now());
    });
  }

  /** Forgets a session's grant (sign-out, a new sign-in over it) and retires its refresh token. */
  async function end(sessionId: string, why: string, successor?: StoredGrant): Promise<void> {
    const grant = await tokens.getGrant(sessionId);
    await tokens.deleteGrant(sessionId);
    const user = await store.get<string>(sessionUserKey(sessionId));
    if (user) {
      await store.delete(sessionUserKey(sessionId));
      await updateUserSessions(user, undefined, sessionId);
    }
    if (grant?.as_session && (await store.get<string>(asSessionKey(grant.as_session))) === sessionId) {
      await store.delete(asSessionKey(grant.as_session));
    }
    await retire(grant, why, successor);
  }

  return {
    retire,
    end,

    /**
     * Stores a session's grant and indexes it: by the AS session it now carries, and by its user
     * (both for back-channel logout, oauth/backchannel-logout.ts).
     */
    async save(sessionId: string, grant: StoredGrant, ttlMs: number, user?: SessionUser): Promise<void> {
      await tokens.saveGrant(sessionId, grant, ttlMs);
      if (grant.as_session) await store.set(asSessionKey(grant.as_session), sessionId, ttlMs);
      const owner = user && userOf(user);
      if (owner) {
        await store.set(sessionUserKey(sessionId), owner, ttlMs);
        await updateUserSessions(owner, sessionId, undefined, ttlMs);
      }
    },

    /**
     * The request's session, while its grant record exists: a session whose grant was ended (by
     * back-channel logout, or by an admin) is no session, and its cookie is cleared.
     */
    async current(ctx: Context): Promise<BffSession | undefined> {
      const session = currentSession(ctx);
      if (!session) return undefined;
      if (await tokens.getGrant(session.id)) return session;
      ctx.session = null;
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
        if ((await tokens.getGrant(id))?.as_session === asSession) found.push(id);
      }
      return found;
    },

    /** The store dropped an expired grant record: its session ended. */
    async expired(grant: StoredGrant): Promise<void> {
      if (grant.as_session) {
        const owner = await store.get<string>(asSessionKey(grant.as_session));
        const carried = owner ? await tokens.getGrant(owner) : undefined;
        if (sameAsSession(grant, carried)) {
          log('grant.superseded (session expired): a newer session carries the same AS session; not revoked');
          return;
        }
      }
      await revoke(grant, 'session expired');
    },
  };
}
