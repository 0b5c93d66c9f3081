/**
 * Property-based fuzzing (fast-check) of mock mode, the development half of the stack: the backend's
 * scenario knobs (`/_mock/*`, admin.ts) and the mock AS's pages and routes (authorize, token,
 * end-session, the login and consent forms, its own `/_mock/...` control routes). Knobs change state
 * as they go (the AS goes down and up, sessions end, personas switch): whatever state a run leaves,
 * the next answer is never a 5xx and never shows a stack trace. A 5xx status knob (`status: 500`)
 * is a deliberate fault, not hostile input, so the generated bodies ask only for 4xx statuses.
 *
 * Settings: RELIABILITY_FUZZ_RUNS (default 10000; this file runs a fifth of it per test) and
 * RELIABILITY_FUZZ_SEED (default 20261201).
 */
import { CSRF_HEADER } from '@tmi-bff/koa';
import { fuzzRun, fuzzText, mostly, percentEncode } from '@tmi-bff/mock-as/testing/fuzz';
import { recordResult } from '@tmi-bff/store/testing';
import test from 'ava';
import fc from 'fast-check';
import { ADMIN_PATHS } from '../../src/admin.js';
import { SESSION_COOKIE as COOKIE, STOCKS, startStack } from '../_setup.js';
import { KeepAliveClient, type Reply, STACK_FRAME } from './_hostile.js';

const RUNS = Math.round(Number(process.env.RELIABILITY_FUZZ_RUNS ?? 10_000) / 5);
const SEED = Number(process.env.RELIABILITY_FUZZ_SEED ?? 20261201);
const BASIC = `Basic ${Buffer.from('bff:bff-dev-secret').toString('base64')}`;

const { printable, anyText } = fuzzText({ maxLength: 30, tricky: ['%', '%zz', '%00', ''] });
const form = (pairs: [string, string][]) => pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
/** A knob's JSON body: the members it reads, with good and bad values, or any JSON at all. */
const knobBody = fc.oneof(
  // /as/fail and /_mock/faults/fail
  fc
    .record(
      {
        count: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constantFrom(1.5, 1e9, '1', null)),
        error: fc.oneof(fc.constantFrom('invalid_grant', 'temporarily_unavailable'), anyText),
        error_description: anyText,
        status: fc.oneof(fc.integer({ min: 399, max: 499 }), fc.constantFrom(600, 0, '400', 4.5)),
        delayMs: fc.oneof(fc.integer({ min: -1, max: 20 }), fc.constantFrom(1e12, 'x')),
      },
      { requiredKeys: ['count'] },
    )
    .map((body) => JSON.stringify(body)),
  // /session/lifetime and /session/persona
  fc
    .record({ seconds: fc.oneof(fc.integer({ min: -5, max: 3600 }), fc.constantFrom(1e300, '60', null)) })
    .map((body) => JSON.stringify(body)),
  fc
    .record({ persona: mostly(fc.constantFrom('alice', 'bob'), fc.oneof(fc.constantFrom('nobody', '../x'), anyText)) })
    .map((body) => JSON.stringify(body)),
  fc.json({ maxDepth: 2 }),
  anyText,
);

/** Never a 5xx, never a stack trace. */
function check(res: Reply, what: string): void {
  if (res.status >= 500 || STACK_FRAME.test(res.body)) {
    throw new Error(`${what} → ${res.status}\n${res.body.slice(0, 500)}`);
  }
}

