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
import type { AuthorizationServer, StoredGrant, TokenService } from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';

export interface GrantLifecycleDeps {
  tokens: TokenService;
  store: KeyValueStore;
  authorizationServer: AuthorizationServer;
  log: (line: string) => void;
}

/** Which session last signed in through an AS session (its `sid`): that session carries its grant. */
const asSessionKey = (sid: string) => `as-session:${sid}`;

const sameAsSession = (a: StoredGrant | undefined, b: StoredGrant | undefined) =>
  a?.as_session !== undefined && a.as_session === b?.as_session;

export type GrantLifecycle = ReturnType<typeof grantLifecycle>;

export function grantLifecycle({ tokens, store, authorizationServer, log }: GrantLifecycleDeps) {
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

  return {
    retire,

    /** Stores a session's grant and records that it now carries its AS session. */
    async save(sessionId: string, grant: StoredGrant, ttlMs: number): Promise<void> {
      await tokens.saveGrant(sessionId, grant, ttlMs);
      if (grant.as_session) await store.set(asSessionKey(grant.as_session), sessionId, ttlMs);
    },

    /** Forgets a session's grant (sign-out, a new sign-in over it) and retires its refresh token. */
    async end(sessionId: string, why: string, successor?: StoredGrant): Promise<void> {
      const grant = await tokens.getGrant(sessionId);
      await tokens.deleteGrant(sessionId);
      await retire(grant, why, successor);
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
