/**
 * Sign-in, step by step, against the real mock AS: the authorization request /auth/login sends the
 * browser with (RFC 6749 §4.1.1, RFC 9700 §2.1.1), the login transaction that waits for its callback
 * (D5), and what the callback makes of the answer: a new session (D12), or a page that says what
 * went wrong (D6). callback.test.ts holds the callback's state and replay checks.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { signIn } from '@tmi-bff/mock-as/testing';
import test, { type ExecutionContext } from 'ava';
import { backendAgainst, startFakeAs } from './_fake-as.js';
import { consentAs, cookiesOf, httpsStack, SERVICE_A, STOCKS, type Stack, startStack } from './_setup.js';

/** A consent to service A's scope `a`, which the default sign-in does not ask for. */
const CONSENT_A = `resource=${encodeURIComponent(SERVICE_A)}&scope=a`;

/** The AS's authorization endpoint, as its discovery document names it. */
async function authorizationEndpoint(stack: Stack): Promise<string> {
  const res = await fetch(`${stack.as.issuer}/.well-known/openid-configuration`);
  return String(((await res.json()) as { authorization_endpoint: string }).authorization_endpoint);
}

/** The backend against the small fake AS (_fake-as.ts), for what the mock AS will not do. */
function againstFake(t: ExecutionContext, fake: { issuer: string }) {
  return backendAgainst(t, {
    issuer: fake.issuer,
    client: { id: 'bff', secret: 'secret' },
    login: { scope: 'openid read', resources: ['https://api.example/one'] },
    tokens: { strategy: 'refresh', expiryMarginSeconds: 30, asTimeoutMs: 2000 },
    sessionMaxAgeMs: 3600_000,
  });
}

/** A log that keeps its lines. */
function logLines(lines: string[]) {
  return (line: unknown) => {
    lines.push(String(line));
  };
}

async function storedTransaction(stack: Stack, id: string) {
  return stack.backend.store.get<Record<string, unknown>>(`login:${id}`);
}

