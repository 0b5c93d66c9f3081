import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_ADDRESSES, generateSigningKey, loadSeed, SEED_FILE, startMockAs } from '@tmi-bff/mock-as';
import { codeFlow } from '@tmi-bff/mock-as/testing';
import test, { type ExecutionContext } from 'ava';
import { importJWK, type JWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { createDemoApis, type Hop, identifiers } from '../src/index.js';

const IDS = identifiers(DEFAULT_ADDRESSES.API_ORIGIN);
const APP = DEFAULT_ADDRESSES.BFF_ORIGIN;

/** The real mock AS and the demo APIs on ephemeral loopback ports; tokens minted by the AS. */
async function start(t: ExecutionContext) {
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES });
  const signing = await generateSigningKey();
  const as = await startMockAs({ seed, log: () => {}, keys: { signing: [signing], cookies: ['k'] } });
  const secret = (id: string) => seed.clients.find((c) => c.client_id === id)?.client_secret ?? '';
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const app = createDemoApis({
    issuer: as.issuer,
    apiOrigin: DEFAULT_ADDRESSES.API_ORIGIN,
    selfUrl: url,
    appOrigin: APP,
    clients: {
      a: { id: 'service-a', secret: secret('service-a') },
      b: { id: 'service-b', secret: secret('service-b') },
    },
  });
  server.on('request', app.callback());
  t.teardown(async () => {
    server.close();
    server.closeAllConnections();
    await as.close();
  });
  const bff = await oidc.discovery(new URL(as.issuer), 'bff', undefined, oidc.ClientSecretBasic(secret('bff')), {
    execute: [oidc.allowInsecureRequests],
  });
  /** alice's tokens, as the backend holds them. */
  const tokens = await codeFlow(bff, {
    persona: 'alice',
    redirectUri: `${APP}/auth/callback`,
    scope: 'openid stocks:read stocks:buy a b c',
    resources: [IDS.stocks, IDS.a],
    tokenResource: IDS.a,
  });
  const refresh = { current: tokens.refresh_token ?? '' };
  const rotating = async (resource: string, scope?: string) => {
    const r = await oidc.refreshTokenGrant(bff, refresh.current, { resource, ...(scope ? { scope } : {}) });
    refresh.current = r.refresh_token ?? refresh.current;
    return r.access_token;
  };
  const call = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  return { as, url, signing, idToken: tokens.id_token ?? '', tokenForA: tokens.access_token, token: rotating, call };
}

const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));

test('RFC 8693: a token for A with [a b c] runs the chain; each hop holds exactly its downscoped scope, its aud and nested act', async (t) => {
  const { call, tokenForA } = await start(t);
  t.is(decode(tokenForA).scope, 'a b c');
  const res = await call('/a/chain', tokenForA);
  t.is(res.status, 200);
  const { hops } = (await res.json()) as { hops: Hop[] };
  t.deepEqual(
    hops.map((h) => [h.service, h.aud, h.scope, h.client_id, h.act]),
    [
      ['A', IDS.a, 'a b c', 'bff', undefined],
      ['B', IDS.b, 'b c', 'service-a', { sub: 'service-a' }],
      ['C', IDS.c, 'c', 'service-b', { sub: 'service-b', act: { sub: 'service-a' } }],
    ],
  );
  t.true(hops.every((h) => h.sub === 'alice'));
  const [a, b, c] = hops.map((h) => h.exp ?? 0);
  t.true((b ?? 0) <= (a ?? 0) && (c ?? 0) <= (b ?? 0), 'no hop outlives the one before');
});

test('each hop can do less than the one before: B’s token is refused by A, C’s by B (401 invalid_token)', async (t) => {
  const { as, call, tokenForA } = await start(t);
  // Get B's and C's tokens the way the chain does.
  const exchange = async (client: string, secret: string, subject: string, resource: string, scope: string) => {
    const config = await oidc.discovery(new URL(as.issuer), client, undefined, oidc.ClientSecretBasic(secret), {
      execute: [oidc.allowInsecureRequests],
    });
    return (
      await oidc.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', {
        subject_token: subject,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        resource,
        scope,
      })
    ).access_token;
  };
  const tokenForB = await exchange('service-a', 'service-a-dev-secret', tokenForA, IDS.b, 'b c');
  const tokenForC = await exchange('service-b', 'service-b-dev-secret', tokenForB, IDS.c, 'c');
  for (const [path, token] of [
    ['/a/chain', tokenForB],
    ['/a/chain', tokenForC],
    ['/b/chain', tokenForC],
    ['/stocks/quotes', tokenForA],
  ] as const) {
    const res = await call(path, token);
    t.is(res.status, 401, path);
    t.is(
      res.headers.get('www-authenticate'),
      'Bearer error="invalid_token", error_description="the access token is for another resource"',
    );
    t.deepEqual(await res.json(), {
      error: 'invalid_token',
      error_description: 'the access token is for another resource',
    });
  }
});

