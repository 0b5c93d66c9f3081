import test from 'ava';
import * as oidc from 'openid-client';
import { SESSION_COOKIE as COOKIE, SERVICE_B, STOCKS, startStack } from './_setup.js';

test('TMI-BFF-01 §3, §4.3.1 (TMI-08, TMI-26): no cookie, a tampered cookie, an unknown or an expired session → invalid_session on both endpoints', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const { key, sig } = alice.sessionCookie();

  const call = async (cookie: string | undefined) => {
    const headers: Record<string, string> = { 'TMI-BFF-CSRF': '1', ...(cookie ? { cookie } : {}) };
    const out = [];
    for (const path of ['/.well-known/bff-token', '/.well-known/bff-sessioninfo']) {
      const res = await fetch(new URL(path, stack.origin), { headers });
      out.push({ status: res.status, body: await res.json() });
    }
    return out;
  };
  const refused = {
    status: 400,
    body: { error: 'invalid_session', error_description: 'no valid session: sign in first' },
  };

  t.deepEqual(await call(undefined), [refused, refused], 'no cookie');
  t.deepEqual(await call(`${COOKIE}=${key}x; ${COOKIE}.sig=${sig}`), [refused, refused], 'tampered id');
  t.deepEqual(
    await call(`${COOKIE}=${key}; ${COOKIE}.sig=${sig.slice(0, -2)}AA`),
    [refused, refused],
    'tampered signature',
  );
  t.is((await call(`${COOKIE}=${key}; ${COOKIE}.sig=${sig}`))[1]?.status, 200, 'the genuine cookie works');

  // Expired: the session's own end has passed (the cookie is still presented).
  const stored = await stack.backend.store.get<Record<string, unknown>>(`session:${key}`);
  await stack.backend.store.set(`session:${key}`, { ...stored, expires_at: Date.now() - 1000 }, 60_000);
  t.deepEqual(await call(`${COOKIE}=${key}; ${COOKIE}.sig=${sig}`), [
    { status: 400, body: { error: 'invalid_session', error_description: 'the session has expired: sign in again' } },
    { status: 400, body: { error: 'invalid_session', error_description: 'the session has expired: sign in again' } },
  ]);

  // Unknown: the store no longer has it.
  await stack.backend.store.delete(`session:${key}`);
  t.deepEqual(await call(`${COOKIE}=${key}; ${COOKIE}.sig=${sig}`), [refused, refused], 'unknown session');
});

test('D5 (TMI-38): the session cookie is an opaque id, HttpOnly, SameSite=Strict, Path=/, no Domain', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  const landed = await alice.signIn({ persona: 'alice' });
  const cookies = landed.headers.getSetCookie();
  const session = cookies.find((c) => c.startsWith(`${COOKIE}=`)) ?? '';
  t.regex(session, /; path=\//);
  t.regex(session, /; samesite=strict/);
  t.regex(session, /; httponly/);
  t.notRegex(session, /domain=/i);
  const value = session.slice(COOKIE.length + 1, session.indexOf(';'));
  t.regex(value, /^[A-Za-z0-9_-]{43}$/, 'a 256-bit random id, nothing else');
  const info = await alice.sessionInfo();
  t.false(JSON.stringify(info.body).includes(value));
});

test('D5: sign-in issues a new session id (no fixation); a planted id is destroyed, not adopted', async (t) => {
  const stack = await startStack(t);
  const attacker = stack.browser();
  await attacker.signIn({ persona: 'bob' });
  const { key: planted, sig: plantedSig } = attacker.sessionCookie();

  const victim = stack.browser();
  victim.jar.set('127.0.0.1', COOKIE, planted);
  victim.jar.set('127.0.0.1', `${COOKIE}.sig`, plantedSig);
  await victim.signIn({ persona: 'alice' });
  t.not(victim.sessionCookie().key, planted);
  t.like((await victim.sessionInfo()).body, { sub: 'alice' });
  t.like((await attacker.sessionInfo()).body, { error: 'invalid_session' }, 'the planted id does not ride along');
});

test('D5: the grant record (refresh token, cached tokens) expires with its session, whatever was written since', async (t) => {
  const stack = await startStack(t, { backend: { sessionMaxAgeMs: 60_000 } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const sid = await stack.sessionId(alice);
  stack.advance(30_000);
  await alice.token({ resource: STOCKS, scope: 'stocks:read' }); // rewrites the record
  t.truthy((await stack.backend.tokens.getGrant(sid))?.refresh_token);
  stack.advance(30_001);
  t.is(await stack.backend.tokens.getGrant(sid), undefined, 'gone with the session, not kept by the rewrite');
});

test('logout revokes the refresh token at the AS, destroys the session, and sends the browser to RP-initiated logout', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const cookie = alice.sessionCookie().header;
  const sid = await stack.sessionId(alice);
  const refreshToken = String((await stack.backend.tokens.getGrant(sid))?.refresh_token);

  const out = await alice.fetch('/auth/logout', { method: 'POST', headers: { origin: stack.origin } });
  t.is(out.status, 303);
  const location = new URL(out.headers.get('location') ?? '');
  t.is(`${location.origin}${location.pathname}`, `${stack.as.issuer}/session/end`);
  t.is(location.searchParams.get('post_logout_redirect_uri'), `${stack.origin}/`);
  // OIDC RP-Initiated Logout 1.0 §2: the client named by client_id; the ID token stays out of the browser.
  t.is(location.searchParams.get('client_id'), 'bff');
  t.is(location.searchParams.get('id_token_hint'), null);

  // The old cookie is useless, the grant record is gone, and the AS says the refresh token is dead.
  const replay = await fetch(new URL('/.well-known/bff-token', stack.origin), {
    headers: { 'TMI-BFF-CSRF': '1', cookie },
  });
  t.like(await replay.json(), { error: 'invalid_session' });
  t.is(await stack.backend.tokens.getGrant(sid), undefined);
  const config = await stack.backend.client.configuration();
  t.false((await oidc.tokenIntrospection(config, refreshToken)).active);
});

test('logout is refused from another origin, and without any origin information', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const foreign = await alice.fetch('/auth/logout', { method: 'POST', headers: { origin: 'https://evil.example' } });
  t.is(foreign.status, 403);
  const bare = await alice.fetch('/auth/logout', { method: 'POST' });
  t.is(bare.status, 403);
  t.is((await alice.sessionInfo()).status, 200, 'still signed in');
});

