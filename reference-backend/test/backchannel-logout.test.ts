/**
 * Back-channel logout end to end: the real mock AS ends an AS session and posts a logout token; the
 * backend checks it and ends the sessions it names. Forged and malformed tokens end nothing.
 */

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type DevKeys, generateSigningKey } from '@tmi-bff/mock-as';
import test, { type ExecutionContext } from 'ava';
import { importJWK, type JWK, SignJWT } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, BACKCHANNEL_LOGOUT_ROUTE } from '../src/oauth/backchannel-logout.js';
import { logOutAtAs, STOCKS, type Stack, startStack, type UserAgent } from './_setup.js';

const PATH = '/auth/backchannel-logout';

/** A stack whose AS signs with a key the test knows (to sign tokens that are valid but for one thing). */
async function bclStack(t: ExecutionContext) {
  const key = await generateSigningKey();
  const keys: DevKeys = { signing: [key], cookies: ['backchannel-logout-test-cookie-key'] };
  const lines: string[] = [];
  const stack = await startStack(t, { as: { keys }, backend: { log: (line) => lines.push(line) } });
  return { stack, key, lines };
}

async function signedIn(stack: Stack, persona: string): Promise<UserAgent> {
  const user = stack.browser();
  await user.signIn({ persona });
  return user;
}

/** The AS session (`sid`) and refresh token the backend holds for a browser's session. */
async function grantOf(stack: Stack, user: UserAgent) {
  const grant = await stack.backend.tokens.getGrant(await stack.sessionId(user));
  const sid = /^sid \S+ (\S+)$/.exec(grant?.as_session ?? '')?.[1];
  return { sid, refreshToken: grant?.refresh_token };
}

/** RFC 7662 at the AS, as the bff client. */
async function introspect(stack: Stack, token: string | undefined): Promise<{ active: boolean }> {
  const res = await fetch(new URL('/token/introspection', stack.as.issuer), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('bff:bff-dev-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token: token ?? '' }),
  });
  return (await res.json()) as { active: boolean };
}

/** A logout token as the AS would send it, with `claims` and `header` changing what the test needs. */
async function logoutToken(
  stack: Stack,
  key: JWK,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = Object.fromEntries(
    Object.entries({
      iss: stack.as.issuer,
      aud: 'bff',
      iat: now,
      exp: now + 120,
      jti: randomUUID(),
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      ...claims,
    }).filter(([, value]) => value !== undefined),
  );
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid as string, typ: 'logout+jwt', ...header })
    .sign(await importJWK(key, 'RS256'));
}

function post(stack: Stack, body: string | URLSearchParams, contentType = 'application/x-www-form-urlencoded') {
  return fetch(new URL(PATH, stack.origin), { method: 'POST', headers: { 'content-type': contentType }, body });
}

const sendLogoutToken = (stack: Stack, token: string) => post(stack, new URLSearchParams({ logout_token: token }));

/** The user's session still works: bff-sessioninfo and bff-token answer 200. */
async function stillSignedIn(t: ExecutionContext, user: UserAgent, who: string) {
  t.is((await user.sessionInfo()).status, 200, `${who}: bff-sessioninfo`);
  const token = await user.token({ resource: STOCKS });
  t.is(token.status, 200, `${who}: bff-token`);
  t.is(typeof token.body.access_token, 'string', `${who}: an access token`);
}

async function signedOut(t: ExecutionContext, user: UserAgent, who: string) {
  for (const res of [await user.token({ resource: STOCKS }), await user.sessionInfo()]) {
    t.is(res.status, 400, who);
    t.deepEqual(Object.keys(res.body).sort(), ['error', 'error_description'], who);
    t.is(res.body.error, 'invalid_session', who);
    t.is(res.headers.get('cache-control'), 'no-store', who);
  }
}

test('OIDC BCL 1.0 §2.7: when the AS logs alice out, her session ends within 1 s and her grant is revoked; bob is untouched', async (t) => {
  const { stack, lines } = await bclStack(t);
  const alice = await signedIn(stack, 'alice');
  const bob = await signedIn(stack, 'bob');
  await stillSignedIn(t, alice, 'alice before');
  await stillSignedIn(t, bob, 'bob before');
  const aliceGrant = await grantOf(stack, alice);
  const bobGrant = await grantOf(stack, bob);
  t.truthy(aliceGrant.sid, "alice's ID token carried the AS session's sid");
  t.true((await introspect(stack, aliceGrant.refreshToken)).active);

  const handled = once(stack.backend.app, `${BACKCHANNEL_LOGOUT_ROUTE}.success`);
  const start = performance.now();
  const [confirmed, [, outcome]] = await Promise.all([logOutAtAs(stack, alice), handled]);
  const refused = await alice.token({ resource: STOCKS });
  const elapsed = performance.now() - start;
  t.log(`AS logout confirmed → logout token handled → bff-token invalid_session: ${elapsed.toFixed(0)} ms`);

  t.is(confirmed.status, 303, 'the AS ended its session');
  t.deepEqual(outcome, { sessions: 1 });
  t.is(refused.status, 400);
  t.is(refused.body.error, 'invalid_session');
  t.true(elapsed < 1000, `bff-token said invalid_session ${elapsed.toFixed(0)} ms after the AS logout`);
  await signedOut(t, alice, 'alice after');
  t.false((await introspect(stack, aliceGrant.refreshToken)).active, "alice's refresh token is inactive at the AS");
  t.true(lines.includes('grant.revoked (back-channel logout)'), 'the backend revoked it itself');

  await stillSignedIn(t, bob, 'bob after');
  t.true((await introspect(stack, bobGrant.refreshToken)).active, "bob's refresh token is still active");
  t.deepEqual(await grantOf(stack, bob), bobGrant);
});

