/**
 * The mock AS is as strict as the strictest real AS: what a client gets away with here, it must get
 * away with everywhere. Each test drives the AS over HTTP as an outside client would.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { signIn } from '../src/testing/index.js';
import { authorize, CLIENTS, clientFor, FORM, REDIRECT_URI, STOCKS, startAs } from './_setup.js';

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ error: 'none' }),
    (e: oidc.ResponseBodyError) => ({ status: e.status, error: e.error, error_description: e.error_description }),
  );

const basic = (id: keyof typeof CLIENTS) => `Basic ${Buffer.from(`${id}:${CLIENTS[id]}`).toString('base64')}`;

async function pkce() {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier) };
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
  const { verifier, challenge } = await pkce();
  const callback = await signIn(
    oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }),
    { persona: 'alice' },
  );
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