test('sign-in only returns to same-origin paths (no open redirect)', async (t) => {
  const stack = await startStack(t);
  for (const [returnTo, expected] of [
    ['/portfolio?x=1', '/portfolio?x=1'],
    ['https://evil.example/', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example', '/'],
  ]) {
    const user = stack.browser();
    const landed = await user.signIn(
      { persona: 'alice' },
      `/auth/login?returnTo=${encodeURIComponent(returnTo ?? '')}`,
    );
    t.is(landed.headers.get('location'), expected, returnTo);
  }
});

test('a callback without its login transaction (replayed, or in another browser) is refused with a page, not a session', async (t) => {
  const stack = await startStack(t);
  const user = stack.browser();
  const start = await user.fetch('/auth/login');
  const { signIn } = await import('@tmi-bff/mock-as/testing');
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: user.jar });
  const other = stack.browser();
  const replay = await other.fetch(callback.pathname + callback.search);
  t.is(replay.status, 400);
  t.regex(await replay.text(), /This sign-in link has expired/);
  t.like((await other.sessionInfo()).body, { error: 'invalid_session' });
});

test('D13: /auth/consent adds a resource to the grant through the AS consent page; the session stays', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const before = alice.sessionCookie().key;
  t.like((await alice.token({ resource: SERVICE_B, scope: 'b' })).body, { error: 'backend_not_ready' });

  const back = await alice.signIn(
    { persona: 'alice' },
    `/auth/consent?resource=${encodeURIComponent(SERVICE_B)}&scope=b+c&returnTo=/chain`,
  );
  t.is(back.headers.get('location'), '/chain');
  t.is(alice.sessionCookie().key, before, 'same session');
  const b = await alice.token({ resource: SERVICE_B, scope: 'b' });
  t.is(b.status, 200, JSON.stringify(b.body));
  t.is(b.body.scope, 'b');
  // what the grant held before still works
  const stocks = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(stocks.status, 200, JSON.stringify(stocks.body));
});

test('sign-in while the AS is down answers a page that says what to do, and works once the AS is back', async (t) => {
  const stack = await startStack(t);
  const port = Number(new URL(stack.as.issuer).port);
  await stack.as.close();
  const user = stack.browser();
  const down = await user.fetch('/auth/login');
  t.is(down.status, 503);
  const html = await down.text();
  t.regex(html, /The sign-in server is not reachable/);
  t.notRegex(html, /at .*\.(ts|js):\d+/);
  const { startMockAs } = await import('@tmi-bff/mock-as');
  const back = await startMockAs({ seed: stack.seed, port, issuer: stack.as.issuer, log: () => {} });
  t.teardown(() => back.close());
  const landed = await user.signIn({ persona: 'alice' });
  t.is(landed.status, 303);
  t.like((await user.sessionInfo()).body, { sub: 'alice' });
});

test('sign-out sends the ID token as id_token_hint only with BFF_LOGOUT_ID_TOKEN_HINT; either way the mock AS (oidc-provider) takes the request and asks to confirm the sign-out', async (t) => {
  for (const idTokenHint of [false, true]) {
    const stack = await startStack(t, { backend: { idTokenHint } });
    const alice = stack.browser();
    await alice.signIn({ persona: 'alice' });
    const sid = await stack.sessionId(alice);
    const idToken = await stack.backend.store.get<string>(`id-token:${sid}`);
    const out = await alice.fetch('/auth/logout', { method: 'POST', headers: { origin: stack.origin } });
    t.is(out.status, 303);
    const location = out.headers.get('location') ?? '';
    const params = new URL(location).searchParams;
    if (idTokenHint) {
      t.is(params.get('id_token_hint'), idToken ?? null);
    } else {
      t.is(params.get('client_id'), 'bff');
      t.false(location.includes(String(idToken)), 'no ID token in the redirect');
      t.false(/eyJ[\w-]+\.eyJ/.test(location), 'no JWT at all in the redirect');
    }
    const confirm = await fetch(location);
    t.is(
      confirm.status,
      200,
      `the AS took the end-session request (id_token_hint ${idTokenHint ? 'sent' : 'not sent'})`,
    );
    t.regex(await confirm.text(), /<form/);
  }
});
