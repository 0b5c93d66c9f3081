/**
 * The reference backend against oidc-provider as it comes: no option but the backend's client
 * registration. Its defaults (listed in portability/README.md) decide the backend's configuration:
 * client_secret_post as registered, `offline_access` with `prompt=consent` for a refresh token, no
 * RFC 8707 resources. Sign-in goes through its development login and consent pages over HTTP.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { type AsSettings, listenOnLoopback, type RunningBackend, startBackend, type User } from './_backend.js';
import { postForm } from './_browser.js';

/** One token endpoint request, as the AS saw it. */
interface TokenCall {
  grant_type: string;
  ok: boolean;
  /** Where the client secret came: `post` (in the body) or `basic` (Authorization header). */
  auth: 'basic' | 'post' | 'none';
  scope?: string;
  error?: string;
}

async function startProvider(t: ExecutionContext, origin: string) {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'bff',
        client_secret: 'a secret of at least thirty-two characters',
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [`${origin}/auth/callback`],
        post_logout_redirect_uris: [`${origin}/`, `${origin}/auth/signed-out`],
        grant_types: ['authorization_code', 'refresh_token'],
      },
    ],
  });
  server.on('request', provider.callback());
  t.teardown(() => {
    server.close();
    server.closeAllConnections();
  });

  const tokenCalls: TokenCall[] = [];
  const record = (ok: boolean, ctx: KoaContextWithOIDC, error?: string) => {
    const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
    const body = (ctx.oidc.body ?? {}) as Record<string, unknown>;
    tokenCalls.push({
      grant_type: String(params.grant_type),
      ok,
      auth: ctx.get('authorization').startsWith('Basic ') ? 'basic' : body.client_secret ? 'post' : 'none',
      ...(typeof params.scope === 'string' ? { scope: params.scope } : {}),
      ...(error ? { error } : {}),
    });
  };
  provider.on('grant.success', (ctx) => record(true, ctx));
  provider.on('grant.error', (ctx, err) => record(false, ctx, (err as { error?: string }).error));
  return { provider, issuer, tokenCalls };
}

/** The backend configured for this AS, as its defaults require. */
const settings = (issuer: string): AsSettings => ({
  issuer,
  client: { id: 'bff', authMethod: 'client_secret_post', secret: 'a secret of at least thirty-two characters' },
  login: { scope: 'openid profile offline_access', resources: [], params: { prompt: 'consent' } },
});

/**
 * From the backend's redirect to the AS until the AS sends the browser back: its login page (any
 * login name; the password is not checked) and its consent page, posted as a person would.
 */
async function throughDevInteractions(user: User, authorize: URL, login: string): Promise<URL> {
  let next = authorize;
  let form: { action: URL; fields: Record<string, string> } | undefined;
  for (let step = 0; step < 12; step += 1) {
    const res = form ? await user.submit(form) : await user.fetch(next);
    form = undefined;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      next = new URL(location, next);
      if (next.origin !== authorize.origin) return next;
      continue;
    }
    const page = await res.text();
    if (res.status !== 200) throw new Error(`${next.pathname} answered ${res.status}: ${page.slice(0, 400)}`);
    form = postForm(page, next);
    if (form.fields.prompt === 'login') form.fields = { ...form.fields, login, password: 'not checked' };
    else if (form.fields.prompt !== 'consent') throw new Error(`not a login or consent page: ${page.slice(0, 400)}`);
  }
  throw new Error('the AS did not send the browser back');
}

/** Signs `alice` in; `change` adjusts the backend's settings for this AS first. */
async function signedIn(t: ExecutionContext, change: (settings: AsSettings) => AsSettings = (s) => s) {
  const listening = await listenOnLoopback(t);
  const as = await startProvider(t, listening.origin);
  const bff = await startBackend(t, listening, change(settings(as.issuer)));
  const user = bff.user();
  const authorize = await user.startSignIn();
  const landed = await user.callback(await throughDevInteractions(user, authorize, 'alice'));
  return { as, bff, user, authorize, landed };
}

