/**
 * The scenario knobs (admin.ts) against the real mock AS with its faults enabled: each knob's effect
 * is seen through bff-token or bff-sessioninfo, as a frontend would see it.
 */
import { once } from 'node:events';
import { CSRF_HEADER } from '@tmi-bff/koa';
import test, { type ExecutionContext } from 'ava';
import { ADMIN_PATHS } from '../src/admin.js';
import { configFromEnv, createBackend } from '../src/index.js';
import {
  type BffResponse,
  demoConfig,
  SESSION_COOKIE,
  STOCKS,
  type Stack,
  startStack,
  type UserAgent,
} from './_setup.js';

/** The settings mock mode needs, as npm run dev passes them. */
const MOCK_ENV = { BFF_ISSUER: 'http://127.0.0.1:4000', BFF_CLIENT_ID: 'bff', BFF_CLIENT_SECRET: 's' };

async function mockStack(t: ExecutionContext, tokens: { asTimeoutMs?: number } = {}): Promise<Stack> {
  return startStack(t, { backend: { mock: { enabled: true }, tokens }, as: { faults: { enabled: true } } });
}

const knob = (user: UserAgent, path: string, body?: unknown): Promise<BffResponse> =>
  user.bff(`/_mock${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });

const stocks = (user: UserAgent) => user.token({ resource: STOCKS, scope: 'stocks:read' });

async function signedIn(t: ExecutionContext, persona = 'alice', tokens: { asTimeoutMs?: number } = {}) {
  const stack = await mockStack(t, tokens);
  const user = stack.browser();
  await user.signIn({ persona });
  return { stack, user };
}

test('mock mode off: every admin path answers, for every method, the 404 of any unknown path', async (t) => {
  const stack = await startStack(t);
  const call = async (path: string, method: string) => {
    const res = await fetch(`${stack.origin}${path}`, {
      method,
      headers: { [CSRF_HEADER]: '1', 'content-type': 'application/json' },
      ...(['GET', 'HEAD'].includes(method) ? {} : { body: '{}' }),
    });
    const headers = Object.fromEntries(
      [...res.headers].filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name)),
    );
    return { status: res.status, headers, body: await res.text() };
  };
  for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
    const unknown = await call('/no-such-path', method);
    t.is(unknown.status, 404);
    for (const path of [...ADMIN_PATHS, '/_mock', '/_mock/']) {
      const answer = await call(path, method);
      t.deepEqual(answer, unknown, `${method} ${path}`);
      t.false(
        /mock|knob|admin/i.test(answer.body + JSON.stringify(answer.headers)),
        `${method} ${path} says nothing of the admin API`,
      );
    }
  }
});

test('mock mode is refused with an https origin or a non-loopback issuer, naming BFF_MOCK', async (t) => {
  const stack = await startStack(t);
  const demo = demoConfig(stack.seed, stack.origin, stack.as.issuer);
  for (const [origin, issuer] of [
    ['https://localhost:3000', stack.as.issuer],
    ['http://app.example.com', stack.as.issuer],
    [stack.origin, 'https://as.example.com'],
    [stack.origin, 'http://10.0.0.8:4000'],
  ] as const) {
    await t.throwsAsync(createBackend({ ...demo, origin, issuer, mock: { enabled: true }, log: () => {} }), {
      instanceOf: TypeError,
      message: /^BFF_MOCK \(mock mode\) is for local development only/,
    });
  }
});

test('BFF_MOCK=1 with a listen address beyond loopback is refused, naming BFF_MOCK and BFF_HOST', (t) => {
  for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
    t.throws(() => configFromEnv({ ...MOCK_ENV, BFF_MOCK: '1', BFF_HOST: host }, '/tmp/x'), {
      instanceOf: TypeError,
      message: new RegExp(
        `^BFF_MOCK \\(mock mode\\) is for local development only: BFF_HOST ${host.replace(/\./g, '\\.')} is not`,
      ),
    });
  }
  t.deepEqual(configFromEnv({ ...MOCK_ENV, BFF_MOCK: '1', BFF_HOST: '127.0.0.1' }, '/tmp/x').config.mock, {
    enabled: true,
  });
  t.is(configFromEnv({ ...MOCK_ENV, BFF_HOST: '0.0.0.0' }, '/tmp/x').config.mock, undefined);
});

test('D4: the admin API refuses a call without the CSRF header, from another site, or from another origin', async (t) => {
  const { stack, user } = await signedIn(t);
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ [CSRF_HEADER]: '' }, /TMI-BFF-CSRF request header is required/],
    [{ 'sec-fetch-site': 'cross-site' }, /cross-site request is refused/],
    [{ origin: 'http://evil.example' }, /origin http:\/\/evil\.example are refused/],
  ];
  for (const path of ADMIN_PATHS) {
    for (const [headers, description] of cases) {
      const res = await user.bff(path, { method: path === '/_mock/state' ? 'GET' : 'POST', headers });
      t.is(res.status, 400, path);
      t.is(res.body.error, 'invalid_session', path);
      t.regex(String(res.body.error_description), description, path);
      t.is(res.headers.get('cache-control'), 'no-store');
    }
  }
  // Nothing was done: the cached token is still served.
  t.is((await stocks(user)).headers.get('tmi-bff-token-source'), 'refresh');
  t.is((await stocks(user)).headers.get('tmi-bff-token-source'), 'cache');
  t.true(stack.grants.every((g) => g.ok));
});

test('the session knobs need the session of the cookie: without one, invalid_session', async (t) => {
  const stack = await mockStack(t);
  const stranger = stack.browser();
  for (const path of ['/session/expire-tokens', '/session/lifetime', '/session/revoke-grant', '/session/persona']) {
    const res = await knob(stranger, path, { seconds: 10, persona: 'bob' });
    t.is(res.status, 400, path);
    t.deepEqual(res.body, { error: 'invalid_session', error_description: 'no valid session: sign in first' });
  }
  const state = await stranger.bff('/_mock/state');
  t.is(state.status, 200);
  t.deepEqual(state.body, { mock: true, session: null, as: { down: false, fail: null } });
});

test('bad bodies are 400 JSON errors, never a 500', async (t) => {
  const { user } = await signedIn(t);
  const raw = (path: string, body: string, type = 'application/json') =>
    user.bff(`/_mock${path}`, { method: 'POST', headers: { 'content-type': type }, body });
  const cases: Array<[string, Promise<BffResponse>, RegExp]> = [
    ['not JSON', raw('/session/lifetime', '{seconds:'), /not valid JSON/],
    ['not an object', raw('/session/lifetime', '[1]'), /must be a JSON object/],
    [
      'not application/json',
      raw('/session/lifetime', 'seconds=1', 'application/x-www-form-urlencoded'),
      /application\/json/,
    ],
    ['too large', raw('/as/fail', JSON.stringify({ count: 1, error: 'x'.repeat(2000) })), /over 1024 bytes/],
    ['seconds as text', raw('/session/lifetime', '{"seconds":"10"}'), /seconds must be a number/],
    ['persona as a number', raw('/session/persona', '{"persona":7}'), /persona must be/],
    ['count missing', raw('/as/fail', '{"error":"invalid_grant"}'), /count is required/],
    ['count negative', raw('/as/fail', '{"count":-1,"error":"invalid_grant"}'), /count must be an integer/],
    ['status out of range', raw('/as/fail', '{"count":1,"status":200}'), /status must be an integer from 400/],
    ['error with a quote', raw('/as/fail', '{"count":1,"error":"a\\"b"}'), /error must be a string/],
    ['nothing to fail with', raw('/as/fail', '{"count":1}'), /name an error, a status or a delayMs/],
    ['unknown member', raw('/as/fail', '{"count":1,"error":"x","colour":"red"}'), /unknown member: colour/],
  ];
  for (const [what, pending, description] of cases) {
    const res = await pending;
    t.is(res.status, 400, what);
    t.is(res.body.error, 'invalid_request', what);
    t.regex(String(res.body.error_description), description, what);
    t.is(res.headers.get('content-type'), 'application/json;charset=UTF-8', what);
  }
  const wrongMethod = await user.bff('/_mock/as/down');
  t.is(wrongMethod.status, 405);
  t.is(wrongMethod.headers.get('allow'), 'POST');
});

test('expire-tokens: the next bff-token goes to the AS (source refresh, not cache)', async (t) => {
  const { user } = await signedIn(t);
  t.is((await stocks(user)).headers.get('tmi-bff-token-source'), 'refresh');
  t.is((await stocks(user)).headers.get('tmi-bff-token-source'), 'cache');
  const expired = await knob(user, '/session/expire-tokens');
  t.is(expired.status, 200);
  t.true(Number(expired.body.expired) >= 1);
  const next = await stocks(user);
  t.is(next.status, 200);
  t.is(next.headers.get('tmi-bff-token-source'), 'refresh');
});

test('lifetime: the session’s exp moves; at 0 the next call is invalid_session', async (t) => {
  const { user } = await signedIn(t);
  const before = Number((await user.sessionInfo()).body.exp);
  const set = await knob(user, '/session/lifetime', { seconds: 120 });
  t.is(set.status, 200);
  const exp = Number((await user.sessionInfo()).body.exp);
  t.is(set.body.exp, exp);
  t.true(before - exp > 3000, 'an hour-long session now ends in two minutes');
  t.true(Math.abs(exp - (Date.now() / 1000 + 120)) < 3);
  const state = await user.bff('/_mock/state');
  t.like(state.body, { session: { sub: 'alice', exp } });

  t.is((await knob(user, '/session/lifetime', { seconds: 0 })).status, 200);
  const info = await user.sessionInfo();
  t.is(info.status, 400);
  t.is(info.body.error, 'invalid_session');
  t.is((await stocks(user)).body.error, 'invalid_session');
});

test('revoke-grant: the next bff-token relays the AS’s invalid_grant, the one after is backend_not_ready', async (t) => {
  const { stack, user } = await signedIn(t);
  t.is((await stocks(user)).status, 200);
  const revoked = await knob(user, '/session/revoke-grant');
  t.is(revoked.status, 200);
  t.deepEqual(revoked.body, { revoked: true });
  const relayed = await stocks(user);
  t.is(relayed.status, 400);
  t.is(relayed.body.error, 'invalid_grant');
  t.is(stack.grants.at(-1)?.error, 'invalid_grant', 'the AS itself refused it');
  const after = await stocks(user);
  t.is(after.status, 400);
  t.is(after.body.error, 'backend_not_ready');
  t.is((await user.sessionInfo()).status, 200, 'the session is kept');
});

test('as/fail invalid_grant ×1: relayed as such, answered before the grant, so the refresh token is not spent', async (t) => {
  const { stack, user } = await signedIn(t);
  const presented = (await stack.backend.tokens.getGrant(await stack.sessionId(user)))?.refresh_token ?? '';
  const injected = await knob(user, '/as/fail', { count: 1, error: 'invalid_grant', error_description: 'injected' });
  t.is(injected.status, 200);
  t.deepEqual(injected.body, {
    down: false,
    fail: { remaining: 1, error: 'invalid_grant', error_description: 'injected', status: 400 },
  });
  const failed = await stocks(user);
  t.is(failed.status, 400);
  t.deepEqual(failed.body, { error: 'invalid_grant', error_description: 'injected' });
  t.is(failed.headers.get('cache-control'), 'no-store');
  t.deepEqual(stack.grants, [{ grant_type: 'authorization_code', ok: true }], 'oidc-provider never saw the request');
  const atAs = await stack.as.provider.RefreshToken.find(presented);
  t.true(atAs?.isValid, 'the presented refresh token is still unspent at the AS');
  t.like((await user.bff('/_mock/state')).body, { as: { fail: null } });
  // As after a real invalid_grant, the backend forgot the refresh token: sign in again, then it works.
  t.is((await stocks(user)).body.error, 'backend_not_ready');
  await user.signIn({ persona: 'alice' });
  const ok = await stocks(user);
  t.is(ok.status, 200, JSON.stringify(ok.body));
});

test('as/fail temporarily_unavailable ×2: both relayed; the next request after the injection is spent succeeds, each refresh token spent once', async (t) => {
  const { stack, user } = await signedIn(t);
  const injected = await knob(user, '/as/fail', { count: 2, error: 'temporarily_unavailable', status: 503 });
  t.like(injected.body, { fail: { remaining: 2, status: 503 } });
  for (const attempt of [1, 2]) {
    const failed = await stocks(user);
    t.is(failed.status, 400, `attempt ${attempt}`);
    t.is(failed.body.error, 'temporarily_unavailable', `attempt ${attempt}`);
  }
  const ok = await stocks(user);
  t.is(ok.status, 200, JSON.stringify(ok.body));
  t.is(ok.headers.get('tmi-bff-token-source'), 'refresh');
  const next = await user.token({ resource: STOCKS, scope: 'stocks:read', fresh: '1' });
  t.is(next.status, 200, JSON.stringify(next.body));
  const spent = stack.grants.filter((g) => g.refresh_token).map((g) => [g.refresh_token, g.ok]);
  t.is(spent.length, 2);
  t.true(spent.every(([, ok]) => ok));
  t.is(new Set(spent.map(([token]) => token)).size, 2, 'no refresh token reached oidc-provider twice');
});

test('as/fail with status 503 and no error: temporarily_unavailable, and the session keeps its token', async (t) => {
  const { user } = await signedIn(t);
  t.is((await knob(user, '/as/fail', { count: 1, status: 503 })).status, 200);
  const failed = await stocks(user);
  t.is(failed.status, 400);
  t.is(failed.body.error, 'temporarily_unavailable');
  t.regex(String(failed.body.error_description), /HTTP 503/);
  const ok = await stocks(user);
  t.is(ok.status, 200, JSON.stringify(ok.body));
  t.is(ok.headers.get('tmi-bff-token-source'), 'refresh');
});

test('as/fail with a delay beyond asTimeoutMs: temporarily_unavailable after about asTimeoutMs; the session is kept', async (t) => {
  // A bound with room: after the AS's own `grant.success` its answer is still on its way to the
  // backend, and the request below joins that flight, whose AS request is still out.
  const { stack, user } = await signedIn(t, 'alice', { asTimeoutMs: 1000 });
  t.is((await knob(user, '/as/fail', { count: 1, delayMs: 3000 })).status, 200);
  const late = once(stack.as.provider, 'grant.success');
  const started = Date.now();
  const slow = await stocks(user);
  const waited = Date.now() - started;
  t.is(slow.status, 400);
  t.deepEqual(slow.body, {
    error: 'temporarily_unavailable',
    error_description: 'the authorization server did not answer in time; try again shortly',
  });
  t.true(waited >= 1000 && waited < 2900, `answered after ${waited} ms`);
  t.is((await user.sessionInfo()).status, 200, 'the session is kept');
  // The slow answer arrives in the end, and the backend keeps it.
  await late;
  const next = await stocks(user);
  t.is(next.status, 200, JSON.stringify(next.body));
});

test('as/down: temporarily_unavailable "could not be reached", the session kept; as/up: tokens again', async (t) => {
  const { user } = await signedIn(t);
  const down = await knob(user, '/as/down');
  t.deepEqual(down.body, { down: true, fail: null });
  const refused = await stocks(user);
  t.is(refused.status, 400);
  t.is(refused.body.error, 'temporarily_unavailable');
  t.regex(String(refused.body.error_description), /could not be reached/);
  t.is((await user.sessionInfo()).status, 200, 'the session is kept');
  t.like((await user.bff('/_mock/state')).body, { as: { down: true } });

  const up = await knob(user, '/as/up');
  t.deepEqual(up.body, { down: false, fail: null });
  const ok = await stocks(user);
  t.is(ok.status, 200, JSON.stringify(ok.body));
});

test('persona: a new session for bob through the real code flow; the old cookie is invalid_session', async (t) => {
  const { stack, user } = await signedIn(t);
  const oldCookie = user.sessionCookie().header;
  t.is((await user.sessionInfo()).body.sub, 'alice');
  const switched = await knob(user, '/session/persona', { persona: 'bob' });
  t.is(switched.status, 200);
  t.deepEqual(switched.body, { persona: 'bob' });
  const set = switched.headers.getSetCookie();
  t.true(set.some((c) => c.startsWith(`${SESSION_COOKIE}=`) && /httponly/i.test(c) && /samesite=strict/i.test(c)));
  t.not(user.sessionCookie().header, oldCookie);
  t.is((await user.sessionInfo()).body.sub, 'bob');
  t.is((await stocks(user)).status, 200);

  const old = await fetch(`${stack.origin}/.well-known/bff-sessioninfo`, {
    headers: { cookie: oldCookie, [CSRF_HEADER]: '1' },
  });
  t.is(old.status, 400);
  t.is(((await old.json()) as { error: string }).error, 'invalid_session');

  const unknown = await knob(user, '/session/persona', { persona: 'mallory' });
  t.is(unknown.status, 400);
  t.is(unknown.body.error, 'invalid_request');
  t.is((await user.sessionInfo()).body.sub, 'bob', 'a failed switch keeps the session');
});

test('an AS without faults enabled: the AS knobs say how to enable them, and the state still answers', async (t) => {
  const stack = await startStack(t, { backend: { mock: { enabled: true } } });
  const user = stack.browser();
  await user.signIn({ persona: 'alice' });
  const down = await knob(user, '/as/down');
  t.is(down.status, 400);
  t.is(down.body.error, 'invalid_request');
  t.regex(String(down.body.error_description), /has no control routes: start the mock AS with MOCK_AS_FAULTS=1/);
  const state = await user.bff('/_mock/state');
  t.is(state.status, 200);
  t.like(state.body, { session: { sub: 'alice' } });
  t.regex(String((state.body.as as { unavailable?: string }).unavailable), /MOCK_AS_FAULTS=1/);
  t.is((await stocks(user)).status, 200, 'the AS was never touched');
});
