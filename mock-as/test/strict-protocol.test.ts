import test from 'ava';
import * as oidc from 'openid-client';
import { CookieJar, fetchWithJar, signIn } from '../src/testing/index.js';
import { authorize, CLIENTS, clientFor, REDIRECT_URI, STOCKS, startAs } from './_setup.js';

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ error: 'none' }),
    (e: oidc.ResponseBodyError) => ({ status: e.status, error: e.error, error_description: e.error_description }),
  );

async function pkce() {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier) };
}

/** alice's code for an openid request with PKCE, through the forms. */
async function codeFor(config: oidc.Configuration, challenge: string): Promise<URL> {
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return signIn(url, { persona: 'alice' });
}

test('RFC 9700 §2.1.1: an authorization request without PKCE is sent back with invalid_request', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's1' });
  const res = await fetch(url, { redirect: 'manual' });
  t.is(res.status, 303);
  const back = new URL(res.headers.get('location') ?? '');
  t.is(back.origin + back.pathname, REDIRECT_URI);
  t.is(back.searchParams.get('error'), 'invalid_request');
  t.regex(back.searchParams.get('error_description') ?? '', /PKCE/);
  t.is(back.searchParams.get('state'), 's1');
});

test('RFC 7636 §4.2: the plain PKCE method is refused; only S256 is accepted', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: oidc.randomPKCECodeVerifier(),
    code_challenge_method: 'plain',
  });
  const res = await fetch(url, { redirect: 'manual' });
  const back = new URL(res.headers.get('location') ?? '');
  t.is(back.searchParams.get('error'), 'invalid_request');
  t.deepEqual(config.serverMetadata().code_challenge_methods_supported, ['S256']);
});

test('RFC 9700 §2.1: a redirect_uri that is not an exact match is refused on the AS page, never redirected to', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { challenge } = await pkce();
  for (const redirect_uri of [`${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, 'http://localhost:3001/auth/callback']) {
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri,
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const res = await fetch(url, { redirect: 'manual' });
    t.is(res.status, 400, redirect_uri);
    t.is(res.headers.get('location'), null);
    t.regex(await res.text(), /invalid_redirect_uri/);
  }
});

test('RFC 7636 §4.6: a code redeemed with the wrong code_verifier gives invalid_grant', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { challenge } = await pkce();
  const callback = await codeFor(config, challenge);
  t.like(
    await rejection(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier() })),
    {
      status: 400,
      error: 'invalid_grant',
    },
  );
});

test('RFC 6749 §4.1.2: an authorization code works once; the second redemption gives invalid_grant', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { verifier, challenge } = await pkce();
  const callback = await codeFor(config, challenge);
  await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
  t.like(await rejection(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier })), {
    status: 400,
    error: 'invalid_grant',
  });
});

test('RFC 6749 §5.2: a wrong client secret gives 401 invalid_client, and the refresh token is not spent', async (t) => {
  const as = await startAs(t);
  const good = await clientFor(as);
  const { refresh_token = '' } = await authorize(good, { persona: 'alice' });
  const res = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('bff:not-the-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token, resource: STOCKS }),
  });
  t.is(res.status, 401);
  t.like(await res.json(), { error: 'invalid_client' });
  const ok = await oidc.refreshTokenGrant(good, refresh_token, { resource: STOCKS });
  t.is(typeof ok.access_token, 'string');
});

test('RFC 6749 §2.3: a confidential client that does not authenticate gives 401 invalid_client', async (t) => {
  const as = await startAs(t);
  const res = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'bff' }),
  });
  t.is(res.status, 401);
  t.like(await res.json(), { error: 'invalid_client' });
  t.is(res.headers.get('cache-control'), 'no-store');
});

test('the token endpoint grants no CORS access to a browser origin: the clients are all server-side', async (t) => {
  const as = await startAs(t);
  const res = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: {
      origin: 'http://localhost:3000',
      authorization: `Basic ${Buffer.from(`bff:${CLIENTS.bff}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
  });
  t.is(res.status, 400);
  t.is(res.headers.get('access-control-allow-origin'), null);
  t.deepEqual(await res.json(), {
    error: 'invalid_request',
    error_description: 'origin http://localhost:3000 not allowed for client: bff',
  });
});

test('an interaction page without its cookie is an AS error page, not a stack trace', async (t) => {
  const as = await startAs(t);
  const res = await fetchWithJar(new CookieJar(), `${as.issuer}/interaction/does-not-exist`);
  t.is(res.status, 400);
  const html = await res.text();
  t.regex(html, /invalid_request/);
  t.notRegex(html, /at .*\.ts:\d+/);
});