test('RFC 6749 §4.1.1, RFC 9700 §2.1.1: /auth/login sends the browser (303) to the authorization endpoint with the code flow, PKCE S256, state, nonce, the scope and each resource, and nothing else', async (t) => {
  const stack = await startStack(t);
  const user = stack.browser();
  const res = await user.fetch('/auth/login');
  t.is(res.status, 303);
  const location = new URL(res.headers.get('location') ?? '');
  t.is(`${location.origin}${location.pathname}`, await authorizationEndpoint(stack));
  const q = location.searchParams;
  t.deepEqual([...new Set(q.keys())].sort(), [
    'claims',
    'client_id',
    'code_challenge',
    'code_challenge_method',
    'nonce',
    'redirect_uri',
    'resource',
    'response_type',
    'scope',
    'state',
  ]);
  t.is(q.get('client_id'), 'bff');
  t.is(q.get('response_type'), 'code');
  t.is(q.get('redirect_uri'), `${stack.origin}/auth/callback`);
  t.is(q.get('scope'), stack.backend.config.login.scope);
  t.deepEqual(q.getAll('resource'), stack.backend.config.login.resources);
  t.is(q.get('code_challenge_method'), 'S256');
  t.regex(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  t.regex(q.get('state') ?? '', /^[A-Za-z0-9_-]{20,}$/);
  t.regex(q.get('nonce') ?? '', /^[A-Za-z0-9_-]{20,}$/);
  t.not(q.get('state'), q.get('nonce'));
  // OIDC Core §5.5: the ID token's sid and auth_time, where the AS takes the claims parameter.
  t.deepEqual(JSON.parse(q.get('claims') ?? ''), { id_token: { sid: null, auth_time: { essential: true } } });

  // A second sign-in gets fresh secrets.
  const again = new URL((await stack.browser().fetch('/auth/login')).headers.get('location') ?? '');
  for (const name of ['state', 'nonce', 'code_challenge']) t.not(again.searchParams.get(name), q.get(name), name);
});

test('D5: the login transaction is kept server-side for ten minutes, bound to the browser by a signed, HttpOnly, SameSite=Lax cookie; its verifier never leaves the backend', async (t) => {
  const stack = await startStack(t);
  const user = stack.browser();
  const before = Date.now();
  const res = await user.fetch('/auth/login?returnTo=/orders?id=7');
  const location = new URL(res.headers.get('location') ?? '');
  const cookies = cookiesOf(res);
  t.deepEqual([...cookies.keys()].sort(), ['bff-login', 'bff-login.sig']);
  const login = cookies.get('bff-login');
  t.regex(login?.value ?? '', /^[A-Za-z0-9_-]{20,}$/);
  t.is(login?.attributes.get('path'), '/');
  t.is(login?.attributes.get('samesite'), 'lax');
  t.true(login?.attributes.has('httponly'));
  t.false(login?.attributes.has('secure'), 'not over http');
  t.false(login?.attributes.has('domain'));
  const expires = Date.parse(login?.attributes.get('expires') ?? '');
  t.true(expires >= before + 599_000 && expires <= Date.now() + 601_000, `expires in ten minutes: ${expires - before}`);
  t.truthy(cookies.get('bff-login.sig')?.value);

  const tx = await storedTransaction(stack, login?.value ?? '');
  t.like(tx, {
    state: location.searchParams.get('state'),
    nonce: location.searchParams.get('nonce'),
    return_to: '/orders?id=7',
    scope: stack.backend.config.login.scope,
    resources: stack.backend.config.login.resources,
  });
  // RFC 7636 §4.2: the request carries the S256 challenge of the verifier kept here.
  const verifier = String(tx?.code_verifier);
  t.is(createHash('sha256').update(verifier).digest('base64url'), String(location.searchParams.get('code_challenge')));
  t.false(location.href.includes(verifier));
  t.false((res.headers.get('set-cookie') ?? '').includes(verifier));
  t.false(tx && 'sid' in tx, 'a sign-in is not a consent');

  // The callback takes it once and clears its cookie, success or not.
  const callback = await signIn(location, { persona: 'alice', jar: user.jar });
  const landed = await user.fetch(callback.pathname + callback.search);
  t.is(landed.status, 303);
  t.is(landed.headers.get('location'), '/orders?id=7');
  const cleared = cookiesOf(landed).get('bff-login');
  t.is(cleared?.value, '');
  t.is(cleared?.attributes.get('path'), '/');
  t.true(Date.parse(cleared?.attributes.get('expires') ?? '') < Date.now());
  t.is(await storedTransaction(stack, login?.value ?? ''), undefined);
  const stale = await user.fetch(callback.pathname + callback.search);
  t.is(stale.status, 400);
  t.regex(
    await stale.text(),
    /This sign-in link has expired.*Start again: it is valid for ten minutes, in the browser that started it\./s,
  );
  t.is(cookiesOf(stale).get('bff-login')?.value, '', 'cleared even when nothing was found');
});

test('D5 over https (behind a TLS proxy): the login transaction cookie is __Host- and Secure', async (t) => {
  const { stack } = await httpsStack(t);
  const res = await stack.browser().fetch('/auth/login', { headers: { 'x-forwarded-proto': 'https' } });
  t.is(res.status, 303);
  const login = cookiesOf(res).get('__Host-bff-login');
  t.true(login?.attributes.has('secure'));
  t.is(login?.attributes.get('samesite'), 'lax');
  t.true(login?.attributes.has('httponly'));
  t.true(cookiesOf(res).has('__Host-bff-login.sig'));
});

test('RFC 9700 §4.11: without returnTo, sign-in returns to the page of this origin the user came from (Referer), or to /', async (t) => {
  const stack = await startStack(t);
  const cases: Array<[Record<string, string>, string]> = [
    [{ referer: `${stack.origin}/portfolio?tab=2` }, '/portfolio?tab=2'],
    [{ referer: 'https://elsewhere.example/portfolio' }, '/'],
    [{}, '/'],
  ];
  for (const [headers, expected] of cases) {
    const user = stack.browser();
    const start = await user.fetch('/auth/login', { headers });
    const id = cookiesOf(start).get('bff-login')?.value ?? '';
    t.is((await storedTransaction(stack, id))?.return_to, expected, JSON.stringify(headers));
  }
  // returnTo wins over the Referer.
  const user = stack.browser();
  const start = await user.fetch('/auth/login?returnTo=/cart', { headers: { referer: `${stack.origin}/portfolio` } });
  t.is((await storedTransaction(stack, cookiesOf(start).get('bff-login')?.value ?? ''))?.return_to, '/cart');
});

test('BFF_AUTHORIZATION_PARAMS never replace the backend’s own parameters; an AS without the claims parameter gets none', async (t) => {
  const stack = await startStack(t, {
    backend: {
      login: { scope: 'openid offline_access', resources: [STOCKS], params: { state: 'mine', audience: 'x' } },
    },
  });
  const q = new URL((await stack.browser().fetch('/auth/login')).headers.get('location') ?? '').searchParams;
  t.not(q.get('state'), 'mine');
  t.is(q.getAll('state').length, 1);
  t.is(q.get('audience'), 'x');
  t.is(q.get('scope'), 'openid offline_access');
  t.deepEqual(q.getAll('resource'), [STOCKS]);

  // An AS whose metadata does not say claims_parameter_supported (OIDC Discovery §3: false by default).
  const fake = await startFakeAs(t);
  const { user } = await againstFake(t, fake);
  const without = new URL((await user.fetch('/auth/login')).headers.get('location') ?? '').searchParams;
  t.truthy(without.get('state'));
  t.false(without.has('claims'));
});

test('D12: the new session holds the user’s claims from the ID token and userinfo, not the ID token’s protocol claims; its sid comes from the ID token', async (t) => {
  const stack = await startStack(t);
  const user = stack.browser();
  t.is((await user.signIn({ persona: 'alice' })).status, 303);
  const id = await stack.sessionId(user);
  const session = await stack.backend.store.get<{ claims: Record<string, unknown>; sid: string }>(
    `session:${user.sessionCookie().key}`,
  );
  t.is(session?.sid, id);
  const claims = session?.claims ?? {};
  t.like(claims, { iss: stack.as.issuer, sub: 'alice', email: 'alice@example.com', name: 'Alice Adams' });
  t.is(typeof claims.auth_time, 'number');
  for (const name of ['aud', 'azp', 'nonce', 'at_hash', 'c_hash', 's_hash', 'iat', 'exp', 'nbf', 'jti', 'sid']) {
    t.false(name in claims, name);
  }
  // The grant knows which AS session it rode on (the ID token's sid, OIDC Back-Channel Logout §2.4).
  const grant = JSON.stringify(await stack.backend.store.get(`grant:${id}`));
  t.regex(grant, new RegExp(stack.as.issuer.replace(/[.:/]/g, '\\$&')));
});

test('D12: against an AS whose ID token carries every protocol claim and no sid, the session keeps none of them, and the grant knows its AS session by user and auth_time', async (t) => {
  const protocol = { azp: 'bff', at_hash: 'x', c_hash: 'y', s_hash: 'z', nbf: 1, jti: 'id-1', acr: 'urn:mace:x' };
  const fake = await startFakeAs(t, { idTokenClaims: protocol });
  const { user, backend, signIn: signInAtFake } = await againstFake(t, fake);
  t.is((await signInAtFake()).status, 303);
  const session = await backend.store.get<{ sid: string; claims: Record<string, unknown> }>(
    `session:${user.sessionCookie().key}`,
  );
  const claims = session?.claims ?? {};
  // The fake has no userinfo endpoint: the ID token's user claims are all there is, and they are kept.
  t.like(claims, { iss: fake.issuer, sub: 'alice', name: 'Alice', acr: 'urn:mace:x' });
  t.is(typeof claims.auth_time, 'number');
  for (const name of ['aud', 'nonce', 'iat', 'exp', ...Object.keys(protocol).filter((n) => n !== 'acr')]) {
    t.false(name in claims, name);
  }
  const grant = await backend.store.get<{ as_session?: string }>(`grant:${session?.sid}`);
  t.is(grant?.as_session, `auth_time ${fake.issuer} alice ${claims.auth_time}`);
});

test('a new sign-in in the same browser replaces its session: a new session id, and the old grant is revoked at the AS', async (t) => {
  const lines: string[] = [];
  const stack = await startStack(t, { backend: { log: logLines(lines) } });
  const user = stack.browser();
  await user.signIn({ persona: 'alice' });
  const first = user.sessionCookie().key;
  const firstId = await stack.sessionId(user);
  t.is((await user.token({ resource: STOCKS, scope: 'stocks:read' })).status, 200);
  const revoked = once(stack.as.provider, 'grant.revoked');

  // Bob signs in on the same browser, in an AS session of his own (alice's would be reused otherwise).
  const start = await user.fetch('/auth/login');
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'bob' });
  t.is((await user.fetch(callback.pathname + callback.search)).status, 303);
  await revoked;
  t.not(user.sessionCookie().key, first, 'a fresh cookie value');
  t.not(await stack.sessionId(user), firstId, 'a fresh session id');
  t.is(await stack.backend.store.get(`session:${first}`), undefined, 'the old cookie opens nothing');
  t.is(await stack.backend.store.get(`grant:${firstId}`), undefined, 'the old grant is forgotten');
  t.like((await user.sessionInfo()).body, { sub: 'bob' });
  t.is((await user.token({ resource: SERVICE_A, scope: 'a' })).status, 200);
  t.true(
    lines.some((l) => l.includes('grant.revoked (replaced by a new sign-in)')),
    lines.join('\n'),
  );
});