test('RFC 6750 §3.1: a token without the route’s scope gets 403 insufficient_scope naming the scope', async (t) => {
  const { call, token } = await start(t);
  const readOnly = await token(IDS.stocks, 'stocks:read');
  const res = await call('/stocks/orders', readOnly, {
    method: 'POST',
    body: JSON.stringify({ symbol: 'ACME', quantity: 1 }),
  });
  t.is(res.status, 403);
  t.is(
    res.headers.get('www-authenticate'),
    'Bearer error="insufficient_scope", error_description="this route needs stocks:buy", scope="stocks:buy"',
  );
  t.like(await res.json(), { error: 'insufficient_scope' });
  const b = await token(IDS.a, 'b');
  t.is((await call('/a/chain', b)).status, 403, 'A needs a');
});

test('RFC 9068 §4: expired, tampered, foreign-issuer and ID tokens get 401 invalid_token', async (t) => {
  const { call, signing, idToken, tokenForA, url } = await start(t);
  const claims = decode(tokenForA);
  const now = Math.floor(Date.now() / 1000);
  const mint = async (key: JWK, payload: Record<string, unknown>, typ = 'at+jwt') =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ, kid: String(key.kid) })
      .sign(await importJWK(key, 'RS256'));
  const [h, , s] = tokenForA.split('.');
  const cases: Array<[string, string, string]> = [
    ['expired', await mint(signing, { ...claims, iat: now - 900, exp: now - 600 }), 'the access token expired'],
    [
      'tampered',
      `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'a b c x' })).toString('base64url')}.${s}`,
      'the access token signature does not verify',
    ],
    [
      'foreign issuer',
      await mint(signing, { ...claims, iss: 'https://evil.example' }),
      'the access token was issued by another issuer',
    ],
    [
      'foreign key',
      await mint({ ...(await generateSigningKey()), kid: signing.kid as string }, claims),
      'the access token signature does not verify',
    ],
    ['an ID token', idToken, 'not an access token (typ must be at+jwt)'],
    ['typ JWT', await mint(signing, claims, 'JWT'), 'not an access token (typ must be at+jwt)'],
    ['garbage', 'abc.def.ghi', 'the access token is malformed'],
  ];
  for (const [what, token, description] of cases) {
    const res = await call('/a/chain', token);
    t.is(res.status, 401, what);
    t.deepEqual(await res.json(), { error: 'invalid_token', error_description: description }, what);
  }
  const none = await fetch(`${url}/a/chain`);
  t.is(none.status, 401);
  t.is(none.headers.get('www-authenticate'), 'Bearer', 'no credentials: a bare challenge');
});

test('a service asking the AS for a scope its token does not hold gets invalid_scope; the caller sees a clear 403, not a 500', async (t) => {
  const { call, token } = await start(t);
  const onlyA = await token(IDS.a, 'a');
  const res = await call('/a/chain', onlyA);
  t.is(res.status, 403);
  const body = (await res.json()) as Record<string, string>;
  t.deepEqual(body, {
    error: 'insufficient_scope',
    error_description:
      'service A could not get a token for B: the AS answered invalid_scope (subject_token does not hold the requested scope)',
  });
  t.regex(res.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope", .*scope="b c"$/);
});

test('the Stocks API: stocks:read reads, stocks:buy buys', async (t) => {
  const { call, token } = await start(t);
  const read = await token(IDS.stocks, 'stocks:read');
  const quotes = await call('/stocks/quotes', read);
  t.is(quotes.status, 200);
  t.is(((await quotes.json()) as { quotes: unknown[] }).quotes.length, 3);
  const buy = await token(IDS.stocks, 'stocks:buy');
  const order = await call('/stocks/orders', buy, {
    method: 'POST',
    body: JSON.stringify({ symbol: 'ACME', quantity: 2 }),
  });
  t.is(order.status, 201);
  t.deepEqual(await order.json(), { order: { symbol: 'ACME', quantity: 2 }, owner: 'alice' });
  const portfolio = await call('/stocks/portfolio', read);
  t.deepEqual(await portfolio.json(), { owner: 'alice', orders: [{ symbol: 'ACME', quantity: 2 }] });
  const bad = await call('/stocks/orders', buy, { method: 'POST', body: '{"symbol":"NOPE","quantity":1}' });
  t.is(bad.status, 400);
});

test('CORS: the app’s origin may call the APIs; a preflight from a foreign origin gets no Access-Control-Allow-* header', async (t) => {
  const { url } = await start(t);
  const preflight = (origin: string) =>
    fetch(`${url}/stocks/quotes`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
  const own = await preflight(APP);
  t.is(own.headers.get('access-control-allow-origin'), APP);
  t.regex(own.headers.get('access-control-allow-headers') ?? '', /Authorization/);
  const foreign = await preflight('https://evil.example');
  for (const [name] of foreign.headers) t.false(name.startsWith('access-control-allow'), name);
});

test('TMI-BFF-01 §8.2 (TMI-34): authorisation depends on audience and scope only, not on which client or how it authenticated', async (t) => {
  const { as, call, signing } = await start(t);
  const now = Math.floor(Date.now() / 1000);
  // A token the AS could have issued to a public client: same issuer and keys, another client_id.
  const token = await new SignJWT({
    sub: 'alice',
    client_id: 'public-spa',
    scope: 'stocks:read',
    jti: 'j1',
    aud: IDS.stocks,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: String(signing.kid) })
    .setIssuer(as.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(await importJWK(signing, 'RS256'));
  const res = await call('/stocks/quotes', token);
  t.is(res.status, 200);
});
