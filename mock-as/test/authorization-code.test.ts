import test from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { CookieJar, fetchWithJar, signIn } from '../src/testing/index.js';
import { atLogin, authorize, clientFor, REDIRECT_URI, STOCKS, startAs } from './_setup.js';

test('RFC 9068: alice signs in with code + PKCE and gets an ID token, a refresh token and a JWT access token', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const tokens = await authorize(config, { username: 'alice', password: 'alice', tokenResource: STOCKS });

  t.is(tokens.claims()?.sub, 'alice');
  t.is(typeof tokens.refresh_token, 'string');

  const jwks = createRemoteJWKSet(new URL(`${as.issuer}/jwks`));
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
    issuer: as.issuer,
    audience: STOCKS,
    typ: 'at+jwt',
  });
  t.is(protectedHeader.typ, 'at+jwt');
  t.is(protectedHeader.alg, 'RS256');
  t.is(typeof protectedHeader.kid, 'string');
  t.is(payload.sub, 'alice');
  t.is(payload.client_id, 'bff');
  t.is(payload.aud, STOCKS);
  t.is(payload.scope, 'stocks:read stocks:buy');
  t.is(typeof payload.jti, 'string');
  t.true(typeof payload.iat === 'number' && typeof payload.exp === 'number');
  t.is((payload.exp as number) - (payload.iat as number), 300);
});

test('the persona picker signs bob in with one click, and userinfo returns his profile', async (t) => {
  const as = await startAs(t);
  const tokens = await authorize(await clientFor(as), { persona: 'bob', scope: 'openid profile stocks:read' });
  const claims = tokens.claims();
  t.is(claims?.sub, 'bob');
  t.is(typeof tokens.refresh_token, 'string');
  // The ID token carries the profile claims only when no access token is issued for them.
  const userinfo = await fetch(`${as.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(userinfo.status, 200);
  t.like(await userinfo.json(), { sub: 'bob', name: 'Bob Brown', preferred_username: 'bob' });
});

test('carol is never issued a refresh token (account policy), so a backend has nothing to refresh with', async (t) => {
  const as = await startAs(t);
  const tokens = await authorize(await clientFor(as), { persona: 'carol', tokenResource: STOCKS });
  t.is(tokens.claims()?.sub, 'carol');
  t.is(tokens.refresh_token, undefined);
  t.is(typeof tokens.access_token, 'string');
});

test('a wrong password re-renders the login form with 401 and a message, and the right one then works', async (t) => {
  const { jar, at: loginUrl, res: page, html } = await atLogin(t);
  t.is(page.status, 200);
  t.regex(page.headers.get('content-type') ?? '', /text\/html/);
  t.regex(html, /<label for="username">Username<\/label>/);
  t.regex(html, /name="persona" value="alice"/);

  const wrong = await fetchWithJar(jar, `${loginUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=alice&password=nope',
  });
  t.is(wrong.status, 401);
  const body = await wrong.text();
  t.regex(body, /role="alert"[^>]*>Wrong username or password/);
  t.regex(body, /value="alice"/);

  const right = await fetchWithJar(jar, `${loginUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=alice&password=alice',
  });
  t.is(right.status, 303);
});

test('the consent page lists each resource and scope asked for, and marks the ones the account policy forbids', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const params = new URLSearchParams({
    redirect_uri: REDIRECT_URI,
    scope: 'openid stocks:read stocks:buy',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    resource: STOCKS,
  });
  const jar = new CookieJar();
  let res = await fetchWithJar(jar, oidc.buildAuthorizationUrl(config, params));
  let at = new URL(res.headers.get('location') ?? '', config.serverMetadata().issuer);
  res = await fetchWithJar(jar, `${at}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'persona=bob',
  });
  // resume → consent interaction
  while (res.status === 303) {
    at = new URL(res.headers.get('location') ?? '', at);
    res = await fetchWithJar(jar, at);
  }
  t.is(res.status, 200);
  const html = await res.text();
  t.regex(html, /<h1>Allow access\?<\/h1>/);
  t.regex(html, /Stocks API <code>http:\/\/localhost:4001\/stocks<\/code>/);
  t.regex(html, /<code>stocks:read<\/code> See quotes/);
  t.regex(html, /class="denied"><code>stocks:buy<\/code>[^<]*<\/span> — not allowed for your account/);
});

test('denying consent sends the user back to the client with error=access_denied', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    state: 'xyz',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const callback = await signIn(url, { persona: 'alice', consent: 'deny' });
  t.is(callback.origin + callback.pathname, REDIRECT_URI);
  t.is(callback.searchParams.get('error'), 'access_denied');
  t.is(callback.searchParams.get('state'), 'xyz');
});