test('RFC 6749 §4.1.2.1: an error from the AS (the user denies consent) is a 400 page that relays it; no session is made', async (t) => {
  const lines: string[] = [];
  const stack = await startStack(t, { backend: { log: logLines(lines) } });
  const user = stack.browser();
  const start = await user.fetch('/auth/login');
  const callback = await signIn(start.headers.get('location') ?? '', {
    persona: 'alice',
    jar: user.jar,
    consent: 'deny',
  });
  t.is(callback.searchParams.get('error'), 'access_denied');
  const res = await user.fetch(callback.pathname + callback.search);
  t.is(res.status, 400);
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  const page = await res.text();
  t.regex(page, /Sign-in did not complete/);
  t.regex(page, new RegExp(`access_denied: ${callback.searchParams.get('error_description')}</p>`));
  t.true(
    lines.some((l) => l.includes('auth.callback error: access_denied')),
    lines.join('\n'),
  );
  t.like((await user.sessionInfo()).body, { error: 'invalid_session' });

  // An error without a description: the code alone, nothing made up.
  const other = stack.browser();
  const started = new URL((await other.fetch('/auth/login')).headers.get('location') ?? '');
  const bare = new URLSearchParams({
    error: 'login_required',
    state: started.searchParams.get('state') ?? '',
    iss: stack.as.issuer,
  });
  const answered = await other.fetch(`/auth/callback?${bare}`);
  t.is(answered.status, 400);
  t.regex(await answered.text(), /<p role="alert">login_required: <\/p>/);
});

