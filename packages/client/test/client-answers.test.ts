/**
 * The SDK's answers in detail: what each error carries (code, message, cause, the backend's fields),
 * which bodies count as the draft's format, the exact requests it sends, and the edges of its token
 * cache and of its one retry. A fake network answers by URL and records every call.
 */
import test from 'ava';
import {
  type BffClientOptions,
  BffResponseError,
  createBffClient,
  DEFAULTS,
  ERROR_CODES,
  isBffError,
  META_NAMES,
  SPEC_DRAFT,
} from '../src/index.js';

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(answer: (url: string, call: number) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = (async (input: string | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    return answer(String(input), calls.length);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const token = (n: number, expires_in = 300) => json(200, { access_token: `t${n}`, expires_in, scope: 'a' });
const noMeta = { querySelector: () => null };
const bearer = (status: number, challenge: string) =>
  new Response('', { status, headers: { 'www-authenticate': challenge } });

test('the draft revision, the defaults and the meta names are the documented values', (t) => {
  t.is(SPEC_DRAFT, 'draft-bertocci-oauth2-tmi-bff-01');
  t.deepEqual(
    { ...DEFAULTS },
    {
      tokenEndpoint: '/.well-known/bff-token',
      sessionInfoEndpoint: '/.well-known/bff-sessioninfo',
      csrfHeader: 'TMI-BFF-CSRF',
      expiryMarginSeconds: 30,
    },
  );
  t.deepEqual(
    { ...META_NAMES },
    { tokenEndpoint: 'tmi-bff-token-endpoint', sessionInfoEndpoint: 'tmi-bff-sessioninfo-endpoint' },
  );
});

test('TMI-44: an error body gives its error, error_description and status; the message joins them; the response rides along, not enumerable', async (t) => {
  const described = json(400, { error: 'invalid_session', error_description: 'sign in' });
  const bff = createBffClient({ fetch: fakeFetch(() => described).fetch, document: noMeta });
  const err = (await t.throwsAsync(bff.getToken())) as BffResponseError;
  t.true(err instanceof BffResponseError);
  t.is(err.message, 'invalid_session: sign in');
  t.is(err.status, 400);
  t.is(err.error_description, 'sign in');
  t.is(err.response, described);
  t.false(Object.keys(err).includes('response'));

  const bare = createBffClient({
    fetch: fakeFetch(() => json(400, { error: 'invalid_request' })).fetch,
    document: noMeta,
  });
  t.is((await t.throwsAsync(bare.getToken()))?.message, 'invalid_request');

  const odd = json(400, { error: 'invalid_request', error_description: 42 });
  const oddErr = (await t.throwsAsync(
    createBffClient({ fetch: fakeFetch(() => odd).fetch, document: noMeta }).getToken(),
  )) as BffResponseError;
  t.is(oddErr.error_description, undefined, 'a description that is not a string is dropped');
  t.is(oddErr.message, 'invalid_request');
});

test('TMI-44: what is not the draft’s format is TMI_BFF_PROTOCOL_ERROR, with a message that says what was wrong', async (t) => {
  const cases: Array<[string, () => Response, RegExp]> = [
    [
      'not JSON',
      () => new Response('<html>', { status: 502 }),
      /^\/\.well-known\/bff-token answered 502 without JSON$/,
    ],
    ['an error without a code', () => json(500, { message: 'x' }), /answered 500 without an error code$/],
    ['an error body of null', () => json(500, null), /answered 500 without an error code$/],
    [
      'a token body of null',
      () => json(200, null),
      /^\/\.well-known\/bff-token answered without access_token and expires_in$/,
    ],
    ['an empty access_token', () => json(200, { access_token: '', expires_in: 60 }), /without access_token/],
    [
      'an access_token that is no string',
      () => json(200, { access_token: 42, expires_in: 60 }),
      /without access_token/,
    ],
    ['expires_in missing', () => json(200, { access_token: 'x' }), /without access_token and expires_in/],
    ['expires_in as a string', () => json(200, { access_token: 'x', expires_in: '60' }), /and expires_in/],
  ];
  for (const [name, answer, message] of cases) {
    const bff = createBffClient({ fetch: fakeFetch(answer).fetch, document: noMeta });
    const err = await t.throwsAsync(bff.getToken());
    t.true(isBffError(err, ERROR_CODES.PROTOCOL_ERROR), name);
    t.regex(err?.message ?? '', message, name);
  }
  const notJson = createBffClient({ fetch: fakeFetch(() => new Response('<html>')).fetch, document: noMeta });
  t.true((await t.throwsAsync(notJson.getToken()))?.cause instanceof SyntaxError, 'the parse error is the cause');
});

test('TMI-44: a network failure is TMI_BFF_TRANSPORT_ERROR naming the URL, with the failure as its cause', async (t) => {
  const offline = new TypeError('Failed to fetch');
  const bff = createBffClient({ fetch: fakeFetch(() => Promise.reject(offline)).fetch, document: noMeta });
  const err = await t.throwsAsync(bff.getSessionInfo());
  t.true(isBffError(err, ERROR_CODES.TRANSPORT_ERROR));
  t.is(err?.message, '/.well-known/bff-sessioninfo could not be reached');
  t.is(err?.cause, offline);

  const api = fakeFetch((url, n) => (url.startsWith('/.well-known') ? token(n) : Promise.reject(offline)));
  const apiErr = await t.throwsAsync(createBffClient({ fetch: api.fetch, document: noMeta }).fetch('https://api/x'));
  t.true(isBffError(apiErr, ERROR_CODES.TRANSPORT_ERROR));
  t.is(apiErr?.message, 'https://api/x could not be reached');
  t.is(apiErr?.cause, offline);
});

test('TMI-BFF-01 §5: session info must be a JSON object; null, a string or an array is TMI_BFF_PROTOCOL_ERROR', async (t) => {
  for (const body of [null, 'alice', ['alice']]) {
    const bff = createBffClient({ fetch: fakeFetch(() => json(200, body)).fetch, document: noMeta });
    const err = await t.throwsAsync(bff.getSessionInfo());
    t.true(isBffError(err, ERROR_CODES.PROTOCOL_ERROR), JSON.stringify(body));
    t.is(err?.message, '/.well-known/bff-sessioninfo did not answer a JSON object');
  }
  const me = createBffClient({ fetch: fakeFetch(() => json(200, { sub: 'alice' })).fetch, document: noMeta });
  t.deepEqual(await me.getSessionInfo(), { sub: 'alice' });
});

test('TMI-BFF-01 §4.1: the request is a GET; scopes are joined by spaces, empty ones dropped; a resource is never split', async (t) => {
  const net = fakeFetch((_u, n) => token(n));
  const bff = createBffClient({ fetch: net.fetch, document: noMeta });
  await bff.getToken({ resource: 'urn:example:a b', scope: ' b  a ' });
  t.is(net.calls[0]?.init?.method, 'GET');
  t.is(net.calls[0]?.url, '/.well-known/bff-token?resource=urn%3Aexample%3Aa+b&scope=a+b');
});

test('TMI-BFF-01 §4.2: the token answer keeps a string scope and nothing else', async (t) => {
  const scoped = createBffClient({ fetch: fakeFetch((_u, n) => token(n)).fetch, document: noMeta });
  t.deepEqual(await scoped.getToken(), { access_token: 't1', expires_in: 300, scope: 'a' });
  const odd = json(200, { access_token: 'x', expires_in: 60, scope: 42, refresh_token: 'r' });
  const unscoped = createBffClient({ fetch: fakeFetch(() => odd).fetch, document: noMeta });
  t.deepEqual(await unscoped.getToken(), { access_token: 'x', expires_in: 60 });
});

test('TMI-42: a token with exactly the margin left is not used; concurrent calls for different tokens or a fresh one each go out', async (t) => {
  let now = 1_000_000;
  const net = fakeFetch((_u, n) => token(n, 100));
  const bff = createBffClient({ fetch: net.fetch, now: () => now, document: noMeta });
  await bff.getToken();
  now += 70_000; // 30 s left: the margin itself
  t.is((await bff.getToken()).access_token, 't2');

  const flights = fakeFetch((_u, n) => token(n));
  const many = createBffClient({ fetch: flights.fetch, document: noMeta });
  const [a, b, fresh] = await Promise.all([
    many.getToken({ resource: 'a' }),
    many.getToken({ resource: 'b' }),
    many.getToken({ resource: 'a', fresh: true }),
  ]);
  t.is(flights.calls.length, 3);
  t.deepEqual(new Set([a.access_token, b.access_token, fresh.access_token]).size, 3);
  t.is(flights.calls[2]?.url, '/.well-known/bff-token?resource=a&fresh=1');
});

test('D1: without a document, or with an empty meta tag, the default paths are used; without a fetch option, the global fetch', async (t) => {
  const net = fakeFetch((_u, n) => token(n));
  await createBffClient({ fetch: net.fetch }).getToken();
  const empty = { querySelector: () => ({ getAttribute: () => '' }) } as unknown as Pick<Document, 'querySelector'>;
  await createBffClient({ fetch: net.fetch, document: empty }).getToken();
  const content = {
    querySelector: () => ({ getAttribute: (name: string) => (name === 'content' ? '/meta/token' : '') }),
  } as unknown as Pick<Document, 'querySelector'>;
  await createBffClient({ fetch: net.fetch, document: content }).getToken();
  t.deepEqual(
    net.calls.map((c) => c.url),
    ['/.well-known/bff-token', '/.well-known/bff-token', '/meta/token'],
    'the path is the meta tag’s content attribute',
  );

  const global = fakeFetch((_u, n) => token(n));
  const saved = globalThis.fetch;
  globalThis.fetch = global.fetch;
  t.teardown(() => {
    globalThis.fetch = saved;
  });
  t.is((await createBffClient({ document: noMeta }).getToken()).access_token, 't1');
  t.is(global.calls.length, 1);
});

test('TMI-45, D11: only a 401 with invalid_token leads to a retry; a fresh token rejected again is TMI_BFF_TOKEN_REJECTED with its body', async (t) => {
  const forbidden = fakeFetch((url, n) =>
    url.startsWith('/.well-known') ? token(n) : bearer(403, 'Bearer error="invalid_token"'),
  );
  const res = await createBffClient({ fetch: forbidden.fetch, document: noMeta }).fetch('https://api/x');
  t.is(res.status, 403);
  t.is(forbidden.calls.length, 2, 'a 403 is returned as it is');

  for (const [status, challenge] of [
    [401, 'Bearer'],
    [403, 'Bearer error="invalid_token"'],
  ] as const) {
    let api = 0;
    const net = fakeFetch((url, n) => {
      if (url.startsWith('/.well-known')) return token(n);
      api += 1;
      return api === 1 ? bearer(401, 'Bearer error="invalid_token"') : bearer(status, challenge);
    });
    const retried = await createBffClient({ fetch: net.fetch, document: noMeta }).fetch('https://api/x');
    t.is(retried.status, status, `${status} ${challenge} on the retry is returned`);
    t.is(net.calls.length, 4);
  }

  const rejected = fakeFetch((url, n) =>
    url.startsWith('/.well-known') ? token(n) : bearer(401, 'Bearer error="invalid_token"'),
  );
  const err = (await t.throwsAsync(
    createBffClient({ fetch: rejected.fetch, document: noMeta }).fetch('https://api/x'),
  )) as BffResponseError;
  t.is(err.code, ERROR_CODES.TOKEN_REJECTED);
  t.is(err.status, 401);
  t.is(err.error, 'invalid_token');
  t.is(err.error_description, 'the resource server rejected a fresh token too');
});

test('isBffError: true for the SDK’s errors, with the code when one is given; false for anything else', async (t) => {
  const bff = createBffClient({
    fetch: fakeFetch(() => json(400, { error: 'invalid_session' })).fetch,
    document: noMeta,
  });
  const err = await t.throwsAsync(bff.getToken());
  t.true(isBffError(err));
  t.true(isBffError(err, ERROR_CODES.INVALID_SESSION));
  t.false(isBffError(err, ERROR_CODES.BACKEND_NOT_READY));
  t.false(isBffError(new Error('x')));
  t.false(
    isBffError(Object.assign(new Error('x'), { code: ERROR_CODES.INVALID_SESSION }), ERROR_CODES.INVALID_SESSION),
  );
});

test('options: a non-object is refused, an option left undefined is its default, http and https URLs are taken, a path with a space is not', (t) => {
  t.throws(() => createBffClient('tokenEndpoint' as never), {
    instanceOf: TypeError,
    message: /options must be an object/,
  });
  const { fetch } = fakeFetch(() => token(1));
  // A JavaScript caller may spell a default out as undefined.
  const spelledOut = { fetch, tokenEndpoint: undefined, csrfHeader: undefined, document: noMeta };
  t.notThrows(() => createBffClient(spelledOut as unknown as BffClientOptions));
  t.notThrows(() => createBffClient({ fetch, tokenEndpoint: 'http://localhost:3000/.well-known/bff-token' }));
  t.throws(() => createBffClient({ fetch, sessionInfoEndpoint: '/bff sessioninfo' }), {
    instanceOf: TypeError,
    message: /options\.sessionInfoEndpoint must be a path/,
  });
});