test('OIDC BCL 1.0 §2.6: a logout token that fails a check is refused with 400 invalid_request and ends nothing', async (t) => {
  const { stack, key } = await bclStack(t);
  const alice = await signedIn(stack, 'alice');
  const bob = await signedIn(stack, 'bob');
  const { sid } = await grantOf(stack, alice);
  const now = Math.floor(Date.now() / 1000);
  const otherKey = await generateSigningKey();
  const events = { [BACKCHANNEL_LOGOUT_EVENT]: {} };
  const forged: Record<string, string> = {
    'signed with another key': await logoutToken(stack, otherKey, { sid, sub: 'alice' }),
    'signed with another key under the AS key id': await logoutToken(
      stack,
      { ...otherKey, kid: key.kid as string },
      { sid, sub: 'alice' },
    ),
    'for another audience': await logoutToken(stack, key, { sid, sub: 'alice', aud: 'service-a' }),
    'from another issuer': await logoutToken(stack, key, { sid, sub: 'alice', iss: 'http://127.0.0.1:1' }),
    'with a nonce': await logoutToken(stack, key, { sid, sub: 'alice', nonce: 'n-0S6_WzA2Mj' }),
    'without events': await logoutToken(stack, key, { sid, sub: 'alice', events: undefined }),
    'with another event': await logoutToken(stack, key, { sid, sub: 'alice', events: { 'urn:other': {} } }),
    'whose event is not an object': await logoutToken(stack, key, {
      sid,
      sub: 'alice',
      events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' },
    }),
    'with neither sid nor sub': await logoutToken(stack, key, { events }),
    'without jti': await logoutToken(stack, key, { sid, sub: 'alice', jti: undefined }),
    'without iat': await logoutToken(stack, key, { sid, sub: 'alice', iat: undefined }),
    expired: await logoutToken(stack, key, { sid, sub: 'alice', iat: now - 600, exp: now - 480 }),
    'issued too long ago': await logoutToken(stack, key, { sid, sub: 'alice', iat: now - 3600, exp: undefined }),
    'issued in the future': await logoutToken(stack, key, { sid, sub: 'alice', iat: now + 600, exp: now + 720 }),
    'typed as an ID token': await logoutToken(stack, key, { sid, sub: 'alice' }, { typ: 'JWT' }),
    'signed with HS256': await new SignJWT({ iss: stack.as.issuer, aud: 'bff', iat: now, jti: 'x', sid, events })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('bff-dev-secret-bff-dev-secret-32')),
    'unsigned (alg none)': `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ iss: stack.as.issuer, aud: 'bff', iat: now, jti: 'y', sid, events }),
    ).toString('base64url')}.`,
    'not a JWT': 'not-a-jwt',
  };
  // Each is refused for its own reason, not for another check that happens to come first.
  const reasons: Record<string, string> = {
    'signed with another key': 'is not valid: no applicable key found',
    'signed with another key under the AS key id': 'is not valid: signature verification failed',
    'for another audience': 'is not valid: unexpected "aud"',
    'from another issuer': 'is not valid: unexpected "iss"',
    'with a nonce': 'carries a nonce',
    'without events': 'has no events member',
    'with another event': 'has no events member',
    'whose event is not an object': 'has no events member',
    'with neither sid nor sub': 'has neither sid nor sub',
    'without jti': 'is not valid: missing required "jti"',
    'without iat': 'is not valid: missing required "iat"',
    expired: 'is not valid: "exp" claim timestamp check failed',
    'issued too long ago': 'is not valid: "iat" claim timestamp check failed \\(too far in the past',
    'issued in the future': 'is not valid: "iat" claim timestamp check failed \\(it should be in the past',
    'typed as an ID token': 'has typ "JWT", not logout\\+jwt',
    'signed with HS256': 'is not valid: "alg" \\(Algorithm\\) Header Parameter value not allowed',
    'unsigned (alg none)': 'is not valid: "alg" \\(Algorithm\\) Header Parameter value not allowed',
    'not a JWT': 'is not valid: Invalid Compact JWS',
  };
  for (const [what, token] of Object.entries(forged)) {
    const res = await sendLogoutToken(stack, token);
    const body = (await res.json()) as Record<string, unknown>;
    t.is(res.status, 400, what);
    t.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], what);
    t.is(body.error, 'invalid_request', what);
    // RFC 6749 §5.2: an error_description holds no double quote; the backend writes ' for one (the log keeps it).
    const reason = reasons[what]?.replaceAll('"', "'");
    t.regex(String(body.error_description), new RegExp(`^the logout token (${reason})`), what);
    t.is(res.headers.get('cache-control'), 'no-store', what);
  }

  // The same checks pass a genuine token: replayed, its jti is refused.
  const genuine = await logoutToken(stack, key, { sid: 'an-ended-as-session', sub: 'nobody' });
  t.is((await sendLogoutToken(stack, genuine)).status, 200, 'a genuine token for no session');
  const replayed = await sendLogoutToken(stack, genuine);
  t.is(replayed.status, 400, 'replayed');
  t.deepEqual(await replayed.json(), {
    error: 'invalid_request',
    error_description: 'the logout token was already received (its jti is spent)',
  });

  await stillSignedIn(t, alice, 'alice');
  await stillSignedIn(t, bob, 'bob');
});

