/**
 * The development-only server-side sign-in (control-sign-in.ts): the AS runs its own login and
 * consent pages for a persona and hands back the redirect to the client; off unless faults are
 * enabled, open only to registered clients, and a 400 invalid_request for anything it cannot serve.
 */
import { CONTROL_SIGN_IN_PATH } from '@tmi-bff/mock-as';
import test from 'ava';
import * as oidc from 'openid-client';
import { CLIENTS, clientFor, decode, REDIRECT_URI, STOCKS, startAs } from './_setup.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const AS_BFF = basic('bff', CLIENTS.bff);

/** An authorization request of the bff client, with what redeeming its code needs. */
async function authorizationRequest(config: oidc.Configuration) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile stocks:read',
    resource: STOCKS,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  return { url, verifier, state };
}

function signInAt(issuer: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${issuer}${CONTROL_SIGN_IN_PATH}`, {
    method: 'POST',
    headers: { authorization: AS_BFF, 'content-type': 'application/json', ...headers },
    body,
  });
}

test('a persona is signed in by the AS itself: the location carries the code and state, and the client redeems the code', async (t) => {
  const as = await startAs(t, { faults: { enabled: true } });
  const config = await clientFor(as);
  for (const persona of ['bob', 'alice']) {
    const { url, verifier, state } = await authorizationRequest(config);
    const res = await signInAt(as.issuer, JSON.stringify({ authorization_url: url.href, persona }));
    t.is(res.status, 200);
    t.is(res.headers.get('cache-control'), 'no-store');
    const { location } = (await res.json()) as { location: string };
    const callback = new URL(location);
    t.is(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
    t.is(callback.searchParams.get('state'), state);
    t.truthy(callback.searchParams.get('code'));

    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state },
      { resource: STOCKS },
    );
    // A fresh cookie jar each time: the second sign-in is alice's, not a reuse of bob's AS session.
    t.is(tokens.claims()?.sub, persona);
    t.like(decode(tokens.access_token).payload, { sub: persona, aud: STOCKS, client_id: 'bff' });
  }
});

test('what the route cannot serve is 400 invalid_request saying why, never a 500', async (t) => {
  const as = await startAs(t, { faults: { enabled: true } });
  const config = await clientFor(as);
  const { url } = await authorizationRequest(config);
  const elsewhere = new URL(url);
  elsewhere.host = 'as.example';
  const wrongPath = new URL(url);
  wrongPath.pathname = '/token';
  const otherClient = new URL(url);
  otherClient.searchParams.set('client_id', 'service-a');
  const noClient = new URL(url);
  noClient.searchParams.delete('client_id');
  const unregisteredRedirect = new URL(url);
  unregisteredRedirect.searchParams.set('redirect_uri', 'http://localhost:3000/elsewhere');
  const request = (authorization_url: string, persona = 'bob') => JSON.stringify({ authorization_url, persona });

  const cases: Array<[string, string, RegExp, Record<string, string>?]> = [
    [
      'another host',
      request(elsewhere.href),
      /^authorization_url must be an authorization request at this AS's endpoint, http:\/\/127\.0\.0\.1:\d+\/auth$/,
    ],
    ['another path', request(wrongPath.href), /^authorization_url must be an authorization request at this AS/],
    ['not a URL', request('/auth?client_id=bff'), /^authorization_url must be an authorization request at this AS/],
    [
      'another client',
      request(otherClient.href),
      /^authorization_url must be a request of the authenticated client bff, not of service-a$/,
    ],
    ['no client', request(noClient.href), /not of no client$/],
    ['unknown persona', request(url.href, 'mallory'), /^unknown persona 'mallory' \(known: alice, bob, carol\)$/],
    ['an array', '[]', /^the body must be a JSON object/],
    ['a string', '"bob"', /JSON/],
    ['malformed JSON', '{"persona":', /./],
    [
      'unknown member',
      JSON.stringify({ authorization_url: url.href, persona: 'bob', as: 'admin' }),
      /^unknown member: as$/,
    ],
    ['missing persona', JSON.stringify({ authorization_url: url.href }), /^persona must be a string/],
    ['too large', request(`${url.href}&x=${'a'.repeat(20_000)}`), /too large/i],
    [
      'a form',
      'persona=bob',
      /^the body must be application\/json$/,
      { 'content-type': 'application/x-www-form-urlencoded' },
    ],
    [
      'a request the AS refuses on its error page',
      request(unregisteredRedirect.href),
      /^the authorization request did not reach the client's redirect_uri: \/auth answered 400/,
    ],
  ];
  for (const [what, body, description, headers] of cases) {
    const res = await signInAt(as.issuer, body, headers);
    t.is(res.status, 400, what);
    const answer = (await res.json()) as { error: string; error_description: string };
    t.is(answer.error, 'invalid_request', what);
    t.regex(answer.error_description, description, what);
  }
});

test('the route answers only a registered client with its own secret, and only POST', async (t) => {
  const as = await startAs(t, { faults: { enabled: true } });
  for (const authorization of [undefined, basic('bff', 'wrong'), basic('nobody', 'x'), 'Bearer abc']) {
    const res = await fetch(`${as.issuer}${CONTROL_SIGN_IN_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: '{}',
    });
    t.is(res.status, 401, String(authorization));
    t.is(res.headers.get('www-authenticate'), 'Basic realm="mock-as control"');
    t.like(await res.json(), { error: 'invalid_client' });
  }
  const get = await fetch(`${as.issuer}${CONTROL_SIGN_IN_PATH}`, { headers: { authorization: AS_BFF } });
  t.is(get.status, 405);
  t.is(get.headers.get('allow'), 'POST');
});

test('without faults: { enabled: true } the route does not exist: the 404 of any unknown path', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { url } = await authorizationRequest(config);
  const unknown = await fetch(`${as.issuer}/_mock/no-such-route`, {
    method: 'POST',
    headers: { authorization: AS_BFF },
  });
  t.is(unknown.status, 404);
  const res = await signInAt(as.issuer, JSON.stringify({ authorization_url: url.href, persona: 'bob' }));
  t.deepEqual({ status: res.status, body: await res.text() }, { status: 404, body: await unknown.text() });
});