test('D6: an AS that is down at sign-in or at the callback gives a page that says so, never a 500', async (t) => {
  const lines: string[] = [];
  const stack = await startStack(t, { backend: { log: logLines(lines) } });
  const user = stack.browser();
  const start = await user.fetch('/auth/login');
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: user.jar });
  // The code redemption fails: the AS drops the connection.
  stack.interceptAs(async (req) => {
    if (req.url?.includes('/token')) {
      req.socket.destroy();
      return true;
    }
    return false;
  });
  const res = await user.fetch(callback.pathname + callback.search);
  t.is(res.status, 400);
  const page = await res.text();
  t.regex(page, /Sign-in did not complete/);
  t.regex(page, /could not be reached; try again shortly/);
  t.like((await user.sessionInfo()).body, { error: 'invalid_session' });
  // The log says what failed, and how: the reason, then the detail.
  t.true(
    lines.some((l) => /auth\.callback error: unreachable: \S/.test(l)),
    lines.join('\n'),
  );

  // Discovery fails on a fresh backend: 503, naming what is wrong.
  const down = await startStack(t);
  await down.as.close();
  const login = await down.browser().fetch('/auth/login');
  t.is(login.status, 503);
  const text = await login.text();
  t.regex(text, /The sign-in server is not reachable/);
  t.regex(text, /Is it running\?/);
  t.false(cookiesOf(login).has('bff-login'), 'no transaction without an authorization request');
});