test('OIDC BCL 1.0 §2.8: a logout token for an unknown sid is answered 200 (no-store) and ends nothing', async (t) => {
  const { stack, key } = await bclStack(t);
  const alice = await signedIn(stack, 'alice');
  const handled = once(stack.backend.app, `${BACKCHANNEL_LOGOUT_ROUTE}.success`);
  const res = await sendLogoutToken(stack, await logoutToken(stack, key, { sid: randomUUID(), sub: 'alice' }));
  t.is(res.status, 200);
  t.is(await res.text(), '');
  t.is(res.headers.get('cache-control'), 'no-store');
  t.deepEqual((await handled)[1], { sessions: 0 });
  await stillSignedIn(t, alice, 'alice');
});

test('OIDC BCL 1.0 §2.7: a logout token with a sub and no sid ends every session of that user, and only those', async (t) => {
  const { stack, key } = await bclStack(t);
  const aliceAtHome = await signedIn(stack, 'alice');
  const aliceAtWork = await signedIn(stack, 'alice');
  const bob = await signedIn(stack, 'bob');
  const res = await sendLogoutToken(stack, await logoutToken(stack, key, { sub: 'alice' }));
  t.is(res.status, 200);
  await signedOut(t, aliceAtHome, 'alice at home');
  await signedOut(t, aliceAtWork, 'alice at work');
  await stillSignedIn(t, bob, 'bob');
});

test("the user's session index follows sign-in, a new sign-in over a session, and sign-out", async (t) => {
  const { stack } = await bclStack(t);
  const index = async () =>
    [...((await stack.backend.store.get<{ ids: string[] }>(`sub:${stack.as.issuer} alice`))?.ids ?? [])].sort();
  const first = await signedIn(stack, 'alice');
  const firstId = await stack.sessionId(first);
  const second = await signedIn(stack, 'alice');
  const secondId = await stack.sessionId(second);
  t.deepEqual(await index(), [firstId, secondId].sort(), 'two browsers, two sessions');

  await first.signIn({ persona: 'alice' });
  const renewedId = await stack.sessionId(first);
  t.not(renewedId, firstId);
  t.deepEqual(await index(), [renewedId, secondId].sort(), 'the replaced session left the index');

  for (const user of [first, second]) {
    const out = await user.fetch('/auth/logout', { method: 'POST', headers: { origin: stack.origin } });
    t.is(out.status, 303);
  }
  t.deepEqual(await index(), [], 'sign-out emptied it');
});

test('the back-channel logout route takes one form-encoded logout token, from anyone, and never answers 5xx', async (t) => {
  const { stack } = await bclStack(t);
  const cases: Array<[string, Promise<Response>, number]> = [
    ['JSON', post(stack, JSON.stringify({ logout_token: 'x' }), 'application/json'), 415],
    ['too large', post(stack, `logout_token=${'a'.repeat(20_000)}`), 413],
    ['no logout_token', post(stack, 'token=x'), 400],
    ['empty body', post(stack, ''), 400],
    ['two logout_tokens', post(stack, 'logout_token=a&logout_token=b'), 400],
    ['GET', fetch(new URL(PATH, stack.origin)), 405],
  ];
  for (const [what, pending, status] of cases) {
    const res = await pending;
    const body = (await res.json()) as Record<string, unknown>;
    t.is(res.status, status, what);
    t.is(body.error, 'invalid_request', what);
    t.is(typeof body.error_description, 'string', what);
    t.is(res.headers.get('cache-control'), 'no-store', what);
    if (status === 405) t.is(res.headers.get('allow'), 'POST', what);
  }
});
