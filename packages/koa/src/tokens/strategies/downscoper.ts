/**
 * D9: how the backend gets a token narrower than its grant. A `Downscoper` asks the AS and returns
 * the token; it never changes the grant record. The token service reads the record under the
 * session's lock, hands it over read-only, and applies what changes: a rotated or dead refresh token
 * (through `spendRefreshToken`), then the cache, then one save (a rotated refresh token goes with it,
 * or earlier when the strategy asks the AS again).
 */
import type { AuthorizationServer, GrantResult } from '../authorization-server.js';
import type { TokenCache } from '../token-cache.js';
import type { HeldToken, StoredGrant, TokenOutcome, TokenRequest } from '../types.js';

export interface DownscopeContext {
  /** The session's grant record, as read under its lock. Read-only. */
  grant: Readonly<StoredGrant>;
  /**
   * For grants that spend no refresh token (token exchange). A refresh goes through
   * `spendRefreshToken` only, so that its rotated token is always kept.
   */
  as: Pick<AuthorizationServer, 'exchange'>;
  /** For turning an AS answer into a held token, and finding one held already. */
  cache: TokenCache;
  /**
   * RFC 6749 §6: spends the grant's refresh token at the AS. A dead one (`invalid_grant`) is
   * forgotten before it settles; a rotated one (RFC 9700 §4.14.2) is saved by the service before the
   * AS is asked anything else, and before the caller is answered.
   */
  spendRefreshToken(request: { resources: string[]; scope?: string | undefined }): Promise<GrantResult>;
}

/** A token for the request, and the tokens obtained on the way, for the cache. */
export interface Downscoped extends TokenOutcome {
  /** Each with the `cacheKey` of the request it answers (D8), e.g. the broad token an exchange started from. */
  alsoObtained?: Array<{ token: HeldToken; requestKey: string }>;
}

export interface Downscoper {
  /** A token for `request` (D9), from the AS. Throws what the AS answered. */
  obtain(request: TokenRequest, context: DownscopeContext): Promise<Downscoped>;
}
