import test from 'ava';
import { createRemoteJWKSet, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { generateSigningKey, type RunningMockAs, TOKEN_EXCHANGE } from '../src/index.js';
import { authorize, CLIENTS, clientFor, decode, SERVICE_A, SERVICE_B, SERVICE_C, STOCKS, startAs } from './_setup.js';

const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/** A raw RFC 8693 request, so status, headers and the exact body can be asserted. */
async function exchange(as: RunningMockAs, client: keyof typeof CLIENTS, params: Record<string, string | string[]>) {
  const body = new URLSearchParams({ grant_type: TOKEN_EXCHANGE });
  for (const [k, v] of Object.entries({ subject_token_type: ACCESS_TOKEN, ...params })) {
    for (const one of [v].flat()) body.append(k, one);
  }
  const res = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client}:${CLIENTS[client]}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** An AS with known signing keys, and alice's token for Service A (scope a b c). */
async function setup(t: Parameters<typeof startAs>[0]) {
  const signing = await generateSigningKey();
  const as = await startAs(t, { keys: { signing: [signing], cookies: ['test-cookie-key'] } });
  const config = await clientFor(as);
  const tokens = await authorize(config, { persona: 'alice', tokenResource: SERVICE_A });
  return { as, config, signing, tokens, tokenForA: tokens.access_token };
}

/** Signs a token with `key`, shaped like the AS's access tokens. */
async function mint(key: JWK, claims: Record<string, unknown>, typ = 'at+jwt') {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ, kid: key.kid as string })
    .sign(await importJWK(key, 'RS256'));
}

test('RFC 8693: the A → B → C chain downscopes at each hop and nests act (§4.1)', async (t) => {
  const { as, tokenForA } = await setup(t);
  const jwks = createRemoteJWKSet(new URL(`${as.issuer}/jwks`));
  const subject = decode(tokenForA).payload;
  t.like(subject, { aud: SERVICE_A, scope: 'a b c', client_id: 'bff' });

  const toB = await exchange(as, 'service-a', { subject_token: tokenForA, resource: SERVICE_B, scope: 'b c' });
  t.is(toB.status, 200);
  t.is(toB.headers.get('cache-control'), 'no-store');
  t.deepEqual(Object.keys(toB.body).sort(), ['access_token', 'expires_in', 'issued_token_type', 'scope', 'token_type']);
  t.like(toB.body, { issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', scope: 'b c' });
  const b = await jwtVerify(String(toB.body.access_token), jwks, {
    issuer: as.issuer,
    audience: SERVICE_B,
    typ: 'at+jwt',
  });
  t.like(b.payload, { sub: 'alice', aud: SERVICE_B, scope: 'b c', client_id: 'service-a', act: { sub: 'service-a' } });
  t.true((b.payload.exp as number) <= (subject.exp as number));

  const toC = await exchange(as, 'service-b', {
    subject_token: String(toB.body.access_token),
    resource: SERVICE_C,
    scope: 'c',
  });
  t.is(toC.status, 200);
  const c = await jwtVerify(String(toC.body.access_token), jwks, {
    issuer: as.issuer,
    audience: SERVICE_C,
    typ: 'at+jwt',
  });
  t.deepEqual(c.payload.act, { sub: 'service-b', act: { sub: 'service-a' } });
  t.like(c.payload, { sub: 'alice', aud: SERVICE_C, scope: 'c', client_id: 'service-b' });
  t.true((c.payload.exp as number) <= (b.payload.exp as number));
  t.true(Number(toC.body.expires_in) <= 60, 'C tokens live at most the seed TTL of C');
});

test('RFC 8693: the backend narrows its own token for the same resource (downscoping by exchange)', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { access_token } = await authorize(config, { persona: 'alice', tokenResource: STOCKS });
  t.is(decode(access_token).payload.scope, 'stocks:read stocks:buy');
  // openid-client's generic grant, as a backend would call it.
  const narrowed = await oidc.genericGrantRequest(config, TOKEN_EXCHANGE, {
    subject_token: access_token,
    subject_token_type: ACCESS_TOKEN,
    resource: STOCKS,
    scope: 'stocks:read',
  });
  t.is(narrowed.scope, 'stocks:read');
  t.like(decode(narrowed.access_token).payload, { aud: STOCKS, scope: 'stocks:read', act: { sub: 'bff' } });
});

test('RFC 8693 §2.1: without resource or scope, the target is the subject audience and the scope what it holds there', async (t) => {
  const { as, tokenForA } = await setup(t);
  const res = await exchange(as, 'bff', { subject_token: tokenForA });
  t.is(res.status, 200);
  t.like(res.body, { scope: 'a b c' });
  t.like(decode(String(res.body.access_token)).payload, { aud: SERVICE_A, scope: 'a b c' });
});

test('RFC 8693 §2.2.2: asking for a scope the subject token does not hold (escalation) gives invalid_scope', async (t) => {
  const { as, config, tokens } = await setup(t);
  const narrow = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '', {
    resource: SERVICE_A,
    scope: 'a b',
  });
  const res = await exchange(as, 'service-a', {
    subject_token: narrow.access_token,
    resource: SERVICE_B,
    scope: 'b c',
  });
  t.is(res.status, 400);
  t.deepEqual(res.body, {
    error: 'invalid_scope',
    error_description: 'subject_token does not hold the requested scope',
    scope: 'c',
  });
});

