/**
 * @tmi-bff/resource-server: RFC 9068 access-token validation for Koa resource servers, answering per
 * RFC 6750. The JWKS comes from the AS's metadata (RFC 8414), fetched on first use.
 *
 *   app.use(requireAccessToken({ issuer, audience: 'https://api.example/stocks' }));
 *   router.post('/orders', requireScope('stocks:buy'), placeOrder);
 *
 * TMI-BFF-01 §8.2 (TMI-34): authorisation looks at the token's audience and scope only, never at
 * how the client that obtained it authenticated.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068.html#section-4
 * @see https://www.rfc-editor.org/rfc/rfc6750.html#section-3
 */
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { Context, Next } from 'koa';

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  client_id: string;
  scope?: string;
  act?: { sub: string; act?: unknown };
}

export interface ValidatorOptions {
  /** The AS's issuer identifier; `iss` must equal it exactly (RFC 9068 §4 step 3). */
  issuer: string;
  /** This resource server's identifier; `aud` must contain it (step 4). */
  audience: string;
  /** Where the AS's keys are. Default: `jwks_uri` from `<issuer>/.well-known/openid-configuration`. */
  jwksUri?: string | undefined;
  /** Seconds of clock skew allowed on `exp` and `nbf`. Default: 5. */
  clockTolerance?: number | undefined;
}

/** An RFC 6750 §3.1 error: 401 invalid_token / invalid_request, or 403 insufficient_scope. */
export class BearerError extends Error {
  constructor(
    readonly status: 400 | 401 | 403,
    readonly error: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined,
    readonly error_description?: string,
    readonly scope?: string,
  ) {
    super(error_description ?? error ?? 'authentication required');
  }
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

/** Writes a BearerError as RFC 6750 §3 says: the WWW-Authenticate challenge, plus a JSON body. */
export function sendBearerError(ctx: Context, err: BearerError): void {
  const params = [
    ...(err.error ? [`error=${quote(err.error)}`] : []),
    ...(err.error_description ? [`error_description=${quote(err.error_description)}`] : []),
    ...(err.scope ? [`scope=${quote(err.scope)}`] : []),
  ];
  ctx.status = err.status;
  ctx.set('WWW-Authenticate', params.length ? `Bearer ${params.join(', ')}` : 'Bearer');
  ctx.set('Cache-Control', 'no-store');
  ctx.body = err.error
    ? { error: err.error, ...(err.error_description ? { error_description: err.error_description } : {}) }
    : {};
}

function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the access token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'typ') return 'not an access token (typ must be at+jwt)';
    if (err.claim === 'iss') return 'the access token was issued by another issuer';
    if (err.claim === 'aud') return 'the access token is for another resource';
    if (err.claim === 'nbf') return 'the access token is not valid yet';
    return `the access token has an invalid ${err.claim} claim`;
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'the access token signature does not verify';
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    return 'the access token is signed with an algorithm that is not allowed';
  return 'the access token is malformed';
}

/**
 * Validates the bearer token of every request (RFC 9068 §4) and puts its claims in
 * `ctx.state.accessToken`. Failures answer 401 `invalid_token` (RFC 6750 §3.1).
 */
export function requireAccessToken(options: ValidatorOptions) {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  async function jwks() {
    if (!keys) {
      let uri = options.jwksUri;
      if (!uri) {
        const res = await fetch(`${options.issuer}/.well-known/openid-configuration`, {
          signal: AbortSignal.timeout(5000),
        });
        if (!res.ok) throw new Error(`AS metadata answered ${res.status}`);
        uri = String(((await res.json()) as { jwks_uri?: unknown }).jwks_uri);
      }
      keys = createRemoteJWKSet(new URL(uri));
    }
    return keys;
  }

  return async function requireValidAccessToken(ctx: Context, next: Next): Promise<void> {
    const header = ctx.get('authorization');
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (!match?.[1]) {
      // RFC 6750 §3.1: no credentials at all → a bare challenge, no error code.
      return sendBearerError(
        ctx,
        header
          ? new BearerError(400, 'invalid_request', 'use Authorization: Bearer <token>')
          : new BearerError(401, undefined),
      );
    }
    let claims: AccessTokenClaims;
    try {
      const { payload } = await jwtVerify<AccessTokenClaims>(match[1], await jwks(), {
        typ: 'at+jwt', // RFC 9068 §4 step 2: an ID token or any other JWT is refused
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        clockTolerance: options.clockTolerance ?? 5,
        requiredClaims: ['sub', 'client_id', 'iat', 'exp', 'jti'],
      });
      claims = payload;
    } catch (err) {
      return sendBearerError(ctx, new BearerError(401, 'invalid_token', reason(err)));
    }
    ctx.state.accessToken = claims;
    ctx.state.bearer = match[1];
    await next();
  };
}

/** RFC 9068 §4 step 7, RFC 6750 §3.1: the route's scopes, else 403 `insufficient_scope`. */
export function requireScope(...scopes: string[]) {
  return async function requireRouteScope(ctx: Context, next: Next): Promise<void> {
    const held = new Set(String((ctx.state.accessToken as AccessTokenClaims | undefined)?.scope ?? '').split(' '));
    const missing = scopes.filter((s) => !held.has(s));
    if (missing.length) {
      return sendBearerError(
        ctx,
        new BearerError(403, 'insufficient_scope', `this route needs ${scopes.join(' ')}`, scopes.join(' ')),
      );
    }
    await next();
  };
}