const tokensOf = (calls: TokenCall[], grantType: string) => calls.filter((c) => c.grant_type === grantType);

function assertSignedIn(t: ExecutionContext, landed: Response, bff: RunningBackend) {
  t.is(landed.status, 303, bff.logs.join('\n'));
  t.is(landed.headers.get('location'), '/');
}

test('sign-in through its login and consent pages, with prompt=consent from login.params and client_secret_post', async (t) => {
  const { as, bff, user, authorize, landed } = await signedIn(t);
  assertSignedIn(t, landed, bff);
  t.is(authorize.searchParams.get('prompt'), 'consent');
  t.is(authorize.searchParams.get('scope'), 'openid profile offline_access');
  t.is(authorize.searchParams.get('code_challenge_method'), 'S256');
  t.like(as.tokenCalls, [{ grant_type: 'authorization_code', ok: true, auth: 'post' }]);

  const info = await user.sessionInfo();
  t.is(info.status, 200, JSON.stringify(info.body));
  t.like(info.body, { sub: 'alice', iss: as.issuer });
});

test('bff-token: an opaque access token from a refresh, with the scope the AS granted (profile is not one of its scopes); then the cache', async (t) => {
  const { as, bff, user, landed } = await signedIn(t);
  assertSignedIn(t, landed, bff);
  const first = await user.token();
  t.is(first.status, 200, JSON.stringify(first.body));
  t.is(first.headers.get('tmi-bff-token-source'), 'refresh');
  t.is(first.body.scope, 'offline_access openid');
  t.notRegex(String(first.body.access_token), /\./, 'an opaque token, not a JWT');
  t.like(await as.provider.AccessToken.find(String(first.body.access_token)), {
    accountId: 'alice',
    scope: 'openid offline_access',
  });

  const again = await user.token();
  t.is(again.headers.get('tmi-bff-token-source'), 'cache');
  t.is(again.body.access_token, first.body.access_token);
  t.is(tokensOf(as.tokenCalls, 'refresh_token').length, 1);
});

test('downscoping: a narrower scope by refresh; the token holds exactly that scope and the bff-token answer says so', async (t) => {
  const { as, bff, user, landed } = await signedIn(t);
  assertSignedIn(t, landed, bff);
  const narrow = await user.token({ scope: 'openid' });
  t.is(narrow.status, 200, JSON.stringify(narrow.body));
  t.is(narrow.body.scope, 'openid');
  t.is(narrow.headers.get('tmi-bff-token-source'), 'refresh');
  t.like(as.tokenCalls.at(-1), { grant_type: 'refresh_token', ok: true, scope: 'openid' });
  t.is((await as.provider.AccessToken.find(String(narrow.body.access_token)))?.scope, 'openid');
});

test('refresh: past the cached token’s expiry (one hour, its default) the backend asks the AS again', async (t) => {
  const { as, bff, user, landed } = await signedIn(t);
  assertSignedIn(t, landed, bff);
  const first = await user.token();
  t.is(first.status, 200);
  t.true(Number(first.body.expires_in) > 3500 && Number(first.body.expires_in) <= 3600);
  bff.advance(3600_000);
  const second = await user.token();
  t.is(second.status, 200, JSON.stringify(second.body));
  t.is(second.headers.get('tmi-bff-token-source'), 'refresh');
  t.not(second.body.access_token, first.body.access_token);
  t.deepEqual(
    tokensOf(as.tokenCalls, 'refresh_token').map((c) => c.ok),
    [true, true],
  );
});

