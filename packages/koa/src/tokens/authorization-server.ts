/**
 * The backend's side of the authorization server: the grants that need no user (refresh, token
 * exchange) and revocation, as a confidential client (TMI-04). `OpenIdClient` (openid-client.ts) is
 * the default implementation. Failures come out as the endpoints' errors: an OAuth error answer →
 * `AuthorizationServerError` (relayed, TMI-28); no usable answer → `TemporarilyUnavailable` (D6).
 */
import type { ServerMetadata } from 'openid-client';
import type { AsFailure } from './as-failure.js';

/*
 * The RFC 8693 URNs, for every client of the AS (this package, and the demo APIs' exchange chain).
 * The mock AS keeps its own (mock-as/src/seed.ts, grants/token-exchange.ts): it stands alone and
 * must not depend on this package, nor this package on it.
 */
/** RFC 8693 §3 token type URI. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** RFC 8693 §2.1 grant type. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** The AS's metadata (RFC 8414, OpenID Connect Discovery 1.0 §3), as discovery returned it. */
export type AuthorizationServerMetadata = Readonly<ServerMetadata>;

/** A token endpoint answer, reduced to what the backend uses. */
export interface GrantResult {
  access_token: string;
  refresh_token?: string | undefined;
  expires_in?: number | undefined;
  scope?: string | undefined;
  id_token?: string | undefined;
}

export interface AuthorizationServer {
  /** RFC 6749 §6 refresh, with RFC 8707 `resource` values and an optional narrower `scope`. */
  refresh(refreshToken: string, request: { resources: string[]; scope?: string | undefined }): Promise<GrantResult>;
  /** RFC 8693 token exchange of an access token for one resource and scope. */
  exchange(subjectToken: string, request: { resource: string; scope: string }): Promise<GrantResult>;
  /** RFC 7009 revocation of a refresh token. Never throws: the outcome says why it did not happen. */
  revokeRefreshToken(refreshToken: string): Promise<Revocation>;
}

/**
 * What became of a revocation (RFC 7009 §2.2: the AS answers 200 for any token). `refused`: the
 * AS answered with an OAuth error; otherwise `reason` is why no answer came (D6).
 */
export type Revocation =
  | { revoked: true }
  | { revoked: false; reason: AsFailure['reason'] | 'refused'; description: string; detail?: string };
