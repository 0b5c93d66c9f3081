/**
 * The reference backend against oauth2-mock-server 9.3.0 (npm), an AS with no login page and no
 * validation of what it is sent: /authorize redirects straight back with a code, any client
 * credentials pass, every token is a JWT for `johndoe`. What it does check (PKCE), and what it
 * ignores (refresh token values, resource, id_token_hint), is listed in portability/README.md.
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import test, { type ExecutionContext } from 'ava';
import { Events, OAuth2Server } from 'oauth2-mock-server';
import { type AsSettings, listenOnLoopback, startBackend } from './_backend.js';

const API = 'https://api.example.com/';

/** One token endpoint request, as the mock AS saw it. */
interface TokenCall {
  grant_type: string;
  /** How the client authenticated: `basic` (Authorization header) or `post` (client_secret in the body). */
  auth: 'basic' | 'post' | 'none';
  scope?: unknown;
  resource?: unknown;
  refresh_token?: unknown;
  code_verifier?: unknown;
}

async function startMockServer(t: ExecutionContext) {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(0, '127.0.0.1');
  // It names itself http://localhost:<port>; the issuer is where it listens, on the loopback address.
  const issuer = `http://127.0.0.1:${server.address().port}`;
  server.issuer.url = issuer;
  t.teardown(() => server.stop());

  const calls = {
    token: [] as TokenCall[],
    authorize: [] as URLSearchParams[],
    revoke: 0,
    endSession: [] as URLSearchParams[],
  };
  const query = (req: IncomingMessage) => new URL(req.url ?? '/', issuer).searchParams;
  server.service.on(Events.BeforeResponse, (_response, req) => {
    const body = req.body as Record<string, unknown>;
    calls.token.push({
      grant_type: String(body.grant_type),
      auth: req.headers.authorization?.startsWith('Basic ') ? 'basic' : body.client_secret ? 'post' : 'none',
      ...Object.fromEntries(
        ['scope', 'resource', 'refresh_token', 'code_verifier'].filter((k) => k in body).map((k) => [k, body[k]]),
      ),
    });
  });
  server.service.on(Events.BeforeAuthorizeRedirect, (_redirect, req) => calls.authorize.push(query(req)));
  server.service.on(Events.BeforeRevoke, () => {
    calls.revoke += 1;
  });
  server.service.on(Events.BeforePostLogoutRedirect, (_redirect, req) => calls.endSession.push(query(req)));
  return { server, issuer, calls };
}

/** The backend configured for this AS: it takes any credentials; client_secret_basic is the default. */
const settings = (issuer: string, resources: string[] = []): AsSettings => ({
  issuer,
  client: { id: 'bff', secret: 'any secret passes' },
  login: { scope: 'openid profile offline_access', resources },
  // Sign-out with the ID token as id_token_hint (BFF_LOGOUT_ID_TOKEN_HINT=1), as an AS that wants it gets it.
  idTokenHint: true,
});

async function signedIn(t: ExecutionContext, resources: string[] = []) {
  const as = await startMockServer(t);
  const bff = await startBackend(t, await listenOnLoopback(t), settings(as.issuer, resources));
  const user = bff.user();
  const authorize = await user.startSignIn();
  const redirect = await user.fetch(authorize);
  t.is(redirect.status, 302, STATUS_CODES[redirect.status]);
  const landed = await user.callback(new URL(redirect.headers.get('location') ?? ''));
  t.is(landed.status, 303, await landed.clone().text());
  t.is(landed.headers.get('location'), '/');
  return { as, bff, user, authorize };
}

