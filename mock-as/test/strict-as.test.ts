/**
 * The mock AS is as strict as the strictest real AS: what a client gets away with here, it must get
 * away with everywhere. Each test drives the AS over HTTP as an outside client would.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { type RunningMockAs, TOKEN_EXCHANGE } from '../src/index.js';
import { CookieJar, fetchWithJar, signIn } from '../src/testing/index.js';
import {
  authorize,
  CLIENTS,
  clientFor,
  confirmLogout,
  FORM,
  REDIRECT_URI,
  SERVICE_A,
  SERVICE_B,
  SERVICE_C,
  STOCKS,
  startAs,
} from './_setup.js';

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ error: 'none' }),
    (e: oidc.ResponseBodyError) => ({ status: e.status, error: e.error, error_description: e.error_description }),
  );

const basic = (id: keyof typeof CLIENTS) => `Basic ${Buffer.from(`${id}:${CLIENTS[id]}`).toString('base64')}`;

/** A raw form POST as a seeded client, so status and the exact body can be asserted. */
async function post(as: RunningMockAs, path: string, client: keyof typeof CLIENTS, params: Record<string, string>) {
  const res = await fetch(`${as.issuer}${path}`, {
    method: 'POST',
    headers: { ...FORM, authorization: basic(client) },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const exchange = (as: RunningMockAs, client: keyof typeof CLIENTS, params: Record<string, string>) =>
  post(as, '/token', client, {
    grant_type: TOKEN_EXCHANGE,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    ...params,
  });

async function pkce() {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier) };
}

/** alice's callback for an openid request of the bff client with PKCE, through the forms. */
async function aliceCallback(config: oidc.Configuration, extra: Record<string, string> = {}, jar = new CookieJar()) {
  const { verifier, challenge } = await pkce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  return { verifier, callback: await signIn(url, { persona: 'alice', jar }) };
}

test('OIDC Core §3.1.2.1: an authorization request without redirect_uri is refused on the AS page, never redirected', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { challenge } = await pkce();
  const url = oidc.buildAuthorizationUrl(config, {
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const res = await fetch(url, { redirect: 'manual' });
  t.is(res.status, 400);
  t.is(res.headers.get('location'), null);
  const html = await res.text();
  t.regex(html, /invalid_request/);
  t.regex(html, /redirect_uri/);
});

test('RFC 6749 §4.1.3: a code redeemed without redirect_uri gives invalid_request', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { verifier, callback } = await aliceCallback(config);
  const res = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: { ...FORM, authorization: basic('bff') },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      code_verifier: verifier,
    }),
  });
  t.is(res.status, 400);
  t.deepEqual(await res.json(), {
    error: 'invalid_request',
    error_description: "missing required parameter 'redirect_uri'",
  });
});

for (const path of ['/token', '/token/introspection', '/token/revocation']) {
  test(`RFC 9110 §15.5.2: a 401 at ${path} without client authentication names the Basic scheme`, async (t) => {
    const as = await startAs(t);
    const res = await fetch(`${as.issuer}${path}`, {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', token: 'x', client_id: 'bff' }),
    });
    t.is(res.status, 401);
    t.like(await res.json(), { error: 'invalid_client' });
    t.is(res.headers.get('www-authenticate'), `Basic realm="${as.issuer}"`);
  });
}

