/** The shapes the token logic works with. Wire names (snake_case) where they go on the wire. */

/** A bff-token request, normalised: sorted, de-duplicated sets (D3). */
export interface TokenRequest {
  /** RFC 8707 resource indicators; empty means "the backend decides" (TMI-15). */
  resources: string[];
  /** Scope tokens; empty means "whatever the grant holds for the resource". */
  scopes: string[];
  /** D11 extension: skip the cache, a resource server rejected the cached token. */
  fresh: boolean;
}

/** An access token the backend holds, with what TMI-BFF-01 §4.2 needs to answer for it (TMI-23). */
export interface HeldToken {
  access_token: string;
  /** The token's actual scope, space-delimited. */
  scope: string;
  resources: string[];
  /** Epoch milliseconds. */
  expires_at: number;
}

/** Where a token came from, for logs and the flow inspector (D9). */
export type TokenSourceKind = 'cache' | 'refresh' | 'exchange';

export interface TokenOutcome {
  token: HeldToken;
  source: TokenSourceKind;
}

/**
 * What the backend keeps per session, server-side only: never in a cookie, never on the wire.
 * Written only by TokenService (startGrant, widenGrant, endGrant, and the token logic).
 */
export interface StoredGrant {
  /** The current refresh token; absent when the AS issued none or it died. */
  refresh_token?: string;
  /**
   * Why there is no refresh token: the AS issued none at sign-in (`not_issued`: its configuration,
   * e.g. no `offline_access`), or the one it issued died later (`invalid_grant`: expired, revoked,
   * reused). Absent while there is one.
   */
  refresh_token_missing?: RefreshTokenMissing;
  /** Resources the grant was asked for at sign-in (or later consent). */
  resources: string[];
  /** The scope asked for at sign-in (or later consent), space-delimited. The AS may have granted less. */
  scope: string;
  /** Cached access tokens by cache key (D8). */
  tokens: Record<string, HeldToken>;
  /**
   * Which authorization-server session the grant came from (from the ID token's `sid`, or its user
   * and `auth_time`). Sign-ins in one AS session share one grant at many ASes.
   */
  as_session?: string;
  /** Epoch ms at which the record expires with its session. */
  ends_at?: number;
}

export type RefreshTokenMissing = 'not_issued' | 'invalid_grant';

/** What sign-in (or consent) obtained, for `TokenService.startGrant` / `widenGrant`. */
export interface GrantInput {
  /** The refresh token of the code grant; none when the AS issued none. */
  refreshToken?: string | undefined;
  /** RFC 8707 resources the authorization request asked for. */
  resources: string[];
  /** The scope the authorization request asked for, space-delimited. */
  scope: string;
  /** The AS session the sign-in rode on (see `StoredGrant.as_session`). */
  asSession?: string | undefined;
}

/** The user's session, as the endpoints need it. */
export interface BffSession {
  /** Opaque, server-side identifier; keys the stored grant. */
  id: string;
  /** Claims about the user (from the ID token), for bff-sessioninfo. */
  claims: Record<string, unknown>;
  /** Epoch milliseconds at which the session ends. */
  expiresAt?: number;
}