const claimsOf = (jwt: unknown) =>
  JSON.parse(Buffer.from(String(jwt).split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

test('sign-in: /authorize answers with a code at once; the code grant carries the PKCE verifier and client_secret_basic', async (t) => {
  const { as, user, authorize } = await signedIn(t);
  t.is(authorize.origin + authorize.pathname, `${as.issuer}/authorize`);
  const asked = as.calls.authorize[0];
  t.is(asked?.get('scope'), 'openid profile offline_access');
  t.is(asked?.get('code_challenge_method'), 'S256');
  t.truthy(asked?.get('nonce'));
  // The mock AS checks the verifier against the challenge (else a 400 problem+json, no code grant).
  t.like(as.calls.token, [{ grant_type: 'authorization_code', auth: 'basic' }]);
  t.regex(String(as.calls.token[0]?.code_verifier), /^[\w-]{43,128}$/);

  const info = await user.sessionInfo();
  t.is(info.status, 200);
  t.like(info.body, { sub: 'johndoe', iss: as.issuer });
});

test('bff-token: a refresh gives the token; the mock AS labels a token asked with no scope "dummy"; the next call is served from the cache', async (t) => {
  const { as, user } = await signedIn(t);
  const first = await user.token();
  t.is(first.status, 200, JSON.stringify(first.body));
  t.is(first.headers.get('tmi-bff-token-source'), 'refresh');
  t.deepEqual(Object.keys(first.body).sort(), ['access_token', 'expires_in', 'scope']);
  t.is(first.body.scope, 'dummy');
  t.like(claimsOf(first.body.access_token), { iss: as.issuer, sub: 'johndoe', scope: 'dummy' });

  const again = await user.token();
  t.is(again.headers.get('tmi-bff-token-source'), 'cache');
  t.is(again.body.access_token, first.body.access_token);
  t.deepEqual(
    as.calls.token.map((c) => c.grant_type),
    ['authorization_code', 'refresh_token'],
  );
});

test('downscoping: a narrower scope by refresh; the token and the bff-token answer carry exactly the scope asked', async (t) => {
  const { as, user } = await signedIn(t);
  const narrow = await user.token({ scope: 'openid' });
  t.is(narrow.status, 200, JSON.stringify(narrow.body));
  t.is(narrow.body.scope, 'openid');
  t.is(claimsOf(narrow.body.access_token).scope, 'openid');
  t.like(as.calls.token.at(-1), { grant_type: 'refresh_token', scope: 'openid' });
});

test('refresh: past the cached token’s expiry the backend asks again, with the refresh token the AS last rotated to', async (t) => {
  const { as, bff, user } = await signedIn(t);
  const first = await user.token();
  t.is(first.status, 200);
  bff.advance(3600_000);
  const second = await user.token();
  t.is(second.status, 200);
  t.is(second.headers.get('tmi-bff-token-source'), 'refresh');

  const refreshes = as.calls.token.filter((c) => c.grant_type === 'refresh_token');
  t.is(refreshes.length, 2);
  // Every answer of the mock AS holds a new refresh token (a random UUID it never checks).
  t.not(refreshes[1]?.refresh_token, refreshes[0]?.refresh_token);
});

test('resource: RFC 8707 resource goes on the authorization and refresh requests; the mock AS ignores it (no aud)', async (t) => {
  const { as, user } = await signedIn(t, [API]);
  t.is(as.calls.authorize[0]?.get('resource'), API);
  const res = await user.token({ resource: API });
  t.is(res.status, 200, JSON.stringify(res.body));
  t.like(as.calls.token.at(-1), { grant_type: 'refresh_token', resource: API });
  t.is(claimsOf(res.body.access_token).aud, undefined);

  // A resource the sign-in did not ask for is the backend's refusal, before any AS call.
  const other = await user.token({ resource: 'https://other.example.com/' });
  t.is(other.status, 400);
  t.like(other.body, { error: 'backend_not_ready' });
});

test('sign-out: the refresh token is revoked, the browser goes to end_session with id_token_hint, the AS sends it back, the session is gone', async (t) => {
  const { as, bff, user } = await signedIn(t);
  const out = await user.signOut();
  t.is(out.status, 303);
  const endSession = new URL(out.headers.get('location') ?? '');
  t.is(endSession.origin + endSession.pathname, `${as.issuer}/endsession`);
  t.is(endSession.searchParams.get('post_logout_redirect_uri'), `${bff.origin}/`);
  t.truthy(endSession.searchParams.get('id_token_hint'));
  t.is(as.calls.revoke, 1);
  t.true(bff.logs.includes('grant.revoked (signed out)'), bff.logs.join('\n'));

  const back = await user.fetch(endSession);
  t.is(back.status, 302);
  t.is(back.headers.get('location'), `${bff.origin}/`);
  // It takes the hint and does not check it.
  t.is(as.calls.endSession[0]?.get('id_token_hint'), endSession.searchParams.get('id_token_hint'));

  const info = await user.sessionInfo();
  t.is(info.status, 400);
  t.is(info.body.error, 'invalid_session');
});
