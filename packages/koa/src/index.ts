/**
 * @tmi-bff/koa: the two endpoints of draft-bertocci-oauth2-tmi-bff-01 as Koa middleware.
 *
 *   const bff = createTmiBff({ ack: SPEC.draft, origin, getSession, tokens: new TokenService({…}) });
 *   app.use(bff.middleware()); // or, inside an @koa/router: router.use(bff.routes())
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
// Each endpoint's stack composed once, when the app is built (koa-compose, as Koa composes its own),
// not per request as a nested router does (matching, then composing the matched layers again).
import compose from 'koa-compose';
import { bffSessionInfo } from './endpoints/bff-sessioninfo.js';
import { bffToken } from './endpoints/bff-token.js';
import { type ResolvedOptions, resolveOptions, type TmiBffOptions } from './options.js';
import { META_NAMES, ROUTES } from './spec.js';

export { bffSessionInfo } from './endpoints/bff-sessioninfo.js';
export { bffToken, TOKEN_SOURCE_HEADER, toTokenRequest } from './endpoints/bff-token.js';
export * from './errors.js';
export { defaultSessionInfo, type Logger, type TmiBffOptions, type TokenSource } from './options.js';
export { allowMethods } from './shared/allow-methods.js';
export { type CsrfOptions, requireSameOrigin } from './shared/csrf.js';
export { errorHandler } from './shared/error-handler.js';
export { noStore, sendJson, setNoStore } from './shared/no-store.js';
export {
  answerParserRefusal,
  type ParserRefusal,
  parserRefusal,
  type RefusalAnswer,
} from './shared/parser-refusal.js';
export { requireSession, sessionOf, type TmiBffState } from './shared/require-session.js';
export { CSRF_HEADER, FRESH_PARAMETER, META_NAMES, ROUTES, SPEC, WELL_KNOWN } from './spec.js';
export { type AsFailure, type AsFailureReason, describeAsFailure } from './tokens/as-failure.js';
export {
  ACCESS_TOKEN_TYPE,
  type AuthorizationServer,
  type AuthorizationServerMetadata,
  type GrantResult,
  type Revocation,
  TOKEN_EXCHANGE_GRANT,
} from './tokens/authorization-server.js';
export { cacheKey, scopeSet } from './tokens/cache-key.js';
export {
  CLIENT_AUTH_METHODS,
  type ClientAuth,
  type ClientAuthMethod,
  type ClientAuthSettings,
  type ClientPrivateKey,
  clientAuthFor,
  clientSecretBasic,
  clientSecretPost,
  privateKeyJwt,
} from './tokens/client-auth.js';
export {
  type AuthorizationRequest,
  type CodeGrantResult,
  OpenIdClient,
  type OpenIdClientOptions,
  toEndpointError,
} from './tokens/openid-client.js';
export {
  type AsCall,
  type DownscopingStrategy,
  grantKey,
  TokenService,
  type TokenServiceOptions,
} from './tokens/token-service.js';
export type {
  BffSession,
  GrantInput,
  HeldToken,
  RefreshTokenMissing,
  TokenOutcome,
  TokenRequest,
  TokenSourceKind,
} from './tokens/types.js';

export interface TmiBff {
  options: ResolvedOptions;
  /** Both endpoints, at their configured paths. Every method reaches them (D2: 405 + Allow). */
  routes(): ReturnType<Router['routes']>;
  /**
   * Both endpoints as one middleware that switches on the path: each stack is composed once, so a
   * request costs one map lookup, not a router's match and compose. Mount it before a general
   * router. Paths match as `routes()` matches them (case-insensitive, an optional trailing slash);
   * any other path goes on to `next`.
   */
  middleware(): Middleware;
  /** D1: `<meta>` tags that advertise the configured paths, for the HTML the backend serves. */
  metaTags(): string;
}

export function createTmiBff(options: TmiBffOptions): TmiBff {
  const opts = resolveOptions(options);
  const router = new Router();
  const token = bffToken(opts);
  const sessionInfo = bffSessionInfo(opts);
  router.all(ROUTES.bffToken, opts.paths.bffToken, ...token);
  router.all(ROUTES.bffSessionInfo, opts.paths.bffSessionInfo, ...sessionInfo);
  const endpoints = new Map([
    [opts.paths.bffToken.toLowerCase(), compose(token)],
    [opts.paths.bffSessionInfo.toLowerCase(), compose(sessionInfo)],
  ]);
  const middleware: Middleware = function tmiBffEndpoints(ctx, next) {
    const endpoint = endpoints.get(ctx.path) ?? endpoints.get(ctx.path.toLowerCase().replace(/(.)\/$/, '$1'));
    return endpoint ? endpoint(ctx) : next();
  };
  const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return {
    options: opts,
    routes: () => router.routes(),
    middleware: () => middleware,
    metaTags: () =>
      `<meta name="${META_NAMES.bffToken}" content="${attr(opts.paths.bffToken)}">\n` +
      `<meta name="${META_NAMES.bffSessionInfo}" content="${attr(opts.paths.bffSessionInfo)}">`,
  };
}