test(`hostile input: ${RUNS.toLocaleString('en')} fuzzed calls to the backend's mock-mode knobs (/_mock/*) never get a 5xx or a stack trace, always JSON`, async (t) => {
  t.timeout(60_000 + RUNS * 50);
  const stack = await startStack(t, { backend: { mock: { enabled: true } }, as: { faults: { enabled: true } } });
  stack.server.keepAliveTimeout = 60_000;
  stack.as.server.keepAliveTimeout = 60_000;
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  let own = alice.sessionCookie().header;
  let signIns = 1;
  const client = new KeepAliveClient(stack.origin);
  t.teardown(() => client.close());
  t.log(`seed ${SEED}, ${RUNS} runs (RELIABILITY_FUZZ_SEED, RELIABILITY_FUZZ_RUNS)`);

  // A knob with its own method, or another method or path.
  const route = mostly<[string, string]>(
    fc.constantFrom(...ADMIN_PATHS.map((path): [string, string] => [path.endsWith('/state') ? 'GET' : 'POST', path])),
    fc.tuple(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD'),
      fc.oneof(
        fc.constantFrom(...ADMIN_PATHS),
        // The event stream never ends: it is called without a session only, so that it answers at once.
        fc.constantFrom('/_mock', '/_mock/', '/_mock/flow', '/_mock/session', '/_mock/as/fail/x', '/_mock//state'),
        printable.map((s) => `/_mock/${percentEncode(s)}`),
      ),
    ),
  );
  const request = fc.record({
    route,
    body: knobBody,
    contentType: mostly(
      fc.constant('application/json'),
      fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', ''),
    ),
    // The session's cookie as it is now (a persona switch replaces it), or a forged one.
    cookie: mostly(
      fc.constant(undefined),
      fc.oneof(
        fc.constant(''),
        printable.map((v) => `${COOKIE}=${v}`),
      ),
    ),
    csrf: mostly(fc.constant('1'), fc.constant('')),
    fetchSite: fc.constantFrom('', 'same-origin', 'cross-site'),
  });

  const seen = new Map<number, number>();
  const { runs, ms } = await fuzzRun(request, { numRuns: RUNS, seed: SEED }, async (r) => {
    const [method, path] = r.route;
    const headers: Record<string, string> = {};
    const stream = path === '/_mock/flow';
    const cookie = r.cookie ?? own;
    if (cookie && !stream) headers.cookie = cookie;
    if (r.csrf) headers[CSRF_HEADER] = r.csrf;
    if (r.fetchSite) headers['sec-fetch-site'] = r.fetchSite;
    const hasBody = !['GET', 'HEAD'].includes(method);
    if (hasBody && r.contentType) headers['content-type'] = r.contentType;
    const res = await client.send({ method, path, headers, ...(hasBody ? { body: r.body } : {}) });
    check(res, `${method} ${path} ${hasBody ? r.body : ''}`);
    if (method !== 'HEAD' && res.status !== 404 && !res.headers['content-type']?.startsWith('application/json')) {
      throw new Error(`${method} ${path} → ${res.status} ${res.headers['content-type']}`);
    }
    seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
    // A persona switch gives the browser its new session; a session ended by a knob, a new sign-in.
    const set = [res.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0]);
    if (set.length === 2) own = set.join('; ');
    if (
      cookie === own &&
      res.body.includes('"invalid_session"') &&
      r.csrf &&
      r.fetchSite !== 'cross-site' &&
      !stack.as.faults?.state().down
    ) {
      const again = stack.browser();
      await again.signIn({ persona: 'alice' });
      own = again.sessionCookie().header;
      signIns += 1;
    }
  });
  const statuses = [...seen].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}×${v}`);
  t.log(`${ms} ms; ${signIns} sign-ins; ${statuses.join(', ')}`);
  t.is(runs, RUNS);
  for (const status of [200, 400, 404, 405]) t.true(seen.has(status), `some calls got ${status}`);
  // The AS is up again, and a new session works end to end.
  const json = { [CSRF_HEADER]: '1', 'content-type': 'application/json' };
  t.is((await client.send({ method: 'POST', path: '/_mock/as/up', headers: json, body: '{}' })).status, 200);
  t.is(
    (await client.send({ method: 'POST', path: '/_mock/as/fail', headers: json, body: '{"count":0,"status":400}' }))
      .status,
    200,
  );
  const bob = stack.browser();
  await bob.signIn({ persona: 'bob' });
  t.is((await bob.token({ resource: STOCKS, scope: 'stocks:read' })).status, 200);
  recordResult(t, {
    area: 'Hostile input',
    tried:
      'backend mock-mode knobs (/_mock/*): method, path, JSON body, content type, cookie and CSRF header, fuzzed with fast-check',
    cases: runs,
    figures: `0 5xx, 0 stack traces; statuses ${statuses.join(', ')}; seed ${SEED}`,
  });
});

test(`hostile input: ${RUNS.toLocaleString('en')} fuzzed requests to the mock AS (authorize, token, end-session, login and consent forms, /_mock control routes) never get a 5xx or a stack trace`, async (t) => {
  t.timeout(60_000 + RUNS * 50);
  const stack = await startStack(t, { as: { faults: { enabled: true } } });
  const as = stack.as;
  as.server.keepAliveTimeout = 60_000;
  const client = new KeepAliveClient(as.issuer);
  t.teardown(() => client.close());
  t.log(`seed ${SEED}, ${RUNS} runs (RELIABILITY_FUZZ_SEED, RELIABILITY_FUZZ_RUNS)`);
  // A live interaction at the login page, with its cookies.
  const user = stack.browser();
  const start = await user.fetch('/auth/login', { redirect: 'manual' });
  const authorize = new URL(start.headers.get('location') ?? '');
  const atLogin = await user.fetch(authorize.href, { redirect: 'manual' });
  const interaction = new URL(atLogin.headers.get('location') ?? '', as.issuer).pathname;
  t.regex(interaction, /^\/interaction\/[\w-]+$/);
  const asCookie = user.jar.header(`${as.issuer}${interaction}`);
  const callback = authorize.searchParams.get('redirect_uri') ?? '';

  const param = (names: string[], values: fc.Arbitrary<string>, maxLength = 8) =>
    fc.array(fc.tuple(mostly(fc.constantFrom(...names), printable), mostly(values, anyText)), { maxLength });
  const base = [...authorize.searchParams].filter(([k]) => !['state', 'nonce', 'code_challenge'].includes(k));
  const authorizeQuery = fc
    .tuple(
      mostly(fc.constant(base), fc.subarray(base)),
      fc.boolean(),
      fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 43, maxLength: 43 }),
      extraAuthorize(),
    )
    .map(([kept, pkce, challenge, extra]): [string, string][] => [
      ...kept,
      ...(pkce ? [['code_challenge', challenge] as [string, string]] : []),
      ...extra,
    ]);
  function extraAuthorize() {
    return param(
      [
        'client_id',
        'redirect_uri',
        'response_type',
        'scope',
        'state',
        'code_challenge',
        'code_challenge_method',
        'prompt',
        'resource',
        'nonce',
        'response_mode',
      ],
      fc.constantFrom(
        'bff',
        'evil',
        callback,
        `${callback}\r\nX-Injected: 1`,
        'https://evil.example/cb',
        'code',
        'openid',
        'S256',
        'plain',
        'login',
        'none',
        STOCKS,
        'x'.repeat(64),
      ),
      2,
    );
  }
  const tokenForm = param(
    [
      'grant_type',
      'code',
      'redirect_uri',
      'code_verifier',
      'refresh_token',
      'resource',
      'scope',
      'client_id',
      'client_secret',
      'subject_token',
      'subject_token_type',
      'audience',
    ],
    fc.constantFrom(
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'bff',
      'bff-dev-secret',
      callback,
      STOCKS,
      'urn:ietf:params:oauth:token-type:access_token',
      'abc',
    ),
  );
  const endSessionQuery = param(
    ['post_logout_redirect_uri', 'id_token_hint', 'state', 'client_id', 'ui_locales', 'logout_hint', 'xsrf', 'logout'],
    fc.constantFrom(
      'bff',
      `${stack.origin}/auth/signed-out`,
      'https://evil.example/',
      'eyJhbGciOiJub25lIn0.e30.',
      'yes',
      'x',
    ),
  );
  const target = fc.oneof(
    fc.record({ method: fc.constantFrom('GET', 'POST'), path: fc.constant('/auth'), pairs: authorizeQuery }),
    fc.record({
      method: mostly(fc.constant('POST'), fc.constantFrom('GET', 'PUT')),
      path: fc.constant('/token'),
      pairs: tokenForm,
    }),
    fc.record({
      method: fc.constantFrom('GET', 'POST'),
      path: fc.constantFrom('/session/end', '/session/end/confirm', '/session/end/success'),
      pairs: endSessionQuery,
    }),
    fc.record({
      method: fc.constantFrom('GET', 'POST'),
      path: fc.constantFrom(
        interaction,
        `${interaction}/login`,
        `${interaction}/consent`,
        `${interaction}/abort`,
        '/interaction/nope/login',
      ),
      pairs: param(['persona', 'username', 'password', 'prompt'], fc.constantFrom('alice', 'bob', 'nobody', '')),
    }),
    fc.record({
      method: fc.constantFrom('GET', 'POST', 'DELETE'),
      path: fc.constantFrom(
        '/_mock/faults',
        '/_mock/faults/fail',
        '/_mock/faults/up',
        '/_mock/faults/x',
        '/_mock/sign-in',
      ),
      pairs: fc.constant([] as [string, string][]),
    }),
    fc.record({
      method: fc.constantFrom('GET', 'POST', 'OPTIONS'),
      path: fc.oneof(
        fc.constantFrom(
          '/jwks',
          '/me',
          '/token/introspection',
          '/token/revocation',
          '/.well-known/openid-configuration',
          '/reg',
        ),
        printable.map((s) => `/${percentEncode(s)}`),
      ),
      pairs: fc.constant([] as [string, string][]),
    }),
  );
  const request = fc.record({
    target,
    inBody: fc.boolean(),
    json: knobBody,
    basic: mostly(
      fc.constant(BASIC),
      fc.constantFrom('', 'Basic', 'Basic %%%', `Basic ${Buffer.from('bff:wrong').toString('base64')}`, 'Bearer x'),
    ),
    cookie: mostly(fc.constant(asCookie), fc.oneof(fc.constant(''), printable)),
    contentType: mostly(
      fc.constant('application/x-www-form-urlencoded'),
      fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', ''),
    ),
    origin: fc.constantFrom('', as.issuer, 'https://evil.example', 'null'),
  });

  const seen = new Map<number, number>();
  const { runs, ms } = await fuzzRun(request, { numRuns: RUNS, seed: SEED }, async (r) => {
    const { method, path, pairs } = r.target;
    const control = path.startsWith('/_mock/');
    const headers: Record<string, string> = {};
    if (r.basic && (control || path === '/token')) headers.authorization = r.basic;
    if (r.cookie) headers.cookie = r.cookie;
    if (r.origin) headers.origin = r.origin;
    const query = form(pairs);
    const hasBody = method !== 'GET' && (r.inBody || control);
    if (hasBody) headers['content-type'] = control ? 'application/json' : r.contentType;
    const body = control ? r.json : query;
    const url = hasBody && !control ? path : `${path}${query ? `?${query}` : ''}`;
    const res = await client.send({ method, path: url, headers, ...(hasBody ? { body } : {}) });
    check(res, `${method} ${url} ${hasBody ? body : ''}`);
    const location = res.headers.location ?? '';
    if (/[\r\n]/.test(location)) throw new Error(`a split Location: ${JSON.stringify(location)}`);
    seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
  });
  const statuses = [...seen].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}×${v}`);
  t.log(`${ms} ms; ${statuses.join(', ')}`);
  t.is(runs, RUNS);
  for (const status of [200, 303, 400, 401, 404]) t.true(seen.has(status), `some requests got ${status}`);
  // With no fault left pending, the AS still signs a user in end to end.
  const reset = { authorization: BASIC, 'content-type': 'application/json' };
  t.is(
    (
      await client.send({
        method: 'POST',
        path: '/_mock/faults/fail',
        headers: reset,
        body: '{"count":0,"status":400}',
      })
    ).status,
    200,
  );
  const bob = stack.browser();
  await bob.signIn({ persona: 'bob' });
  t.is((await bob.sessionInfo()).status, 200);
  recordResult(t, {
    area: 'Hostile input',
    tried:
      'mock AS: authorize, token, end-session, login and consent forms, /_mock control routes; parameters, bodies, client authentication and cookies fuzzed with fast-check',
    cases: runs,
    figures: `0 5xx, 0 stack traces, 0 split Location headers; statuses ${statuses.join(', ')}; seed ${SEED}`,
  });
});

test('hostile input: D6: a persona switch while the AS refuses or fails the code redemption gets temporarily_unavailable, not a 500, and the session is kept', async (t) => {
  const stack = await startStack(t, { backend: { mock: { enabled: true } }, as: { faults: { enabled: true } } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const knob = (path: string, body: unknown) =>
    alice.bff(`/_mock${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  for (const fault of [
    { count: 1, error: 'invalid_grant', status: 400 },
    { count: 1, status: 503 },
  ]) {
    t.is((await knob('/as/fail', fault)).status, 200);
    const switched = await knob('/session/persona', { persona: 'bob' });
    t.is(switched.status, 400, JSON.stringify(fault));
    t.is(switched.body.error, 'temporarily_unavailable');
    t.regex(String(switched.body.error_description), /^the sign-in as bob did not complete/);
    t.is((await alice.sessionInfo()).body.sub, 'alice', 'the session is kept');
  }
  // With the AS answering again, the switch goes through.
  t.is((await knob('/session/persona', { persona: 'bob' })).status, 200);
  t.is((await alice.sessionInfo()).body.sub, 'bob');
});