test('no refresh token although offline_access was asked: the log line says the AS declined, and names prompt=consent', async (t) => {
  const lines: string[] = [];
  const stack = await startStack(t, {
    backend: {
      log: logLines(lines),
      login: { scope: 'openid profile offline_access stocks:read', resources: [STOCKS] },
    },
  });
  const user = stack.browser();
  t.is((await user.signIn({ persona: 'carol' })).status, 303);
  const line = lines.find((l) => l.startsWith('auth.no_refresh_token'));
  t.truthy(line, lines.join('\n'));
  t.regex(line ?? '', /BFF_SCOPE asks for offline_access, so the AS declined/);
  t.regex(line ?? '', new RegExp(`scope "${stack.backend.config.login.scope}"`));
  t.is(lines.filter((l) => l.startsWith('auth.no_refresh_token')).length, 1);
  t.like((await user.sessionInfo()).body, { sub: 'carol' });
  // Everyone else gets one: no such line.
  const before = lines.length;
  await stack.browser().signIn({ persona: 'alice' });
  t.false(lines.slice(before).some((l) => l.startsWith('auth.no_refresh_token')));
});

test('D5: the login transaction cookie is read only with its signature: another transaction’s id, or no signature, finds nothing and leaves that transaction alone', async (t) => {
  const stack = await startStack(t);
  const host = new URL(stack.origin).hostname;
  const victim = stack.browser();
  const victimStart = await victim.fetch('/auth/login');
  const victimId = victim.jar.get(host, 'bff-login') ?? '';
  const attacker = stack.browser();
  const start = await attacker.fetch('/auth/login');
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: attacker.jar });
  const own = attacker.jar.get(host, 'bff-login') ?? '';
  const ownSig = attacker.jar.get(host, 'bff-login.sig') ?? '';

  // The victim's transaction id under the attacker's own signature; then the own id with no signature.
  for (const [id, sig] of [
    [victimId, ownSig],
    [own, ''],
  ] as const) {
    attacker.jar.set(host, 'bff-login', id);
    attacker.jar.set(host, 'bff-login.sig', sig);
    const res = await attacker.fetch(callback.pathname + callback.search);
    t.is(res.status, 400);
    t.regex(await res.text(), /This sign-in link has expired/);
  }
  t.truthy(await storedTransaction(stack, victimId), "the victim's transaction is untouched");
  t.truthy(await storedTransaction(stack, own), 'an unsigned cookie takes nothing either');
  t.is(victimStart.status, 303);
});

test('D5 over https: a whole sign-in clears the __Host- login cookie with the attributes that set it', async (t) => {
  const { stack } = await httpsStack(t);
  const proto = { 'x-forwarded-proto': 'https' };
  const user = stack.browser();
  const start = await user.fetch('/auth/login', { headers: proto });
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: user.jar });
  const landed = await user.fetch(callback.pathname + callback.search, { headers: proto });
  t.is(landed.status, 303);
  const cleared = cookiesOf(landed).get('__Host-bff-login');
  t.is(cleared?.value, '');
  t.true(cleared?.attributes.has('secure'), 'a __Host- cookie is only cleared by a Secure Set-Cookie');
  t.is(cleared?.attributes.get('path'), '/');
  t.true(cleared?.attributes.has('httponly'));
  t.is(cleared?.attributes.get('samesite'), 'lax');
});

test('D13: a consent that comes back after sign-out changes nothing, says why in the page and the log, and revokes the grant it brought', async (t) => {
  const lines: string[] = [];
  const stack = await startStack(t, { backend: { log: logLines(lines) } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const start = await alice.fetch(`/auth/consent?${CONSENT_A}`);
  t.is(start.status, 303);
  const out = await alice.fetch('/auth/logout', { method: 'POST', headers: { origin: stack.origin } });
  t.is(out.status, 303);
  const revoked = once(stack.as.provider, 'grant.revoked');
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: alice.jar });
  const back = await alice.fetch(callback.pathname + callback.search);
  t.is(back.status, 400);
  const page = await back.text();
  t.regex(page, /Your session changed/);
  t.regex(page, /You signed out or in again while the sign-in server was asking for consent, so nothing was changed\./);
  t.true(
    lines.some((l) => l.includes('auth.callback refused: the session changed during consent')),
    lines.join('\n'),
  );
  await revoked;
  t.like((await alice.sessionInfo()).body, { error: 'invalid_session' });
});