test('sign-out: no revocation endpoint (logged), then RP-initiated logout with client_id (no ID token through the browser) and its confirmation page; the session is gone', async (t) => {
  const { as, bff, user, landed } = await signedIn(t);
  assertSignedIn(t, landed, bff);
  const out = await user.signOut();
  t.is(out.status, 303);
  const endSession = new URL(out.headers.get('location') ?? '');
  t.is(endSession.origin + endSession.pathname, `${as.issuer}/session/end`);
  t.is(endSession.searchParams.get('client_id'), 'bff');
  t.is(endSession.searchParams.get('id_token_hint'), null);
  t.is(endSession.searchParams.get('post_logout_redirect_uri'), `${bff.origin}/`);
  // Revocation is off by default: the backend says why the refresh token was not revoked, and goes on.
  t.true(
    bff.logs.some(
      (line) =>
        line.startsWith('grant.revocation_failed (signed out): unsupported:') &&
        line.includes('does not advertise revocation_endpoint'),
    ),
    bff.logs.join('\n'),
  );

  const confirm = await user.fetch(endSession);
  t.is(confirm.status, 200);
  const form = postForm(await confirm.text(), endSession);
  t.truthy(form.fields.xsrf);
  const back = await user.submit(form, { logout: 'yes' });
  t.is(back.status, 303);
  t.is(back.headers.get('location'), `${bff.origin}/`);

  const info = await user.sessionInfo();
  t.is(info.status, 400);
  t.is(info.body.error, 'invalid_session');
});

test('client_secret_basic passes too: oidc-provider takes either secret method from a client registered for one', async (t) => {
  const { as, bff, landed } = await signedIn(t, (s) => ({
    ...s,
    client: { ...s.client, authMethod: 'client_secret_basic' },
  }));
  assertSignedIn(t, landed, bff);
  t.like(as.tokenCalls, [{ grant_type: 'authorization_code', ok: true, auth: 'basic' }]);
});

test('a wrong client secret: the code grant is refused with invalid_client, and the callback says so', async (t) => {
  const { as, bff, landed } = await signedIn(t, (s) => ({
    ...s,
    client: { ...s.client, secret: 'not the registered secret' },
  }));
  t.is(landed.status, 400);
  t.regex(await landed.text(), /invalid_client/);
  t.like(as.tokenCalls, [{ grant_type: 'authorization_code', ok: false, auth: 'post', error: 'invalid_client' }]);
  t.true(
    bff.logs.some((line) => line.includes('auth.callback error: invalid_client')),
    bff.logs.join('\n'),
  );
});

const noRefreshTokenLine = (bff: RunningBackend) => bff.logs.find((line) => line.startsWith('auth.no_refresh_token'));

test('without offline_access: sign-in succeeds, the callback logs auth.no_refresh_token, bff-token answers backend_not_ready (configuration)', async (t) => {
  const { as, bff, user, landed } = await signedIn(t, (s) => ({
    ...s,
    login: { ...s.login, scope: 'openid profile' },
  }));
  assertSignedIn(t, landed, bff);
  t.regex(noRefreshTokenLine(bff) ?? bff.logs.join('\n'), /add offline_access to BFF_SCOPE/);
  const info = await user.sessionInfo();
  t.is(info.status, 200);

  const res = await user.token();
  t.is(res.status, 400, JSON.stringify(res.body));
  t.like(res.body, { error: 'backend_not_ready', remediation: 'configuration' });
  t.is(tokensOf(as.tokenCalls, 'refresh_token').length, 0);
});

test('offline_access without prompt=consent: oidc-provider drops offline_access; the log line names prompt=consent', async (t) => {
  const { as, bff, user, authorize, landed } = await signedIn(t, (s) => ({
    ...s,
    login: { scope: s.login.scope, resources: s.login.resources },
  }));
  assertSignedIn(t, landed, bff);
  t.is(authorize.searchParams.get('prompt'), null);
  t.regex(noRefreshTokenLine(bff) ?? bff.logs.join('\n'), /prompt=consent in BFF_AUTHORIZATION_PARAMS/);
  const res = await user.token();
  t.like(res.body, { error: 'backend_not_ready', remediation: 'configuration' });
  t.is(tokensOf(as.tokenCalls, 'refresh_token').length, 0);
});
