import test from 'ava';
import Koa from 'koa';
import {
  BackendNotReady,
  createTmiBff,
  InvalidSession,
  ServerError,
  SPEC,
  type TmiBffOptions,
  type TokenSource,
  toErrorBody,
  toTokenRequest,
  WELL_KNOWN,
} from '../src/index.js';

const tokens: TokenSource = {
  getToken: async () => ({
    token: { access_token: 't', scope: 's', resources: [], expires_at: Date.now() + 60_000 },
    source: 'cache',
  }),
  expiresIn: () => 60,
};
const base: TmiBffOptions = { origin: 'http://localhost:3000', getSession: async () => undefined, tokens };

test('options: unknown keys and wrong types throw coded TypeErrors', (t) => {
  t.throws(() => createTmiBff({ ...base, cors: true } as unknown as TmiBffOptions), {
    instanceOf: TypeError,
    message: 'unknown option "cors"',
    code: 'ERR_INVALID_ARG_VALUE',
  } as never);
  t.throws(() => createTmiBff({ ...base, origin: 'http://localhost:3000/app' }), {
    code: 'ERR_INVALID_ARG_VALUE',
  } as never);
  t.throws(() => createTmiBff({ ...base, getSession: 'x' } as unknown as TmiBffOptions), {
    code: 'ERR_INVALID_ARG_TYPE',
  } as never);
  t.throws(() => createTmiBff({ ...base, paths: { bffToken: 'token' } }), {
    message: 'options.paths.bffToken must be a path starting with "/"',
  });
});

test('options: ack must name the pinned draft; another revision throws', (t) => {
  t.notThrows(() => createTmiBff({ ...base, ack: SPEC.draft }));
  t.throws(() => createTmiBff({ ...base, ack: 'draft-bertocci-oauth2-tmi-bff-00' }), {
    message:
      'this package implements draft-bertocci-oauth2-tmi-bff-01; options.ack names "draft-bertocci-oauth2-tmi-bff-00"',
  });
  t.is(SPEC.draft, 'draft-bertocci-oauth2-tmi-bff-01');
});

test('D1: default paths are the well-known ones; custom paths are served and advertised in meta tags', (t) => {
  const plain = createTmiBff(base);
  t.deepEqual(plain.options.paths, { bffToken: WELL_KNOWN.bffToken, bffSessionInfo: WELL_KNOWN.bffSessionInfo });
  const custom = createTmiBff({ ...base, paths: { bffToken: '/api/token', bffSessionInfo: '/api/me' } });
  t.is(
    custom.metaTags(),
    '<meta name="tmi-bff-token-endpoint" content="/api/token">\n<meta name="tmi-bff-sessioninfo-endpoint" content="/api/me">',
  );
});

test('TMI-BFF-01 §3.1 (TMI-10, TMI-11), D3: toTokenRequest normalises parameters', (t) => {
  const parse = (q: string) => toTokenRequest(new URLSearchParams(q), 'fresh');
  t.deepEqual(parse(''), { resources: [], scopes: [], fresh: false });
  t.deepEqual(parse('scope=&resource='), { resources: [], scopes: [], fresh: false });
  t.deepEqual(parse('scope=b%20a%20b&resource=r2&resource=r1&resource=r2&x=1'), {
    resources: ['r1', 'r2'],
    scopes: ['a', 'b'],
    fresh: false,
  });
  t.deepEqual(parse('fresh=1').fresh, true);
  t.deepEqual(parse('fresh=0').fresh, false);
  t.throws(() => parse('scope=a&scope=b'), {
    message: 'invalid_request: scope must not be repeated: send one space-delimited value',
  });
  t.notThrows(() => parse('scope=a&scope='), 'an empty repeat is absent');
});

test('errors: one serializer — exposed errors as they are, anything else a generic server_error', (t) => {
  t.deepEqual(toErrorBody(new InvalidSession()), {
    error: 'invalid_session',
    error_description: 'no valid session: sign in first',
  });
  t.deepEqual(toErrorBody(new BackendNotReady('x')), { error: 'backend_not_ready', error_description: 'x' });
  t.deepEqual(toErrorBody(new ServerError('secret detail')), {
    error: 'server_error',
    error_description: 'the backend failed unexpectedly; see its log',
  });
  t.deepEqual(toErrorBody(new Error('db password is hunter2')), {
    error: 'server_error',
    error_description: 'the backend failed unexpectedly; see its log',
  });
});

test('a bug in a token source is a 500 with a generic body: no message, no stack', async (t) => {
  const logged: unknown[] = [];
  const bff = createTmiBff({
    ...base,
    getSession: async () => ({ id: 's', claims: {} }),
    tokens: { ...tokens, getToken: async () => Promise.reject(new Error('db password is hunter2')) },
    logger: { debug() {}, error: (_e, data) => logged.push(data) },
  });
  const app = new Koa();
  app.use(bff.routes());
  const server = app.listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}${WELL_KNOWN.bffToken}`, { headers: { 'TMI-BFF-CSRF': '1' } });
  t.is(res.status, 500);
  const text = await res.text();
  t.deepEqual(JSON.parse(text), {
    error: 'server_error',
    error_description: 'the backend failed unexpectedly; see its log',
  });
  t.false(text.includes('hunter2'));
  t.is(res.headers.get('cache-control'), 'no-store');
  t.regex(JSON.stringify(logged), /hunter2/, 'the cause goes to the log');
});
