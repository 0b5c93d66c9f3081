import test from 'ava';
import * as oidc from 'openid-client';
import { CookieJar, fetchWithJar, signIn } from '../src/testing/index.js';
import { authorize, clientFor, confirmLogout, REDIRECT_URI, STOCKS, startAs } from './_setup.js';

test('discovery advertises what the AS does, and nothing it does not', async (t) => {
  const as = await startAs(t);
  const m = (await clientFor(as)).serverMetadata();
  t.is(m.issuer, as.issuer);
  t.deepEqual(m.response_types_supported, ['code']);
  t.deepEqual(m.code_challenge_methods_supported, ['S256']);
  t.true(m.authorization_response_iss_parameter_supported);
  for (const endpoint of [
    'introspection_endpoint',
    'revocation_endpoint',
    'end_session_endpoint',
    'jwks_uri',
  ] as const) {
    t.is(typeof m[endpoint], 'string', endpoint);
  }
  t.deepEqual(m.scopes_supported, ['openid', 'profile', 'email', 'offline_access']);
});

test('JWKS publishes the public signing key only', async (t) => {
  const as = await startAs(t);
  const res = await fetch(`${as.issuer}/jwks`);
  t.is(res.status, 200);
  const { keys } = (await res.json()) as { keys: Array<Record<string, unknown>> };
  t.is(keys.length, 1);
  t.like(keys[0], { kty: 'RSA', alg: 'RS256', use: 'sig' });
  for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) t.false(secret in (keys[0] ?? {}), secret);
});

test('RFC 7662: introspection reports a live refresh token, with client authentication required', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { refresh_token = '' } = await authorize(config, { persona: 'alice' });
  const info = await oidc.tokenIntrospection(config, refresh_token);
  t.like(info, {
    active: true,
    client_id: 'bff',
    sub: 'alice',
    scope: 'openid profile email stocks:read stocks:buy a b c',
  });

  const anonymous = await fetch(`${as.issuer}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: refresh_token }),
  });
  t.is(anonymous.status, 401);
  t.deepEqual(await anonymous.json(), {
    error: 'invalid_client',
    error_description:
      'client authentication is required, with the method the client is registered for: client_secret_basic, client_secret_post or private_key_jwt',
  });
});

test('RFC 7662 + RFC 9068: introspection reports a JWT access token with its claims; a tampered one is inactive', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { access_token } = await authorize(config, { persona: 'alice', tokenResource: STOCKS });
  const info = await oidc.tokenIntrospection(config, access_token);
  t.like(info, {
    active: true,
    sub: 'alice',
    aud: STOCKS,
    scope: 'stocks:read stocks:buy',
    client_id: 'bff',
    token_type: 'Bearer',
  });
  t.is(info.iss, as.issuer);

  const [h, p, s] = access_token.split('.');
  const tampered = `${h}.${p}.${s?.slice(0, -4)}AAAA`;
  t.deepEqual(await oidc.tokenIntrospection(config, tampered), { active: false });
});

test('RFC 7009 §2.1: a client cannot revoke another client’s refresh token', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { refresh_token = '' } = await authorize(config, { persona: 'alice' });
  const err = await t.throwsAsync(oidc.tokenRevocation(await clientFor(as, 'service-a'), refresh_token));
  t.like(err, {
    error: 'invalid_request',
    error_description: 'client is not authorized to revoke the presented token',
  });
  t.true((await oidc.tokenIntrospection(config, refresh_token)).active);
});

test('RFC 7009: a revoked refresh token can no longer be used', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { refresh_token = '' } = await authorize(config, { persona: 'alice' });
  await oidc.tokenRevocation(config, refresh_token, { token_type_hint: 'refresh_token' });
  const err = await t.throwsAsync(oidc.refreshTokenGrant(config, refresh_token, { resource: STOCKS }));
  t.is((err as oidc.ResponseBodyError).error, 'invalid_grant');
  t.false((await oidc.tokenIntrospection(config, refresh_token)).active);
});

test('RP-initiated logout: confirm on the AS page, return to the post-logout URI, and the AS session is gone', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const jar = new CookieJar();
  const tokens = await authorize(config, { persona: 'alice', jar });
  t.truthy(jar.get('127.0.0.1', '_session'));

  const end = oidc.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token ?? '',
    post_logout_redirect_uri: 'http://localhost:3000/',
    state: 'bye',
  });
  const page = await fetchWithJar(jar, end);
  t.is(page.status, 200);
  const html = await page.text();
  t.regex(html, /<h1>Sign out\?<\/h1>/);
  const done = await confirmLogout(jar, as.issuer, html);
  t.is(done.status, 303);
  t.is(done.headers.get('location'), 'http://localhost:3000/?state=bye');

  // Signing in again needs the login page: the AS session is gone.
  const params = {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  };
  const again = await fetchWithJar(jar, oidc.buildAuthorizationUrl(config, params));
  const interaction = await fetchWithJar(jar, new URL(again.headers.get('location') ?? '', as.issuer));
  t.regex(await interaction.text(), /<h1>Sign in<\/h1>/);
});

test('an existing AS session skips the login page; consent already given is not asked again', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const jar = new CookieJar();
  await authorize(config, { persona: 'alice', jar });
  // Same scopes again, same browser: straight back to the client, no form (signIn would fail on an unknown page).
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const callback = await signIn(url, { jar, maxSteps: 3 });
  t.truthy(callback.searchParams.get('code'));
});
