/**
 * configFromEnv: every setting has a default for when it is unset, and an empty value means empty —
 * either nothing (no resources) or a start-up error that names the variable.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { configFromEnv, type SeedDefaults } from '../src/index.js';
import { HEAD_MARKER } from '../src/spa.js';
import { backendAgainst, startFakeAs } from './_fake-as.js';

const seed: SeedDefaults = {
  client: { id: 'bff', secret: 'seed-secret' },
  login: { scope: 'openid seed:scope', resources: ['https://seed.example/api'] },
};
const from = (env: Record<string, string>) => configFromEnv({ BFF_DATA_DIR: 'memory', ...env }, '/repo/rb', seed);

test('BFF_RESOURCES set but empty means no resources and no default resource; unset means the seed’s', (t) => {
  const empty = from({ BFF_RESOURCES: '' }).config;
  t.deepEqual(empty.login.resources, []);
  t.is(empty.tokens.defaultResource, undefined);
  const unset = from({}).config;
  t.deepEqual(unset.login.resources, ['https://seed.example/api']);
  t.is(unset.tokens.defaultResource, 'https://seed.example/api');
  t.deepEqual(from({ BFF_RESOURCES: ' https://a.example  https://b.example ' }).config.login.resources, [
    'https://a.example',
    'https://b.example',
  ]);
});

test('A setting that cannot be empty, set but empty, is refused at start-up with an error naming it', (t) => {
  for (const [name, reason] of [
    ['BFF_SCOPE', /sign-in needs a scope/],
    ['BFF_CLIENT_ID', /confidential client needs one/],
    ['BFF_CLIENT_SECRET', /confidential client needs one/],
    ['BFF_ORIGIN', /unset it for the default/],
    ['BFF_ISSUER', /authorization server is needed/],
    ['MOCK_AS_ISSUER', /authorization server is needed/],
    ['BFF_DOWNSCOPING', /"refresh" or "exchange"/],
    ['BFF_EXPIRY_MARGIN_SECONDS', /unset it for the default \(30\)/],
    ['BFF_AS_TIMEOUT_MS', /unset it for the default \(5000\)/],
    ['BFF_DATA_DIR', /a folder, or "memory"/],
    ['BFF_DATA_KEY', /unset it to generate one/],
    ['BFF_HOST', /unset it to listen on 127.0.0.1/],
    ['BFF_PORT', /unset it to listen on BFF_ORIGIN's port/],
  ] as const) {
    const error = t.throws(() => from({ [name]: ' ' }), { instanceOf: TypeError }, name);
    t.true(error?.message.startsWith(`${name} is set but empty: `), error?.message);
    t.regex(error?.message ?? '', reason, name);
  }
});

test('Switches set but empty are off: no mock mode, no proxy trust, no frontend, and BFF_SPA_DIR="" serves no SPA', (t) => {
  const { config } = from({ BFF_MOCK: '', BFF_TRUST_PROXY: '', BFF_FRONTEND: '', BFF_SPA_DIR: '' });
  t.is(config.mock, undefined);
  t.false(config.trustProxy);
  t.is(config.frontend, undefined);
  t.is(config.spa, undefined);
  t.truthy(from({}).config.spa, 'unset: the sample SPA');
});

test('BFF_RESOURCES="": sign-in asks the AS for no resource, nor does a bff-token call without one', async (t) => {
  const fake = await startFakeAs(t);
  const { config } = from({ BFF_ISSUER: fake.issuer, BFF_RESOURCES: '', BFF_SCOPE: 'openid read' });
  const { user, signIn } = await backendAgainst(t, config);
  t.is((await signIn()).status, 303);
  t.is(fake.authorizations.length, 1);
  t.deepEqual(fake.authorizations[0]?.getAll('resource'), []);
  t.is(fake.authorizations[0]?.get('scope'), 'openid read');
  t.deepEqual(
    fake.requests.map((r) => [r.grant_type, r.resource]),
    [['authorization_code', []]],
  );
  // No default resource either: a bff-token call without one asks the AS for none.
  const token = await user.token({ scope: 'read' });
  t.is(token.status, 200, JSON.stringify(token.body));
  t.like(token.body, { scope: 'read' });
  t.is(typeof token.body.access_token, 'string');
  t.deepEqual(fake.requests[1], { grant_type: 'refresh_token', resource: [], scope: 'read' });
});

test('OIDC Discovery §4.3: an issuer with a trailing slash is kept verbatim, so discovery matches and sign-in succeeds', async (t) => {
  const fake = await startFakeAs(t, { trailingSlash: true });
  t.regex(fake.issuer, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const { config } = from({ BFF_ISSUER: fake.issuer, BFF_RESOURCES: '', BFF_SCOPE: 'openid read' });
  t.is(config.issuer, fake.issuer, 'not rewritten');
  const { user, signIn, logs } = await backendAgainst(t, config);
  const done = await signIn();
  t.is(done.status, 303, logs.join('\n'));
  t.is(done.headers.get('location'), '/');
  const info = await user.sessionInfo();
  t.is(info.status, 200, JSON.stringify(info.body));
  t.like(info.body, { sub: 'alice' });
  t.is(from({ BFF_ISSUER: 'https://tenant.example.com/' }).config.issuer, 'https://tenant.example.com/');
  t.throws(() => from({ BFF_ISSUER: 'tenant.example.com' }), {
    message: /BFF_ISSUER must be the authorization server's issuer URL/,
  });
});

test("BFF_CONNECT_SRC sets the SPA page's CSP connect-src; unset it is the resources' origins, set but empty the page's own origin only", async (t) => {
  const fake = await startFakeAs(t);
  const root = await mkdtemp(join(tmpdir(), 'tmi-bff-connect-src-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await writeFile(join(root, 'index.html'), `<!doctype html><html><head>${HEAD_MARKER}</head><body>app</body></html>`);
  const connectSrc = async (env: Record<string, string>) => {
    const { config } = from({ BFF_ISSUER: fake.issuer, BFF_RESOURCES: 'https://api.example/one', ...env });
    const { user } = await backendAgainst(t, { ...config, spa: { dir: root } });
    const res = await user.fetch('/');
    t.is(res.status, 200);
    return /(?:^|; )connect-src ([^;]*)/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
  };
  t.is(
    await connectSrc({ BFF_CONNECT_SRC: 'https://quotes.example:8443 wss://live.example/' }),
    "'self' https://quotes.example:8443 wss://live.example",
  );
  t.is(await connectSrc({}), "'self' https://api.example");
  t.is(await connectSrc({ BFF_CONNECT_SRC: '' }), "'self'");
  for (const bad of ['https://api.example/path', 'api.example', 'javascript:alert(1)', "'unsafe-inline'"]) {
    t.throws(
      () => from({ BFF_CONNECT_SRC: bad }),
      { message: /^BFF_CONNECT_SRC must be space-separated origins/ },
      bad,
    );
  }
});
