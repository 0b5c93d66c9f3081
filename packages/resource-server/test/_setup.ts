/**
 * Fixtures for the resource-server tests: an RS256 key pair, a token minter, a stand-in for the
 * authorization server's metadata and JWKS endpoints, and a Koa resource server using the package,
 * all on ephemeral loopback ports.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import Koa, { type Context } from 'koa';
import { type AccessTokenClaims, requireAccessToken, requireScope, type ValidatorOptions } from '../src/index.js';

export const AUDIENCE = 'https://api.example/stocks';
export const KID = 'k1';

/**
 * The signing key the fake AS publishes, and one it does not (with the same `kid`); `others`: keys it
 * also publishes, one per further algorithm, each under its algorithm's name as `kid`.
 */
export const keys = await (async () => {
  const signing = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const others = await Promise.all(
    ['PS256', 'ES256', 'EdDSA', 'ES384'].map(async (alg) => {
      const pair = await generateKeyPair(alg);
      return {
        alg,
        privateKey: pair.privateKey,
        jwk: { ...(await exportJWK(pair.publicKey)), kid: alg, alg, use: 'sig' },
      };
    }),
  );
  return {
    signing,
    foreign,
    others,
    jwk: { ...(await exportJWK(signing.publicKey)), kid: KID, alg: 'RS256', use: 'sig' },
  };
})();

/** The claims RFC 9068 §2.2 requires, valid for `issuer` and AUDIENCE for five minutes. */
export function claims(issuer: string, extra: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    aud: AUDIENCE,
    sub: 'alice',
    client_id: 'bff',
    iat: now,
    exp: now + 300,
    jti: `jti-${now}-${Math.random()}`,
    scope: 'stocks:read',
    ...extra,
  };
}

/** A JWT with the given claims and header (typ at+jwt, RS256, kid k1 unless overridden). */
export async function mint(
  payload: JWTPayload,
  header: { typ?: string; alg?: string; kid?: string } = {},
  key: Parameters<SignJWT['sign']>[0] = keys.signing.privateKey,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: KID, ...header }).sign(key);
}

/** A JWT with `alg: none` and no signature (RFC 7519 §6 "unsecured"). */
export function unsigned(payload: JWTPayload): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'at+jwt' })}.${part(payload)}.`;
}

async function listen(t: ExecutionContext, server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.close();
    server.closeAllConnections();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * How an endpoint of the fake AS behaves: `up` answers, `reset` drops the connection (a network
 * failure), `error` answers 500, `invalid` answers 200 with JSON that is neither metadata nor a
 * JWKS, `foreign` answers metadata naming another issuer, `nojwks` metadata whose jwks_uri is not a
 * URL, `jwkslist` metadata whose jwks_uri is a list holding a URL, `null` the JSON `null`, `hang`
 * never answers.
 */
export type Mode = 'up' | 'reset' | 'error' | 'invalid' | 'foreign' | 'nojwks' | 'jwkslist' | 'null' | 'hang';

/** The AS's metadata (`/.well-known/openid-configuration`) and JWKS (`/jwks`), each switchable. */
export async function startFakeAs(t: ExecutionContext) {
  const state = { metadata: 'up' as Mode, jwks: 'up' as Mode, hits: { metadata: 0, jwks: 0 } };
  const server = createServer((req, res) => {
    const which = req.url === '/.well-known/openid-configuration' ? 'metadata' : req.url === '/jwks' ? 'jwks' : null;
    if (!which) return void res.writeHead(404).end();
    state.hits[which] += 1;
    const mode = state[which];
    if (mode === 'hang') return;
    if (mode === 'reset') return void req.socket.destroy();
    if (mode === 'error') return void res.writeHead(500).end('down');
    const metadata = {
      issuer: mode === 'foreign' ? 'https://evil.example' : issuer,
      jwks_uri: mode === 'nojwks' ? 'not a url' : mode === 'jwkslist' ? [`${issuer}/jwks`] : `${issuer}/jwks`,
    };
    const jwks = { keys: [keys.jwk, ...keys.others.map((k) => k.jwk)] };
    const body =
      mode === 'null' ? null : mode === 'invalid' ? { keys: 'none' } : which === 'metadata' ? metadata : jwks;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const issuer = await listen(t, server);
  return Object.assign(state, { issuer });
}

/** Routes of the test resource server and the scopes each requires. */
export const ROUTES: Record<string, string[]> = {
  '/quotes': ['stocks:read'],
  '/orders': ['stocks:read', 'stocks:buy'],
};

/**
 * The fake AS and a resource server validating its tokens. Each route answers the claims it saw.
 * `call(path, authorization)` sends the header as it is; `token` is sent as `Bearer <token>`.
 */
export async function start(t: ExecutionContext, options: Partial<ValidatorOptions> = {}) {
  const as = await startFakeAs(t);
  const app = new Koa();
  /** What reached the app's error event (a 5xx: the AS's metadata or keys out of reach). */
  const errors: Array<{ status?: number; error_detail?: string }> = [];
  app.on('error', (err) => errors.push(err));
  app.use(requireAccessToken({ issuer: as.issuer, audience: AUDIENCE, ...options }));
  /** Routes a test adds, run after requireAccessToken in place of the default answer. */
  const handlers: Record<string, (ctx: Context) => Promise<void>> = {};
  app.use(async function route(ctx) {
    const handler = handlers[ctx.path];
    if (handler) return handler(ctx);
    await requireScope(...(ROUTES[ctx.path] ?? []))(ctx, async function answer() {
      const { sub, scope } = ctx.state.accessToken as AccessTokenClaims;
      ctx.body = { sub, scope, bearer: ctx.state.bearer === ctx.get('authorization').slice(7) };
    });
  });
  const url = await listen(t, createServer(app.callback()));
  const call = (path: string, authorization?: string) =>
    fetch(`${url}${path}`, authorization ? { headers: { authorization } } : {});
  const send = (token: string, path = '/quotes') => call(path, `Bearer ${token}`);
  return {
    as,
    app,
    errors,
    handlers,
    url,
    call,
    send,
    claims: (extra?: Record<string, unknown>) => claims(as.issuer, extra),
  };
}

/** The parts of an answer every test asserts: status, challenge, cache header and body. */
export async function answer(res: Response) {
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate'),
    cacheControl: res.headers.get('cache-control'),
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

/**
 * Asserts an RFC 6750 §3 error answer: the status, the challenge with its `error`,
 * `error_description` (and `scope`) params, `Cache-Control: no-store`, and a body of exactly
 * `{ error, error_description }`.
 */
export async function assertBearerError(
  t: ExecutionContext,
  res: Response,
  expected: { status: number; error: string; description: string; scope?: string },
  what?: string,
): Promise<void> {
  const got = await answer(res);
  const scope = expected.scope ? `, scope="${expected.scope}"` : '';
  t.like(
    got,
    {
      status: expected.status,
      challenge: `Bearer error="${expected.error}", error_description="${expected.description}"${scope}`,
      cacheControl: 'no-store',
    },
    what,
  );
  t.deepEqual(got.body, { error: expected.error, error_description: expected.description }, what);
}
