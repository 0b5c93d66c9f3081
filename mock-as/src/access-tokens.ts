/**
 * Verifies the JWT access tokens this AS issued (RFC 9068 §4): signature with our own keys, `iss`,
 * `typ: at+jwt`, `exp`. oidc-provider does not store JWT access tokens, so the token-exchange grant
 * and introspection verify them here instead of looking them up.
 */
import { createLocalJWKSet, type JWK, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';

/** RFC 8693 §4.1: the current actor, with earlier actors nested inside. */
export interface ActClaim {
  sub: string;
  act?: ActClaim;
}

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  aud: string | string[];
  exp: number;
  client_id: string;
  scope?: string;
  act?: ActClaim;
  /** The grant the token was issued under (a private claim; see `extraTokenClaims` in configuration.ts). */
  grant_id?: string;
}

/** Why a token was refused, in words a developer can act on. */
export class AccessTokenInvalid extends Error {
  override name = 'AccessTokenInvalid';
}

function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'is expired';
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'signature does not verify with this AS keys';
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'typ') {
    return 'is not an access token (typ must be at+jwt)';
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'iss') return 'was issued by another issuer';
  return 'is not a JWT access token issued by this AS';
}

export type AccessTokenVerifier = (token: string) => Promise<AccessTokenClaims>;

/**
 * A verifier that also refuses a token whose grant is gone: revoked after a replayed refresh token,
 * ended with the AS session, or expired. `findGrant` looks the grant up by id (oidc-provider's `Grant.find`).
 */
export function liveAccessTokenVerifier(
  verify: AccessTokenVerifier,
  findGrant: (id: string) => Promise<object | undefined>,
): AccessTokenVerifier {
  return async function verifyLiveAccessToken(token) {
    const claims = await verify(token);
    const grant = claims.grant_id ? await findGrant(claims.grant_id) : undefined;
    if (!grant) throw new AccessTokenInvalid('belongs to a grant that was revoked');
    return claims;
  };
}

export function accessTokenVerifier(issuer: string, publicKeys: JWK[], clockTolerance: number): AccessTokenVerifier {
  const keys = createLocalJWKSet({ keys: publicKeys });
  return async function verifyAccessToken(token) {
    try {
      const { payload } = await jwtVerify<AccessTokenClaims>(token, keys, {
        issuer,
        typ: 'at+jwt',
        algorithms: ['RS256'],
        clockTolerance,
        requiredClaims: ['sub', 'aud', 'exp', 'client_id', 'jti'],
      });
      return payload;
    } catch (err) {
      throw new AccessTokenInvalid(reason(err));
    }
  };
}
