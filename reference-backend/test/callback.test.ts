/**
 * The callback's checks (RFC 9700 §2.1, §4.7): a response whose `state` is not the transaction's is
 * refused, and a login transaction is used once.
 */
import { signIn } from '@tmi-bff/mock-as/testing';
import test from 'ava';
import { STOCKS, startStack } from './_setup.js';

test("RFC 9700 §4.7: a callback whose state is not the login transaction's is refused, and no session is made", async (t) => {
  const stack = await startStack(t);
  const user = stack.browser();
  const start = await user.fetch('/auth/login');
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: user.jar });
  callback.searchParams.set('state', 'forged');
  const res = await user.fetch(callback.pathname + callback.search);
  t.is(res.status, 400);
  t.regex(await res.text(), /Sign-in did not complete/);
  t.like((await user.sessionInfo()).body, { error: 'invalid_session' });
  t.deepEqual(
    stack.grants.map((g) => g.grant_type),
    [],
    'the code was never sent to the AS',
  );
});

test('a login transaction is used once: the same callback replayed with its cookie finds nothing, and the session it made keeps working', async (t) => {
  const stack = await startStack(t);
  const user = stack.browser();
  const start = await user.fetch('/auth/login');
  const loginCookie = user.jar.get('127.0.0.1', 'bff-login') ?? '';
  const loginSig = user.jar.get('127.0.0.1', 'bff-login.sig') ?? '';
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: user.jar });
  const first = await user.fetch(callback.pathname + callback.search);
  t.is(first.status, 303);

  // The browser (or an attacker with its cookie) sends the same callback again.
  user.jar.set('127.0.0.1', 'bff-login', loginCookie);
  user.jar.set('127.0.0.1', 'bff-login.sig', loginSig);
  const replay = await user.fetch(callback.pathname + callback.search);
  t.is(replay.status, 400);
  t.regex(await replay.text(), /This sign-in link has expired/);
  t.deepEqual(
    stack.grants.map((g) => g.grant_type),
    ['authorization_code'],
    'the code was redeemed once: a second redemption would make the AS revoke the grant',
  );
  t.is((await user.token({ resource: STOCKS, scope: 'stocks:read' })).status, 200);
});

test('two callbacks racing with the same login transaction: one signs in, the other finds nothing; the code is redeemed once', async (t) => {
  const stack = await startStack(t);
  const user = stack.browser();
  const start = await user.fetch('/auth/login');
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: user.jar });
  const cookie = user.jar.header(new URL(callback.pathname, stack.origin));
  const url = new URL(callback.pathname + callback.search, stack.origin);
  // Make the race certain: the first read of the transaction waits until the second callback has
  // arrived at the server. Taken under a lock, the second then finds nothing; read and deleted in two
  // unguarded steps, both would find it.
  let arrivals = 0;
  let secondArrived!: () => void;
  const second = new Promise<void>((resolve) => {
    secondArrived = resolve;
  });
  stack.server.on('request', () => {
    arrivals += 1;
    if (arrivals === 2) secondArrived();
  });
  const store = stack.backend.store;
  const get = store.get.bind(store);
  let reads = 0;
  store.get = async <T>(key: string): Promise<T | undefined> => {
    if (key.startsWith('login:')) {
      reads += 1;
      if (reads === 1) await second;
    }
    return get<T>(key);
  };
  const both = await Promise.all([1, 2].map(() => fetch(url, { headers: { cookie }, redirect: 'manual' })));
  t.deepEqual(both.map((r) => r.status).sort(), [303, 400]);
  const loser = both.find((r) => r.status === 400);
  t.regex((await loser?.text()) ?? '', /This sign-in link has expired/, 'the loser never reached the AS');
  t.deepEqual(
    stack.grants.map((g) => g.grant_type),
    ['authorization_code'],
  );
  const winner = both.find((r) => r.status === 303);
  const session = winner?.headers.getSetCookie().find((c) => c.startsWith('bff-session=')) ?? '';
  const sig = winner?.headers.getSetCookie().find((c) => c.startsWith('bff-session.sig=')) ?? '';
  const info = await fetch(new URL('/.well-known/bff-token', stack.origin), {
    headers: { 'TMI-BFF-CSRF': '1', cookie: `${session.split(';')[0]}; ${sig.split(';')[0]}` },
  });
  t.is(info.status, 200, 'the session that won keeps a working grant');
});

test('no refresh token at sign-in: sign-in succeeds, one auth.no_refresh_token line names the fix, bff-token answers remediation configuration', async (t) => {
  const logs: string[] = [];
  const stack = await startStack(t, { backend: { log: (line) => logs.push(line) } });
  const carol = stack.browser();
  const done = await carol.signIn({ persona: 'carol' });
  t.is(done.status, 303, 'signed in');
  // bff-sessioninfo says so before the app asks for a token (D13).
  const info = await carol.sessionInfo();
  t.like(info.body, {
    sub: 'carol',
    tokens_unavailable: {
      error: 'backend_not_ready',
      remediation: 'configuration',
      error_description:
        'the authorization server issued no refresh token at sign-in: the backend cannot get tokens for this session (see the backend log: auth.no_refresh_token)',
    },
  });
  const lines = logs.filter((l) => l.startsWith('auth.no_refresh_token'));
  t.is(lines.length, 1);
  // The demo scope does not ask for offline_access: the line says to, and names the other setting that can help.
  t.regex(lines[0] ?? '', /issued no refresh token at sign-in/);
  t.regex(
    lines[0] ?? '',
    /add offline_access to BFF_SCOPE; some ASes \(e\.g\. oidc-provider\) also need prompt=consent in BFF_AUTHORIZATION_PARAMS/,
  );
  t.like((await carol.token({ resource: STOCKS })).body, {
    error: 'backend_not_ready',
    remediation: 'configuration',
  });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  t.is(logs.filter((l) => l.startsWith('auth.no_refresh_token')).length, 1, 'a sign-in with a refresh token logs none');
  t.false('tokens_unavailable' in (await alice.sessionInfo()).body, 'alice holds a refresh token');
});

test('BFF_AUTHORIZATION_PARAMS: the authorization request carries the configured parameters after the backend’s own; consent keeps its prompt', async (t) => {
  const stack = await startStack(t);
  const configured = await startStack(t, {
    backend: { login: { ...stack.backend.config.login, params: { ui_locales: 'fr', prompt: 'login' } } },
  });
  const user = configured.browser();
  const start = new URL((await user.fetch('/auth/login')).headers.get('location') ?? '');
  t.is(start.searchParams.get('ui_locales'), 'fr');
  t.is(start.searchParams.get('prompt'), 'login');
  t.is(start.searchParams.get('code_challenge_method'), 'S256', 'the backend’s own parameters are all there');
  t.truthy(start.searchParams.get('state'));
  const own = [...start.searchParams.keys()].filter((k) => k !== 'client_id' && k !== 'response_type');
  t.deepEqual(own.slice(-2), ['ui_locales', 'prompt'], 'after the backend’s own');
  await user.signIn({ persona: 'alice' });
  const consent = new URL(
    (await user.fetch(`/auth/consent?scope=stocks:read&returnTo=/`)).headers.get('location') ?? '',
  );
  t.is(consent.searchParams.get('prompt'), 'consent', 'consent asks for consent, whatever the setting says');
  t.is(consent.searchParams.get('ui_locales'), 'fr');
});