test('D13: consent answered as someone else is logged with both names', async (t) => {
  const lines: string[] = [];
  const stack = await startStack(t, { backend: { log: logLines(lines) } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  t.is((await consentAs(alice, 'bob', CONSENT_A)).status, 400);
  t.true(
    lines.some((l) => l.includes('auth.callback refused: consent signed in as bob, the session belongs to alice')),
    lines.join('\n'),
  );
});

test('OIDC Core §5.4: userinfo adds the user’s claims, but never replaces the ID token’s iss or sub', async (t) => {
  const fake = await startFakeAs(t, {
    userinfo: { sub: 'alice', iss: 'https://elsewhere.example', email: 'alice@example.com', name: 'Alice A.' },
  });
  const { user, backend, signIn: signInAtFake } = await againstFake(t, fake);
  t.is((await signInAtFake()).status, 303);
  const session = await backend.store.get<{ claims: Record<string, unknown> }>(`session:${user.sessionCookie().key}`);
  t.like(session?.claims, { iss: fake.issuer, sub: 'alice', email: 'alice@example.com', name: 'Alice A.' });
});

test('D12: an ID token with neither sid nor auth_time leaves the grant without an AS session, and the session without auth_time', async (t) => {
  const fake = await startFakeAs(t, { idTokenClaims: { auth_time: undefined } });
  const { user, backend, signIn: signInAtFake } = await againstFake(t, fake);
  t.is((await signInAtFake()).status, 303);
  const session = await backend.store.get<{ sid: string; claims: Record<string, unknown> }>(
    `session:${user.sessionCookie().key}`,
  );
  t.like(session?.claims, { iss: fake.issuer, sub: 'alice' });
  t.false('auth_time' in (session?.claims ?? {}));
  const grant = await backend.store.get<Record<string, unknown>>(`grant:${session?.sid}`);
  t.truthy(grant?.refresh_token);
  t.false('as_session' in (grant ?? {}), 'nothing to know the AS session by');
});

test('D13: consent keeps the grant record until the session ends, not longer', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const key = `session:${alice.sessionCookie().key}`;
  const session = await stack.backend.store.get<{ sid: string; expires_at: number }>(key);
  t.is((await consentAs(alice, 'alice', CONSENT_A, { sameAsSession: true })).status, 303);
  const grant = await stack.backend.store.get<{ scope: string; ends_at: number }>(`grant:${session?.sid}`);
  t.true(grant?.scope.split(' ').includes('a'), grant?.scope);
  const expiresAt = session?.expires_at ?? Number.NaN;
  t.true(Math.abs((grant?.ends_at ?? 0) - expiresAt) < 1000, `ends ${grant?.ends_at}, session ${expiresAt}`);
});

test('D13: consent answered for the same sub by another issuer is someone else, and each name says its issuer', async (t) => {
  const lines: string[] = [];
  const stack = await startStack(t, { backend: { log: logLines(lines) } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  // A session kept in the store from before the backend's issuer changed.
  const key = `session:${alice.sessionCookie().key}`;
  const session = await stack.backend.store.get<{ claims: Record<string, unknown> }>(key);
  const old = 'https://old-issuer.example';
  await stack.backend.store.set(key, { ...session, claims: { ...session?.claims, iss: old } }, 3600_000);
  const back = await consentAs(alice, 'alice', CONSENT_A, { sameAsSession: true });
  t.is(back.status, 400);
  const page = await back.text();
  t.regex(page, /You signed in as someone else/);
  t.true(
    page.includes(
      `This session belongs to alice at ${old}, but the sign-in server answered for alice at ${stack.as.issuer}.`,
    ),
    page,
  );
  t.true(
    lines.some((l) =>
      l.includes(
        `auth.callback refused: consent signed in as alice at ${stack.as.issuer}, the session belongs to alice at ${old}`,
      ),
    ),
    lines.join('\n'),
  );
  t.like((await alice.sessionInfo()).body, { sub: 'alice' });
});
