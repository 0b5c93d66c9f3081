/**
 * The rules of a grant record's life, for TokenService: what a new record holds, what a missing
 * refresh token means to bff-token, and how a refresh token the backend stops using is retired.
 *
 * Walkthrough: docs/walkthrough/04-logout.md; docs/security.md ("Revoking what the backend stops using").
 */
import { BackendNotReady } from '../errors.js';
import type { AuthorizationServer } from './authorization-server.js';
import type { GrantInput, StoredGrant } from './types.js';

/** A new record for what sign-in (or consent) obtained; without a refresh token, it says none was issued. */
export function grantRecord(input: GrantInput, endsAt?: number): StoredGrant {
  return {
    ...(input.refreshToken ? { refresh_token: input.refreshToken } : { refresh_token_missing: 'not_issued' }),
    resources: input.resources,
    scope: input.scope,
    tokens: {},
    ...(input.asSession ? { as_session: input.asSession } : {}),
    ...(endsAt === undefined ? {} : { ends_at: endsAt }),
  };
}

/**
 * TMI-BFF-01 §4.3.2 (TMI-27), D13: backend_not_ready for a grant without a refresh token, with what
 * helps: nothing the user can do when the AS issued none at sign-in (its configuration), a new
 * sign-in when it died.
 */
export function noRefreshToken(grant: StoredGrant | undefined): BackendNotReady {
  if (grant?.refresh_token_missing === 'not_issued') {
    return new BackendNotReady(
      'the authorization server issued no refresh token at sign-in: the backend cannot get tokens for this session (see the backend log: auth.no_refresh_token)',
      { remediation: 'configuration' },
    );
  }
  return new BackendNotReady('this session holds no refresh token: sign in again to get one', {
    remediation: 'sign_in',
  });
}

/** RFC 7009: revokes a refresh token at the AS and logs what became of it. Never throws. */
export async function revokeRefreshToken(
  as: AuthorizationServer,
  log: (line: string) => void,
  refreshToken: string,
  why: string,
): Promise<void> {
  const outcome = await as.revokeRefreshToken(refreshToken);
  log(
    outcome.revoked
      ? `grant.revoked (${why})`
      : `grant.revocation_failed (${why}): ${outcome.reason}: ${outcome.description}${outcome.detail ? ` [${outcome.detail}]` : ''}`,
  );
}

/**
 * A grant the backend stops using; `successor` is what replaces it, if anything. Its refresh token
 * is revoked, with one exception: sign-ins in one AS session share one grant at many ASes
 * (oidc-provider, Keycloak), and revoking a refresh token there revokes the whole grant (RFC 7009
 * §2.1 allows it), the successor's refresh token with it. So a refresh token superseded within the
 * same AS session is not revoked: it ends with that grant, at sign-out or at the session's expiry.
 */
export async function retireGrant(
  as: AuthorizationServer,
  log: (line: string) => void,
  grant: StoredGrant | undefined,
  why: string,
  successor?: StoredGrant,
): Promise<void> {
  if (!grant?.refresh_token || grant.refresh_token === successor?.refresh_token) return;
  if (grant.as_session !== undefined && grant.as_session === successor?.as_session) {
    log(`grant.superseded (${why}): same AS session, so the same grant; not revoked`);
    return;
  }
  await revokeRefreshToken(as, log, grant.refresh_token, why);
}