test('RFC 6749 §5.2: a 401 for a wrong Basic secret names the Basic scheme', async (t) => {
  const as = await startAs(t);
  const res = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: { ...FORM, authorization: `Basic ${Buffer.from('bff:wrong').toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
  });
  t.is(res.status, 401);
  t.like(await res.json(), { error: 'invalid_client' });
  t.regex(res.headers.get('www-authenticate') ?? '', /^Basic /);
});

test('RFC 9068 §3: a code for a resource but no scope of it gives invalid_scope, never a scope-less token', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  t.like(
    await rejection(
      authorize(config, { persona: 'alice', scope: 'openid profile', resources: [STOCKS], tokenResource: STOCKS }),
    ),
    { status: 400, error: 'invalid_scope', error_description: `no scope of ${STOCKS} was requested or granted` },
  );
});

test('RFC 9068 §3: a refresh for a resource asking only OIDC scopes gives invalid_scope, and the refresh token still works', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { refresh_token = '' } = await authorize(config, { persona: 'alice' });
  t.like(
    await rejection(oidc.refreshTokenGrant(config, refresh_token, { resource: STOCKS, scope: 'openid profile' })),
    {
      status: 400,
      error: 'invalid_scope',
      error_description: `no scope of ${STOCKS} was requested or granted`,
    },
  );
  const ok = await oidc.refreshTokenGrant(config, refresh_token, { resource: STOCKS, scope: 'stocks:read' });
  t.is(ok.scope, 'stocks:read');
});

test('RFC 9700 §4.14.2: once a replayed refresh token revokes the grant, its access tokens can no longer be exchanged', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { access_token: tokenForA, refresh_token: rt1 = '' } = await authorize(config, {
    persona: 'alice',
    tokenResource: SERVICE_A,
  });
  const toB = await exchange(as, 'service-a', { subject_token: tokenForA, resource: SERVICE_B, scope: 'b c' });
  t.is(toB.status, 200);
  const tokenForB = String(toB.body.access_token);
  t.is((await exchange(as, 'service-b', { subject_token: tokenForB, resource: SERVICE_C, scope: 'c' })).status, 200);

  await oidc.refreshTokenGrant(config, rt1, { resource: STOCKS });
  t.like(await rejection(oidc.refreshTokenGrant(config, rt1, { resource: STOCKS })), { error: 'invalid_grant' });

  const revoked = { error: 'invalid_request', error_description: 'subject_token belongs to a grant that was revoked' };
  t.deepEqual(await exchange(as, 'service-a', { subject_token: tokenForA, resource: SERVICE_B, scope: 'b' }), {
    status: 400,
    body: revoked,
  });
  // The exchanged token belongs to the same grant, so the chain stops there too.
  t.deepEqual(await exchange(as, 'service-b', { subject_token: tokenForB, resource: SERVICE_C, scope: 'c' }), {
    status: 400,
    body: revoked,
  });
  t.deepEqual(await post(as, '/token/introspection', 'bff', { token: tokenForA }), {
    status: 200,
    body: { active: false },
  });
});

test('RFC 7662 §4: a JWT access token is described to its client and its resource server only', async (t) => {
  const as = await startAs(t);
  const { access_token } = await authorize(await clientFor(as), { persona: 'alice', tokenResource: STOCKS });
  for (const client of ['bff', 'stocks-api'] as const) {
    const res = await post(as, '/token/introspection', client, { token: access_token });
    t.is(res.status, 200);
    t.like(res.body, { active: true, aud: STOCKS, client_id: 'bff', sub: 'alice' }, client);
  }
  t.deepEqual(await post(as, '/token/introspection', 'service-a', { token: access_token }), {
    status: 200,
    body: { active: false },
  });
});

test('RFC 7662 §4: a refresh token is described to its own client only', async (t) => {
  const as = await startAs(t);
  const { refresh_token = '' } = await authorize(await clientFor(as), { persona: 'alice' });
  t.like(await post(as, '/token/introspection', 'bff', { token: refresh_token }), {
    status: 200,
    body: { active: true, client_id: 'bff' },
  });
  for (const client of ['service-a', 'stocks-api'] as const) {
    t.deepEqual(await post(as, '/token/introspection', client, { token: refresh_token }), {
      status: 200,
      body: { active: false },
    });
  }
});

test('OIDC Core §3.1.2.1: the authorization endpoint accepts POST, and the sign-in it starts ends with a code', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { verifier, challenge } = await pkce();
  const jar = new CookieJar();
  const res = await fetchWithJar(jar, `${as.issuer}/auth`, {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({
      client_id: 'bff',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'posted',
    }),
  });
  t.is(res.status, 303);
  const interaction = new URL(res.headers.get('location') ?? '', as.issuer);
  t.regex(interaction.pathname, /^\/interaction\/[\w-]+$/);
  const callback = await signIn(interaction, { persona: 'alice', jar });
  t.is(callback.searchParams.get('state'), 'posted');
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: 'posted',
  });
  t.is(tokens.claims()?.sub, 'alice');
});

test('RP-Initiated Logout §2: the end-session endpoint accepts POST; logout ends the AS session, not the grant', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const jar = new CookieJar();
  const { verifier, callback } = await aliceCallback(config, {}, jar);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
  const page = await fetchWithJar(jar, `${as.issuer}/session/end`, {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({
      id_token_hint: tokens.id_token ?? '',
      post_logout_redirect_uri: 'http://localhost:3000/',
      state: 'bye',
    }),
  });
  t.is(page.status, 200);
  const html = await page.text();
  t.regex(html, /<h1>Sign out\?<\/h1>/);
  const done = await confirmLogout(jar, as.issuer, html);
  t.is(done.status, 303);
  t.is(done.headers.get('location'), 'http://localhost:3000/?state=bye');
  t.is(jar.get('127.0.0.1', '_session'), undefined);
  // The grant outlives the AS session (docs/mock-as.md): the client revokes its refresh token itself.
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
  t.is(typeof refreshed.refresh_token, 'string');
});

test('a sign-in without openid works: no ID token, and no auth_time demanded of the client', async (t) => {
  const as = await startAs(t);
  const tokens = await authorize(await clientFor(as), {
    persona: 'alice',
    scope: 'stocks:read',
    resources: [STOCKS],
    tokenResource: STOCKS,
  });
  t.is(tokens.id_token, undefined);
  t.is(tokens.scope, 'stocks:read');
  t.is(typeof tokens.refresh_token, 'string');
});

test('OIDC Core §5.5.1.1: auth_time asked for through the claims parameter is in the ID token', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const before = Math.floor(Date.now() / 1000);
  const { verifier, callback } = await aliceCallback(config, {
    claims: JSON.stringify({ id_token: { auth_time: { essential: true } } }),
  });
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
  const authTime = tokens.claims()?.auth_time;
  t.true(typeof authTime === 'number' && authTime >= before - 1, String(authTime));
});

test('discovery advertises the optional features docs/mock-as.md names: PAR, DPoP and form_post', async (t) => {
  const as = await startAs(t);
  const m = (await clientFor(as)).serverMetadata();
  t.is(m.pushed_authorization_request_endpoint, `${as.issuer}/request`);
  t.not(m.require_pushed_authorization_requests, true); // RFC 9126 §5: absent means false
  t.true((m.dpop_signing_alg_values_supported ?? []).length > 0);
  t.true(m.response_modes_supported?.includes('form_post'));
});
