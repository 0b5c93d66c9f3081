import test from 'ava';
import { measureSize } from '../scripts/size.js';
import { createBffClient, ERROR_CODES, isBffError, META_NAMES } from '../src/index.js';

interface Call {
  url: string;
  init: RequestInit | undefined;
}

/** A fake network: answers by URL, records every call. */
function fakeFetch(answer: (url: string, call: number, init?: RequestInit) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = (async (input: string | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    return answer(String(input), calls.length, init);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const token = (n: number, expires_in = 300, scope = 'stocks:read') =>
  json(200, { access_token: `t${n}`, expires_in, scope });

/** A resource server's RFC 6750 §3.1 rejection of the token. */
const invalidToken = () =>
  new Response('', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });

/** bff-token hands out tokens; the API rejects the first one (401 invalid_token), then answers `after()`. */
function rejectsFirstToken(after: () => Response) {
  let api = 0;
  return fakeFetch((url, n) => {
    if (url.startsWith('/.well-known')) return token(n);
    api += 1;
    return api === 1 ? invalidToken() : after();
  });
}

test('TMI-42: 10 concurrent identical getToken calls make exactly 1 request to bff-token', async (t) => {
  const net = fakeFetch((_u, n) => new Promise((resolve) => setTimeout(() => resolve(token(n)), 10)));
  const bff = createBffClient({ fetch: net.fetch, document: { querySelector: () => null } });
  const all = await Promise.all(
    Array.from({ length: 10 }, () => bff.getToken({ resource: 'https://api/stocks', scope: 'stocks:read' })),
  );
  t.is(net.calls.length, 1);
  t.true(all.every((r) => r.access_token === 't1'));
  t.is(net.calls[0]?.url, '/.well-known/bff-token?resource=https%3A%2F%2Fapi%2Fstocks&scope=stocks%3Aread');
});

test('TMI-42: the cache is keyed by resource and scope set, and a token near expiry leads to a new request', async (t) => {
  let now = 1_000_000;
  const net = fakeFetch((_u, n) => token(n, 100));
  const bff = createBffClient({ fetch: net.fetch, now: () => now, document: { querySelector: () => null } });
  await bff.getToken({ resource: 'r', scope: 'b a' });
  const same = await bff.getToken({ resource: ['r'], scope: ['a', 'b', 'a'] });
  t.is(net.calls.length, 1, 'scope order and duplicates do not matter');
  t.is(same.expires_in, 100);
  now += 60_000;
  t.is((await bff.getToken({ resource: 'r', scope: 'a b' })).expires_in, 40, 'the remaining lifetime');
  now += 11_000; // 29 s left: inside the 30 s margin
  await bff.getToken({ resource: 'r', scope: 'a b' });
  t.is(net.calls.length, 2);
  await bff.getToken({ resource: 'other', scope: 'a b' });
  t.is(net.calls.length, 3, 'another resource is another token');
});

test('TMI-45, D11: a 401 invalid_token from an API leads to exactly one fresh-token retry, then an error (no loop)', async (t) => {
  const net = fakeFetch((url, n) => (url.startsWith('/.well-known/bff-token') ? token(n) : invalidToken()));
  const bff = createBffClient({ fetch: net.fetch, document: { querySelector: () => null } });
  const err = await t.throwsAsync(bff.fetch('https://api/stocks/quotes', { resource: 'https://api/stocks' }));
  t.true(isBffError(err, ERROR_CODES.TOKEN_REJECTED));
  t.deepEqual(
    net.calls.map((c) => c.url),
    [
      '/.well-known/bff-token?resource=https%3A%2F%2Fapi%2Fstocks',
      'https://api/stocks/quotes',
      '/.well-known/bff-token?resource=https%3A%2F%2Fapi%2Fstocks&fresh=1',
      'https://api/stocks/quotes',
    ],
  );
  t.is(new Headers(net.calls[3]?.init?.headers).get('authorization'), 'Bearer t3');
});

test('the fetch helper retries once and returns the API answer when the fresh token works; other 401s are returned as they are', async (t) => {
  const net = rejectsFirstToken(() => json(200, { ok: true }));
  const bff = createBffClient({ fetch: net.fetch, document: { querySelector: () => null } });
  const res = await bff.fetch('https://api/x', { resource: 'https://api', method: 'POST', body: '{}' });
  t.is(res.status, 200);
  t.is(net.calls[3]?.init?.method, 'POST');
  const bare = fakeFetch((url, n) =>
    url.startsWith('/.well-known')
      ? token(n)
      : new Response('', { status: 401, headers: { 'www-authenticate': 'Bearer' } }),
  );
  const plain = await createBffClient({ fetch: bare.fetch, document: { querySelector: () => null } }).fetch(
    'https://api/y',
  );
  t.is(plain.status, 401);
  t.is(bare.calls.length, 2, 'no retry without invalid_token');
});

/** What a resource server answers when it cannot reach its authorization server's keys. */
const outage = () =>
  json(
    503,
    { error: 'temporarily_unavailable', error_description: "the authorization server's keys could not be fetched" },
    { 'retry-after': '5', 'cache-control': 'no-store' },
  );

test('a 503 from a resource server (its AS out of reach) is returned as it is: no fresh token, no retry', async (t) => {
  const net = fakeFetch((url, n) => (url.startsWith('/.well-known/bff-token') ? token(n) : outage()));
  const bff = createBffClient({ fetch: net.fetch, document: { querySelector: () => null } });
  const res = await bff.fetch('https://api/stocks/quotes', { resource: 'https://api/stocks' });
  t.is(res.status, 503);
  t.is(res.headers.get('retry-after'), '5');
  t.deepEqual(await res.json(), {
    error: 'temporarily_unavailable',
    error_description: "the authorization server's keys could not be fetched",
  });
  t.deepEqual(
    net.calls.map((c) => c.url),
    ['/.well-known/bff-token?resource=https%3A%2F%2Fapi%2Fstocks', 'https://api/stocks/quotes'],
  );
  await bff.fetch('https://api/stocks/quotes', { resource: 'https://api/stocks' });
  t.is(net.calls.length, 3, 'the token is kept: the next call goes straight to the API');
});

test('D11: a 503 on the retry after a 401 invalid_token is returned as it is, not reported as a rejected token', async (t) => {
  const net = rejectsFirstToken(outage);
  const bff = createBffClient({ fetch: net.fetch, document: { querySelector: () => null } });
  const res = await bff.fetch('https://api/x', { resource: 'https://api' });
  t.is(res.status, 503);
  t.is(net.calls.length, 4, 'one fresh token, one retry, nothing more');
});

test('TMI-44: every error has a stable code', async (t) => {
  const cases: Array<[() => Response | Promise<Response>, string, string | undefined]> = [
    [
      () => json(400, { error: 'invalid_session', error_description: 'sign in' }),
      'TMI_BFF_INVALID_SESSION',
      'invalid_session',
    ],
    [() => json(400, { error: 'backend_not_ready' }), 'TMI_BFF_BACKEND_NOT_READY', 'backend_not_ready'],
    [
      () => json(400, { error: 'invalid_scope', error_description: 'policy' }),
      'TMI_BFF_AUTHORIZATION_SERVER_ERROR',
      'invalid_scope',
    ],
    [
      () => json(400, { error: 'temporarily_unavailable' }),
      'TMI_BFF_TEMPORARILY_UNAVAILABLE',
      'temporarily_unavailable',
    ],
    [() => json(400, { error: 'invalid_request' }), 'TMI_BFF_INVALID_REQUEST', 'invalid_request'],
    [() => new Response('<html>', { status: 502 }), 'TMI_BFF_PROTOCOL_ERROR', undefined],
    [() => json(200, { token: 'x' }), 'TMI_BFF_PROTOCOL_ERROR', undefined],
    [() => Promise.reject(new TypeError('Failed to fetch')), 'TMI_BFF_TRANSPORT_ERROR', undefined],
  ];
  for (const [answer, code, error] of cases) {
    const bff = createBffClient({ fetch: fakeFetch(answer).fetch, document: { querySelector: () => null } });
    const err = (await t.throwsAsync(bff.getToken())) as { code?: string; error?: string };
    t.is(err.code, code);
    t.is(err.error, error);
  }
  t.deepEqual(Object.values(ERROR_CODES).sort(), [
    'TMI_BFF_AUTHORIZATION_SERVER_ERROR',
    'TMI_BFF_BACKEND_NOT_READY',
    'TMI_BFF_INVALID_REQUEST',
    'TMI_BFF_INVALID_SESSION',
    'TMI_BFF_PROTOCOL_ERROR',
    'TMI_BFF_TEMPORARILY_UNAVAILABLE',
    'TMI_BFF_TOKEN_REJECTED',
    'TMI_BFF_TRANSPORT_ERROR',
  ]);
});

test('D13: backend_not_ready carries the remediation the backend names; anything else is undefined', async (t) => {
  for (const [remediation, expected] of [
    ['consent', 'consent'],
    ['sign_in', 'sign_in'],
    ['configuration', 'configuration'],
    ['reboot', undefined],
    [undefined, undefined],
  ] as const) {
    const answer = () => json(400, { error: 'backend_not_ready', error_description: 'why', remediation });
    const bff = createBffClient({ fetch: fakeFetch(answer).fetch, document: { querySelector: () => null } });
    const err = (await t.throwsAsync(bff.getToken())) as { code?: string; remediation?: string };
    t.is(err.code, 'TMI_BFF_BACKEND_NOT_READY');
    t.is(err.remediation, expected, String(remediation));
  }
});

test('TMI-33: no storage API is ever touched (spied)', async (t) => {
  const touched: string[] = [];
  const g = globalThis as Record<string, unknown>;
  const names = ['localStorage', 'sessionStorage', 'indexedDB', 'caches'];
  const saved = names.map((n) => Object.getOwnPropertyDescriptor(g, n));
  for (const name of names) {
    Object.defineProperty(g, name, { configurable: true, get: () => touched.push(name) });
  }
  const cookieDoc = {
    querySelector: () => null,
    get cookie() {
      touched.push('document.cookie');
      return '';
    },
  };
  t.teardown(() => {
    names.forEach((n, i) => {
      const d = saved[i];
      if (d) Object.defineProperty(g, n, d);
      else delete g[n];
    });
  });
  const net = fakeFetch((url, n) => (url.includes('sessioninfo') ? json(200, { sub: 'alice' }) : token(n)));
  const bff = createBffClient({ fetch: net.fetch, document: cookieDoc });
  await bff.getToken({ resource: 'r' });
  await bff.getToken({ resource: 'r' });
  await bff.getSessionInfo();
  await bff.fetch('https://api/x', { resource: 'r' });
  bff.clear();
  t.deepEqual(touched, []);
});

test('D4, TMI-41: every call is same-origin with cookies and carries the CSRF header', async (t) => {
  const net = fakeFetch((url, n) => (url.includes('sessioninfo') ? json(200, { sub: 'alice' }) : token(n)));
  const bff = createBffClient({ fetch: net.fetch, document: { querySelector: () => null } });
  await bff.getSessionInfo();
  await bff.getToken({ scope: 'a' });
  for (const call of net.calls) {
    t.is(call.init?.credentials, 'same-origin');
    t.is(new Headers(call.init?.headers).get('TMI-BFF-CSRF'), '1');
  }
  t.is(net.calls[0]?.url, '/.well-known/bff-sessioninfo');
});

test('D1: endpoint paths come from options, then from the backend’s meta tags, then from the defaults', async (t) => {
  const meta: Record<string, string> = {
    [META_NAMES.tokenEndpoint]: '/meta/token',
    [META_NAMES.sessionInfoEndpoint]: '/meta/me',
  };
  const doc = {
    querySelector: (selector: string) => {
      const name = /name="([^"]+)"/.exec(selector)?.[1] ?? '';
      return meta[name] ? { getAttribute: () => meta[name] ?? null } : null;
    },
  } as unknown as Pick<Document, 'querySelector'>;
  const net = fakeFetch((url, n) => (url.endsWith('/me') ? json(200, {}) : token(n)));
  await createBffClient({ fetch: net.fetch, document: doc }).getToken();
  await createBffClient({ fetch: net.fetch, document: doc, tokenEndpoint: '/opt/token' }).getToken();
  await createBffClient({ fetch: net.fetch, document: { querySelector: () => null } }).getToken();
  await createBffClient({ fetch: net.fetch, document: doc }).getSessionInfo();
  t.deepEqual(
    net.calls.map((c) => c.url),
    ['/meta/token', '/opt/token', '/.well-known/bff-token', '/meta/me'],
  );
});

