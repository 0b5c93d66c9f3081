/**
 * `requireAccessToken`: the RFC 9068 §4 checks on every request, in the spec's order, as one named
 * middleware. It also hosts the package's error handler, so everything after it (`requireScope`,
 * the routes) may throw a `ResourceServerError`.
 */
import { errors as joseErrors, jwtVerify } from 'jose';
import type { Context, Next } from 'koa';
import { type AccessTokenClaims, checkClaimTypes, REQUIRED_CLAIMS } from './claims.js';
import { handleResourceServerErrors } from './error-handler.js';
import { CredentialsRequired, InvalidRequest, InvalidToken, ResourceServerError } from './errors.js';
import { remoteKeys } from './keys.js';
import { resolveOptions, type ValidatorOptions } from './options.js';

/** RFC 9068 §2.1: signed with an asymmetric algorithm; RS256 MUST be supported; never `none`. */
export const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** The `error_description` of each jose verdict: safe, short, and the same for the same fault. */
function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the access token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `the access token has no ${err.claim} claim`;
    if (err.claim === 'typ') return 'not an access token (typ must be at+jwt)';
    if (err.claim === 'iss') return 'the access token was issued by another issuer';
    if (err.claim === 'aud') return 'the access token is for another resource';
    if (err.claim === 'nbf') return 'the access token is not valid yet';
    return `the access token has an invalid ${err.claim} claim`;
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'the access token signature does not verify';
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return 'the access token is signed with an algorithm that is not allowed';
  }
  return 'the access token is malformed';
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Validates the bearer token of every request (RFC 9068 §4) and puts its claims in
 * `ctx.state.accessToken` and the token in `ctx.state.bearer`.
 *
 * - no credentials: 401 with a bare `WWW-Authenticate: Bearer` (RFC 6750 §3.1)
 * - an `Authorization` header that is not Bearer: 400 `invalid_request`
 * - any failed check: 401 `invalid_token`
 * - the AS's metadata or keys out of reach: 503 `temporarily_unavailable`, `Retry-After`
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068.html#section-4
 * @see https://www.rfc-editor.org/rfc/rfc6750.html#section-3.1
 */
export function requireAccessToken(options: ValidatorOptions) {
  const opts = resolveOptions(options);
  const keys = remoteKeys(opts);

  async function verify(token: string): Promise<AccessTokenClaims> {
    try {
      const { payload } = await jwtVerify(token, keys, {
        // RFC 9068 §4 step 2: typ MUST be at+jwt (or application/at+jwt); an ID token is refused.
        typ: 'at+jwt',
        // RFC 9068 §4 step 3: iss MUST exactly match the expected issuer.
        issuer: opts.issuer,
        // RFC 9068 §4 step 4: aud MUST contain this resource server's identifier.
        audience: opts.audience,
        // RFC 9068 §2.1, §4 step 5: signed by the AS's keys with an expected algorithm, never none.
        algorithms: ALGORITHMS,
        // RFC 9068 §4 step 6: the current time MUST be before exp.
        clockTolerance: opts.clockTolerance,
        // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti are REQUIRED.
        requiredClaims: REQUIRED_CLAIMS,
      });
      // RFC 9068 §2.2: and each has its JSON type (scope a space-delimited string, §2.2.3).
      return checkClaimTypes(payload);
    } catch (err) {
      if (err instanceof ResourceServerError) throw err;
      throw new InvalidToken(reason(err), { detail: String(err), cause: err });
    }
  }

  return async function requireValidAccessToken(ctx: Context, next: Next): Promise<void> {
    await handleResourceServerErrors(ctx, async function validateAccessToken() {
      const header = ctx.get('authorization');
      // RFC 6750 §3.1: no credentials at all: a bare challenge, no error code.
      if (!header) throw new CredentialsRequired();
      const token = BEARER.exec(header)?.[1];
      if (!token) throw new InvalidRequest('use Authorization: Bearer <token>');
      ctx.state.accessToken = await verify(token);
      ctx.state.bearer = token;
      await next();
    });
  };
}
