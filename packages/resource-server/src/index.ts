/**
 * @tmi-bff/resource-server: RFC 9068 access-token validation for Koa resource servers, answering per
 * RFC 6750. The JWKS comes from the AS's metadata (RFC 8414), fetched on first use.
 *
 *   app.use(requireAccessToken({ issuer, audience: 'https://api.example/stocks' }));
 *   router.post('/orders', requireScope('stocks:buy'), placeOrder);
 *
 * Middleware and routes throw `ResourceServerError`s; one handler, hosted by `requireAccessToken`,
 * writes them. When the AS cannot be reached the answer is 503 `temporarily_unavailable`, not
 * `invalid_token`: the token is not at fault, and clients must not fetch a new one.
 *
 * TMI-BFF-01 §8.2 (TMI-34): authorisation looks at the token's audience and scope only, never at
 * how the client that obtained it authenticated.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068.html#section-4
 * @see https://www.rfc-editor.org/rfc/rfc6750.html#section-3
 */
export type { AccessTokenClaims } from './claims.js';
export { handleResourceServerErrors } from './error-handler.js';
export {
  CredentialsRequired,
  type ErrorBody,
  InsufficientScope,
  InvalidRequest,
  InvalidToken,
  RETRY_AFTER_SECONDS,
  ResourceServerError,
  type ResourceServerErrorOptions,
  TemporarilyUnavailable,
  toErrorBody,
} from './errors.js';
export { DEFAULTS, type ValidatorOptions } from './options.js';
export { ALGORITHMS, requireAccessToken } from './require-access-token.js';
export { requireScope } from './require-scope.js';