test('clear() forgets every token', async (t) => {
  const net = fakeFetch((_u, n) => token(n));
  const bff = createBffClient({ fetch: net.fetch, document: { querySelector: () => null } });
  await bff.getToken();
  bff.clear();
  await bff.getToken();
  t.is(net.calls.length, 2);
});

test('the SDK is small: under 5 kB minified and gzipped', async (t) => {
  const { minified, gzipped } = await measureSize();
  t.log(`${minified} B minified, ${gzipped} B min+gzip`);
  t.true(gzipped < 5 * 1024);
});

test('a wrong option is refused when the client is made, with a TypeError naming the option and what it takes', (t) => {
  const refused = (options: unknown, message: RegExp) => {
    const err = t.throws(() => createBffClient(options as Parameters<typeof createBffClient>[0]), {
      instanceOf: TypeError,
    });
    t.regex(err?.message ?? '', message);
  };
  refused({ tokenEndPoint: '/x' }, /^createBffClient: unknown option "tokenEndPoint"; the options are tokenEndpoint, /);
  refused(
    { tokenEndpoint: 'bff-token' },
    /options\.tokenEndpoint must be a path \("\/\.well-known\/…"\) or an http\(s\) URL/,
  );
  refused({ sessionInfoEndpoint: '//evil.example/x' }, /options\.sessionInfoEndpoint must be a path/);
  refused({ tokenEndpoint: 42 }, /options\.tokenEndpoint must be a string, not number/);
  refused({ csrfHeader: 'TMI BFF' }, /options\.csrfHeader must be a header name \(RFC 9110 token\), not "TMI BFF"/);
  refused({ csrfHeader: 'x\r\nInjected: 1' }, /options\.csrfHeader must be a header name/);
  refused({ expiryMarginSeconds: '30' }, /options\.expiryMarginSeconds must be a number, not string/);
  refused({ expiryMarginSeconds: -1 }, /options\.expiryMarginSeconds must be a number of seconds ≥ 0, not -1/);
  refused({ expiryMarginSeconds: Number.NaN }, /options\.expiryMarginSeconds must be a number of seconds ≥ 0, not NaN/);
  refused({ fetch: 'fetch' }, /options\.fetch must be a function, not string/);
  refused({ now: 0 }, /options\.now must be a function, not number/);
  refused({ document: null }, /options\.document must be an object, not null/);
  refused({ document: {} }, /options\.document must have querySelector/);
  refused(null, /options must be an object/);

  const { fetch } = fakeFetch(() => token(1));
  t.notThrows(() =>
    createBffClient({
      tokenEndpoint: 'https://app.example/.well-known/bff-token',
      sessionInfoEndpoint: '/.well-known/bff-sessioninfo',
      csrfHeader: 'X-CSRF',
      expiryMarginSeconds: 0,
      fetch,
      document: { querySelector: () => null },
      now: () => 0,
    }),
  );
});
