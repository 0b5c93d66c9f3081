/**
 * bff-token: an access token for the resource and scope the frontend asks for.
 * TMI-BFF-01 §3.1 (request), §4 (processing), §4.2 (response), §4.3 (errors).
 *
 * Walkthrough: docs/walkthrough/03-bff-token.md.
 */

import { Recent } from '@tmi-bff/store';
import type { Context, Middleware, Next } from 'koa';
import getRawBody from 'raw-body';
import { InvalidRequest } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { allowMethods } from '../shared/allow-methods.js';
import { requireSameOrigin } from '../shared/csrf.js';
import { errorHandler } from '../shared/error-handler.js';
import { noStore, sendJsonText } from '../shared/no-store.js';
import { requireSession, sessionOf } from '../shared/require-session.js';
import { requireTls } from '../shared/require-tls.js';
import { ROUTES } from '../spec.js';
import type { HeldToken, TokenRequest } from '../tokens/types.js';

/** Response header naming where the token came from: `cache`, `refresh` or `exchange` (D9). */
export const TOKEN_SOURCE_HEADER = 'TMI-BFF-Token-Source';

const FORM = 'application/x-www-form-urlencoded';

/** D2: POST carries the same parameters in a form body. */
async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (!ctx.is(FORM)) throw new InvalidRequest(`a POST body must be ${FORM}`);
  try {
    return new URLSearchParams(
      await getRawBody(ctx.req, { limit: '8kb', encoding: 'utf8', length: ctx.get('content-length') || null }),
    );
  } catch (err) {
    throw new InvalidRequest(`the request body could not be read (${(err as Error).message})`);
  }
}

/** TMI-BFF-01 §3.1 (TMI-10): a parameter with no value is treated as absent. */
function present(params: URLSearchParams, name: string): string[] {
  return params.getAll(name).filter(nonEmpty);
}
const nonEmpty = (value: string) => value !== '';

/** TMI-BFF-01 §3.1, §4.1, D3: empty = absent; unknown parameters ignored; a repeated scope refused. */
export function toTokenRequest(params: URLSearchParams, freshParameter: string): TokenRequest {
  const scopes = present(params, 'scope');
  // D3: RFC 6749 §3.1 — a parameter MUST NOT repeat; a repeated scope is ambiguous.
  if (scopes.length > 1) throw new InvalidRequest('scope must not be repeated: send one space-delimited value');
  return {
    // RFC 8707 §2: resource may repeat; the AS decides what to do with several (D3).
    resources: [...new Set(present(params, 'resource'))].sort(),
    // TMI-BFF-01 §4.1 (TMI-14): space-delimited scope tokens, a set.
    scopes: [...new Set((scopes[0] ?? '').split(' ').filter(nonEmpty))].sort(),
    fresh: ['1', 'true'].includes(params.get(freshParameter) ?? ''),
  };
}

/** How many query strings' parsed requests an endpoint keeps: an app asks for a few, over and over. */
export const PARSED_REQUESTS = 256;

/**
 * A GET's token request, parsed once per query string: a repeated one costs a map lookup. The
 * parsed request is frozen, so every request that shares it reads the same values.
 */
function queryParser(freshParameter: string) {
  const parsed = new Recent<string, Readonly<TokenRequest>>(PARSED_REQUESTS);
  return function parseQuery(querystring: string): Readonly<TokenRequest> {
    let request = parsed.get(querystring);
    if (!request) {
      const { resources, scopes, fresh } = toTokenRequest(new URLSearchParams(querystring), freshParameter);
      request = Object.freeze({
        resources: Object.freeze(resources),
        scopes: Object.freeze(scopes),
        fresh,
      }) as TokenRequest;
      parsed.set(querystring, request);
    }
    return request;
  };
}

/**
 * TMI-BFF-01 §4.2 (TMI-18…21), D7: the answer, exactly these members, in this order. A held token's
 * JSON is written once and kept with it (a cached token is frozen, and served many times): the
 * JSON.stringify of an 850-character JWT is the largest single cost of a cache hit. The bytes are
 * those of `JSON.stringify({ access_token, expires_in, scope })`.
 */
export function tokenResponseBody(token: HeldToken, expiresIn: number): string {
  let parts = serialised.get(token);
  if (!parts) {
    parts = [
      `{"access_token":${JSON.stringify(token.access_token)},"expires_in":`,
      `,"scope":${JSON.stringify(token.scope)}}`,
    ];
    if (Object.isFrozen(token)) serialised.set(token, parts);
  }
  return `${parts[0]}${expiresIn}${parts[1]}`;
}
const serialised = new WeakMap<HeldToken, [string, string]>();

// #region walkthrough:bff-token
export function bffToken(opts: ResolvedOptions): Middleware[] {
  const parseQuery = queryParser(opts.freshParameter);
  return [
    // TMI-BFF-01 §4.3 (TMI-25), D6: any failure below becomes the spec's JSON error, never cached.
    errorHandler(`${ROUTES.bffToken}.error`, opts.logger),
    noStore,
    // TMI-BFF-01 §3.1 (TMI-09): GET MUST be supported; POST MAY (D2).
    allowMethods(opts.post.enabled ? ['GET', 'POST'] : ['GET']),
    requireTls(opts.origin),
    requireSameOrigin({ header: opts.csrfHeader, origin: opts.origin }),
    // Cookie → session: TMI-BFF-01 §3 (TMI-08). `getSession` checks the signed cookie, reads the
    // session, and in the reference backend its grant too, which the token lookup below reuses.
    requireSession(opts),
    // A GET's parameters are read with no promise of their own; a POST's body is awaited.
    function parseTokenRequest(ctx: Context, next: Next): Promise<void> {
      if (ctx.method !== 'POST') {
        ctx.state.tokenRequest = parseQuery(ctx.querystring);
        return next();
      }
      return readForm(ctx).then((params) => {
        ctx.state.tokenRequest = toTokenRequest(params, opts.freshParameter);
        return next();
      });
    },
    async function respondWithToken(ctx: Context) {
      const request = ctx.state.tokenRequest as TokenRequest;
      // Grant → cache hit, else the AS: TMI-BFF-01 §4 steps 3–5 (TMI-17). The grant is read once per
      // request (`ctx` keys the read the session check made); a suitable cached token is served as is.
      const { token, source } = await opts.tokens.getToken(sessionOf(ctx), request, ctx);
      ctx.set(TOKEN_SOURCE_HEADER, source);
      // TMI-BFF-01 §4.2 (TMI-18…21), D7: exactly these members; scope always, never a refresh token.
      sendJsonText(ctx, tokenResponseBody(token, opts.tokens.expiresIn(token)));
      opts.logger.debug(`${ROUTES.bffToken}.success`, { source, resources: request.resources, scope: token.scope });
    },
  ];
}
// #endregion