test('RFC 8693 §2.2.2: a scope the target does not define gives invalid_scope', async (t) => {
  const { as, tokenForA } = await setup(t);
  const res = await exchange(as, 'service-a', { subject_token: tokenForA, resource: SERVICE_B, scope: 'a b' });
  t.deepEqual(res.body, {
    error: 'invalid_scope',
    error_description: `scope not defined for ${SERVICE_B}`,
    scope: 'a',
  });
});

test('RFC 8693 §2.2.2: an unknown target, or one the seed rules do not allow, gives invalid_target', async (t) => {
  const { as, tokenForA } = await setup(t);
  const unknown = await exchange(as, 'service-a', { subject_token: tokenForA, resource: 'https://unknown.example/' });
  t.is(unknown.status, 400);
  t.deepEqual(unknown.body, {
    error: 'invalid_target',
    error_description: 'unknown target "https://unknown.example/"',
  });

  // A may call B, not C.
  const skip = await exchange(as, 'service-a', { subject_token: tokenForA, resource: SERVICE_C, scope: 'c' });
  t.is(skip.status, 400);
  t.like(skip.body, { error: 'invalid_target' });
  t.regex(String(skip.body.error_description), /may not exchange a token for .*\/a into one for .*\/c/);

  // B may exchange tokens addressed to B, not a token addressed to A.
  const wrongSubject = await exchange(as, 'service-b', { subject_token: tokenForA, resource: SERVICE_C, scope: 'c' });
  t.like(wrongSubject.body, { error: 'invalid_target' });

  // One audience per token: two targets at once are refused.
  const two = await exchange(as, 'service-a', { subject_token: tokenForA, resource: [SERVICE_B, SERVICE_C] });
  t.like(two.body, { error: 'invalid_target' });
});

test('RFC 8693 §2.2.2: expired, garbage, foreign-signed or non-access-token subject tokens give invalid_request', async (t) => {
  const { as, signing, tokenForA, tokens } = await setup(t);
  const claims = { ...decode(tokenForA).payload };
  const now = Math.floor(Date.now() / 1000);

  const cases: Array<[string, string, string]> = [
    ['expired', await mint(signing, { ...claims, iat: now - 600, exp: now - 300 }), 'subject_token is expired'],
    ['garbage', 'not-a-token', 'subject_token is not a JWT access token issued by this AS'],
    [
      'foreign-signed (another key, same kid)',
      await mint({ ...(await generateSigningKey()), kid: signing.kid as string }, claims),
      'subject_token signature does not verify with this AS keys',
    ],
    [
      'foreign-signed (unknown kid)',
      await mint(await generateSigningKey(), claims),
      'subject_token signature does not verify with this AS keys',
    ],
    [
      'tampered payload',
      `${tokenForA.split('.')[0]}.${Buffer.from(JSON.stringify({ ...claims, scope: 'a b c d' })).toString('base64url')}.${tokenForA.split('.')[2]}`,
      'subject_token signature does not verify with this AS keys',
    ],
    ['an ID token', tokens.id_token ?? '', 'subject_token is not an access token (typ must be at+jwt)'],
    [
      'another issuer',
      await mint(signing, { ...claims, iss: 'https://evil.example' }),
      'subject_token was issued by another issuer',
    ],
  ];
  for (const [what, subject_token, description] of cases) {
    const res = await exchange(as, 'service-a', { subject_token, resource: SERVICE_B, scope: 'b' });
    t.is(res.status, 400, what);
    t.deepEqual(res.body, { error: 'invalid_request', error_description: description }, what);
  }
});

