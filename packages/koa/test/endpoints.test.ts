import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import Koa from 'koa';
import { PARSED_REQUESTS, tokenResponseBody } from '../src/endpoints/bff-token.js';
import { createTmiBff, type TmiBffOptions, type TokenRequest, type TokenSource, WELL_KNOWN } from '../src/index.js';

const tokens: TokenSource = {
  getToken: async () => ({
    token: { access_token: 'at', scope: 'read', resources: [], expires_at: Date.now() + 60_000 },
    source: 'cache',
  }),
  expiresIn: () => 60,
};

async function serve(t: ExecutionContext, options: Partial<TmiBffOptions>, proxy = false): Promise<string> {
  const bff = createTmiBff({
    origin: 'http://localhost:3000',
    getSession: async () => ({ id: 's1', claims: { sub: 'alice' } }),
    tokens,
    ...options,
  });
  const app = new Koa({ proxy });
  app.use(bff.routes());
  const server = app.listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const csrf = { 'TMI-BFF-CSRF': '1' };

test('TMI-BFF-01 §3 (TMI-06): both endpoints answer at their default .well-known paths', async (t) => {
  const base = await serve(t, {});
  t.is((await fetch(base + WELL_KNOWN.bffToken, { headers: csrf })).status, 200);
  t.is((await fetch(base + WELL_KNOWN.bffSessionInfo, { headers: csrf })).status, 200);
});

test('TMI-BFF-01 §3 (TMI-07), D1: custom paths are served, and the defaults are then not', async (t) => {
  const base = await serve(t, { paths: { bffToken: '/api/bff/token', bffSessionInfo: '/api/bff/me' } });
  t.is((await fetch(`${base}/api/bff/token`, { headers: csrf })).status, 200);
  t.deepEqual(await (await fetch(`${base}/api/bff/me`, { headers: csrf })).json(), { sub: 'alice' });
  t.is((await fetch(base + WELL_KNOWN.bffToken, { headers: csrf })).status, 404);
  t.is((await fetch(base + WELL_KNOWN.bffSessionInfo, { headers: csrf })).status, 404);
});

test('TMI-BFF-01 §1.2 (TMI-02): with an https origin, a request that did not arrive over TLS is refused', async (t) => {
  const base = await serve(t, { origin: 'https://app.example' }, true);
  const plain = await fetch(base + WELL_KNOWN.bffSessionInfo, { headers: csrf });
  t.is(plain.status, 400);
  t.deepEqual(await plain.json(), {
    error: 'invalid_session',
    error_description: 'this endpoint is served over https only',
  });
  const tls = await fetch(base + WELL_KNOWN.bffSessionInfo, { headers: { ...csrf, 'x-forwarded-proto': 'https' } });
  t.is(tls.status, 200);
});

test('D12: the session-info hook shapes the body; its default adds the session end as exp', async (t) => {
  const custom = await serve(t, { sessionInfo: (session) => ({ user: session.claims.sub, roles: ['trader'] }) });
  t.deepEqual(await (await fetch(custom + WELL_KNOWN.bffSessionInfo, { headers: csrf })).json(), {
    user: 'alice',
    roles: ['trader'],
  });
  const end = Date.now() + 3_600_000;
  const plain = await serve(t, { getSession: async () => ({ id: 's', claims: { sub: 'bob' }, expiresAt: end }) });
  t.deepEqual(await (await fetch(plain + WELL_KNOWN.bffSessionInfo, { headers: csrf })).json(), {
    sub: 'bob',
    exp: Math.floor(end / 1000),
  });
});

test('D4: the CSRF header name is configurable', async (t) => {
  const base = await serve(t, { csrfHeader: 'X-Requested-By' });
  t.is((await fetch(base + WELL_KNOWN.bffToken, { headers: csrf })).status, 400);
  t.is((await fetch(base + WELL_KNOWN.bffToken, { headers: { 'X-Requested-By': 'app' } })).status, 200);
});

test('D2: POST can be turned off; bff-token then answers 405 with Allow: GET', async (t) => {
  const base = await serve(t, { post: { enabled: false } });
  const res = await fetch(base + WELL_KNOWN.bffToken, { method: 'POST', headers: csrf });
  t.is(res.status, 405);
  t.is(res.headers.get('allow'), 'GET');
});

test('middleware(): the endpoints as one path switch answer as routes() does (paths, a trailing slash, case, 405 + Allow); any other path goes on', async (t) => {
  const bff = createTmiBff({
    origin: 'http://localhost:3000',
    getSession: async () => ({ id: 's1', claims: { sub: 'alice' } }),
    tokens,
  });
  const answers = async (mount: (app: Koa) => void) => {
    const app = new Koa();
    mount(app);
    app.use(function fallThrough(ctx) {
      ctx.body = 'next';
    });
    const server = app.listen(0, '127.0.0.1');
    t.teardown(() => server.close());
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out = [];
    for (const [method, path] of [
      ['GET', WELL_KNOWN.bffToken],
      ['POST', WELL_KNOWN.bffSessionInfo],
      ['GET', `${WELL_KNOWN.bffSessionInfo}/`],
      ['GET', WELL_KNOWN.bffSessionInfo.toUpperCase()],
      ['GET', '/elsewhere'],
    ] as const) {
      const res = await fetch(base + path, { method, headers: csrf });
      out.push([res.status, res.headers.get('allow'), await res.text()]);
    }
    return out;
  };
  const switched = await answers((app) => app.use(bff.middleware()));
  t.deepEqual(switched, await answers((app) => app.use(bff.routes())));
  t.deepEqual(switched[1]?.slice(0, 2), [405, 'GET']);
  t.deepEqual(switched[4], [200, null, 'next']);
});

test('TMI-BFF-01 §4.2 (TMI-18…21), D7: a held token answers with the bytes JSON.stringify would write, whatever its characters', (t) => {
  const awkward = ['plain.jwt.value', 'quote " and \\ backslash', 'line\nbreak\ttab', 'ünïcødé ☃ 𝄞', '\u2028\u2029'];
  for (const access_token of awkward) {
    const token = { access_token, scope: `read "x" ${access_token}`, resources: [], expires_at: 0 };
    const expected = JSON.stringify({ access_token, expires_in: 42, scope: token.scope });
    t.is(tokenResponseBody(token, 42), expected);
    // A frozen token (as a store hands it out) keeps its JSON: the second answer is the same bytes.
    const frozen = Object.freeze({ ...token });
    t.is(tokenResponseBody(frozen, 42), expected);
    t.is(tokenResponseBody(frozen, 7), JSON.stringify({ access_token, expires_in: 7, scope: token.scope }));
  }
});

test('TMI-BFF-01 §3.1, D3: a repeated query string is parsed once, frozen; each query string gets its own request', async (t) => {
  const seen: TokenRequest[] = [];
  const base = await serve(t, {
    tokens: {
      ...tokens,
      getToken: async (session, request, within) => {
        seen.push(request);
        return tokens.getToken(session, request, within);
      },
    },
  });
  const ask = async (query: string) => {
    const res = await fetch(`${base}${WELL_KNOWN.bffToken}?${query}`, { headers: csrf });
    t.is(res.status, 200);
  };
  await ask('resource=https%3A%2F%2Fapi.example&scope=b%20a');
  await ask('resource=https%3A%2F%2Fapi.example&scope=b%20a');
  await ask('resource=https%3A%2F%2Fapi.example&scope=a&fresh=1');
  // More distinct query strings than the parser keeps: each is still parsed right.
  for (let i = 0; i < PARSED_REQUESTS + 10; i++) await ask(`resource=https%3A%2F%2Fr${i}.example`);
  const [first, second, third] = seen;
  t.is(first, second);
  t.true(Object.isFrozen(first) && Object.isFrozen(first?.scopes) && Object.isFrozen(first?.resources));
  t.deepEqual(first, { resources: ['https://api.example'], scopes: ['a', 'b'], fresh: false });
  t.deepEqual(third, { resources: ['https://api.example'], scopes: ['a'], fresh: true });
  t.deepEqual(seen.at(-1), { resources: [`https://r${PARSED_REQUESTS + 9}.example`], scopes: [], fresh: false });
  // A repeated scope is still refused, every time (the refusal is not kept as a request).
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${base}${WELL_KNOWN.bffToken}?scope=a&scope=b`, { headers: csrf });
    t.is(res.status, 400);
    t.is(((await res.json()) as { error: string }).error, 'invalid_request');
  }
});

test('both endpoints answer with nosniff and no-store themselves, errors included', async (t) => {
  const base = await serve(t, {});
  for (const [path, headers] of [
    [WELL_KNOWN.bffToken, csrf],
    [WELL_KNOWN.bffSessionInfo, csrf],
    [WELL_KNOWN.bffToken, {}],
  ] as const) {
    const res = await fetch(base + path, { headers });
    t.is(res.headers.get('x-content-type-options'), 'nosniff', path);
    t.is(res.headers.get('cache-control'), 'no-store', path);
    t.is(res.headers.get('pragma'), 'no-cache', path);
  }
});