test('RFC 8693 §2.2.2: a validly signed subject token for an account that does not exist gives invalid_request', async (t) => {
  const { as, signing, tokenForA } = await setup(t);
  const claims = decode(tokenForA).payload;
  const forAlice = await mint(signing, claims);
  const forNobody = await mint(signing, { ...claims, sub: 'no-such-user' });

  // The same token for alice is accepted: only the account differs.
  t.is((await exchange(as, 'service-a', { subject_token: forAlice, resource: SERVICE_B, scope: 'b' })).status, 200);
  const res = await exchange(as, 'service-a', { subject_token: forNobody, resource: SERVICE_B, scope: 'b' });
  t.is(res.status, 400);
  t.is(res.headers.get('cache-control'), 'no-store');
  t.deepEqual(res.body, { error: 'invalid_request', error_description: 'subject_token names an unknown account' });
});

test('RFC 8693 §2.1: the issued token never outlives the subject token', async (t) => {
  const { as, signing, tokenForA } = await setup(t);
  const now = Math.floor(Date.now() / 1000);
  const shortLived = await mint(signing, { ...decode(tokenForA).payload, iat: now, exp: now + 30 });
  const res = await exchange(as, 'service-a', { subject_token: shortLived, resource: SERVICE_B, scope: 'b' });
  t.is(res.status, 200);
  t.true(Number(res.body.expires_in) <= 30);
  t.true((decode(String(res.body.access_token)).payload.exp as number) <= now + 30);
});

test('RFC 8693 §2.1: bad parameter combinations give invalid_request', async (t) => {
  const { as, tokenForA } = await setup(t);
  const cases: Array<[Record<string, string>, string]> = [
    [
      { subject_token: tokenForA, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' },
      `subject_token_type must be ${ACCESS_TOKEN}`,
    ],
    [
      { subject_token: tokenForA, actor_token_type: ACCESS_TOKEN },
      'actor_token is not supported: the actor is the authenticated client',
    ],
    [
      { subject_token: tokenForA, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' },
      `requested_token_type must be ${ACCESS_TOKEN}`,
    ],
    [{}, 'missing required parameter subject_token'],
  ];
  for (const [params, description] of cases) {
    const res = await exchange(as, 'service-a', { resource: SERVICE_B, ...params });
    t.is(res.status, 400);
    t.deepEqual(res.body, { error: 'invalid_request', error_description: description });
  }
});

test('RFC 8693 §2.2.2: a client the seed does not allow to exchange gives unauthorized_client', async (t) => {
  const { as, tokenForA } = await setup(t);
  const res = await exchange(as, 'stocks-api', { subject_token: tokenForA, resource: SERVICE_A });
  t.is(res.status, 400);
  t.like(res.body, { error: 'unauthorized_client' }, JSON.stringify(res.body));
});

test('discovery advertises token exchange with the other supported grants', async (t) => {
  const as = await startAs(t);
  const metadata = (await clientFor(as)).serverMetadata();
  t.deepEqual(
    [...(metadata.grant_types_supported ?? [])].sort(),
    ['authorization_code', 'refresh_token', TOKEN_EXCHANGE].sort(),
  );
});
