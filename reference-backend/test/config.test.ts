/**
 * configFromEnv: every setting has a default for when it is unset, and an empty value means empty —
 * either nothing (no resources) or a start-up error that names the variable.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { configFromEnv, DEFAULTS } from '../src/index.js';
import { HEAD_MARKER } from '../src/spa.js';
import { backendAgainst, startFakeAs } from './_fake-as.js';

/** The settings that have no default. */
const REQUIRED = { BFF_ISSUER: 'https://as.example', BFF_CLIENT_ID: 'my-bff', BFF_CLIENT_SECRET: 'my-secret' };
const from = (env: Record<string, string>) =>
  configFromEnv({ BFF_DATA_DIR: 'memory', ...REQUIRED, ...env }, '/repo/rb');

test('BFF_RESOURCES unset or set but empty means no resources and no default resource: nothing comes from the mock AS', (t) => {
  for (const env of [{}, { BFF_RESOURCES: '' }]) {
    const { config } = from(env);
    t.deepEqual(config.login.resources, []);
    t.is(config.tokens.defaultResource, undefined);
  }
  const two = from({ BFF_RESOURCES: ' https://a.example  https://b.example ' }).config;
  t.deepEqual(two.login.resources, ['https://a.example', 'https://b.example']);
  t.is(two.tokens.defaultResource, 'https://a.example');
});

test('Unset, the sign-in scope asks for a refresh token (offline_access), the client authenticates with client_secret_basic, and no SPA settings exist', (t) => {
  const { config } = from({});
  t.is(config.login.scope, 'openid profile email offline_access');
  t.is(config.login.scope, DEFAULTS.scope);
  t.is(config.login.params, undefined);
  t.deepEqual(config.client, { id: 'my-bff', authMethod: 'client_secret_basic', secret: 'my-secret' });
  t.is(config.spa?.settings, undefined);
  t.is(config.mock, undefined);
});

test('BFF_ISSUER and BFF_CLIENT_ID are required: unset, start-up stops naming them and saying what they are', (t) => {
  for (const name of ['BFF_ISSUER', 'BFF_CLIENT_ID'] as const) {
    const env: Record<string, string | undefined> = { ...REQUIRED, BFF_DATA_DIR: 'memory' };
    delete env[name];
    const error = t.throws(() => configFromEnv(env, '/repo/rb'), { instanceOf: TypeError }, name);
    t.regex(error?.message ?? '', new RegExp(`^${name} is not set: it is required: `), name);
  }
});

test('BFF_CLIENT_AUTH: the secret methods need BFF_CLIENT_SECRET; private_key_jwt reads BFF_CLIENT_KEY_FILE; anything else is refused', async (t) => {
  t.deepEqual(from({ BFF_CLIENT_AUTH: 'client_secret_post' }).config.client, {
    id: 'my-bff',
    authMethod: 'client_secret_post',
    secret: 'my-secret',
  });
  t.throws(() => configFromEnv({ ...REQUIRED, BFF_CLIENT_SECRET: undefined }, '/x'), {
    message:
      /^BFF_CLIENT_SECRET is not set: it is required: the client secret \(BFF_CLIENT_AUTH is client_secret_basic\)/,
  });
  t.throws(() => from({ BFF_CLIENT_AUTH: 'tls_client_auth' }), {
    message:
      'BFF_CLIENT_AUTH must be one of client_secret_basic, client_secret_post, private_key_jwt, got "tls_client_auth"',
  });
  t.throws(() => from({ BFF_CLIENT_AUTH: 'private_key_jwt' }), {
    message: /^BFF_CLIENT_KEY_FILE is not set: it is required: the private key file/,
  });
  t.throws(() => from({ BFF_CLIENT_AUTH: 'private_key_jwt', BFF_CLIENT_KEY_FILE: '/nonexistent/key.pem' }), {
    message: /^BFF_CLIENT_KEY_FILE \/nonexistent\/key\.pem cannot be read: ENOENT/,
  });
  const dir = await mkdtemp(join(tmpdir(), 'tmi-bff-key-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n');
  const { client } = from({
    BFF_CLIENT_AUTH: 'private_key_jwt',
    BFF_CLIENT_KEY_FILE: join(dir, 'key.pem'),
    BFF_CLIENT_KEY_ID: 'k1',
  }).config;
  t.deepEqual(client, {
    id: 'my-bff',
    authMethod: 'private_key_jwt',
    privateKey: { key: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n', kid: 'k1' },
  });
  t.false('secret' in client, 'no secret is kept for private_key_jwt');
});

test('BFF_AUTHORIZATION_PARAMS adds parameters to the authorization request; those the backend sets are refused, naming the owner', (t) => {
  t.deepEqual(
    from({ BFF_AUTHORIZATION_PARAMS: 'audience=https%3A%2F%2Fapi.example.com&prompt=consent&acr_values=urn:mfa' })
      .config.login.params,
    { audience: 'https://api.example.com', prompt: 'consent', acr_values: 'urn:mfa' },
  );
  t.is(from({ BFF_AUTHORIZATION_PARAMS: '' }).config.login.params, undefined, 'set but empty: none');
  for (const [name, owner] of [
    ['scope', 'BFF_SCOPE'],
    ['resource', 'BFF_RESOURCES'],
    ['redirect_uri', 'BFF_ORIGIN'],
    ['client_id', 'BFF_CLIENT_ID'],
    ['state', 'the backend'],
    ['code_challenge_method', 'the backend'],
  ] as const) {
    const error = t.throws(() => from({ BFF_AUTHORIZATION_PARAMS: `prompt=login&${name}=x` }), undefined, name);
    t.is(
      error?.message.startsWith(`BFF_AUTHORIZATION_PARAMS cannot set "${name}": it is set by ${owner}`),
      true,
      error?.message,
    );
  }
  t.throws(() => from({ BFF_AUTHORIZATION_PARAMS: 'prompt=login&prompt=consent' }), {
    message: 'BFF_AUTHORIZATION_PARAMS sets "prompt" twice',
  });
});

test('BFF_SPA_SETTINGS is JSON for the sample SPA; anything else is refused naming it', (t) => {
  t.deepEqual(from({ BFF_SPA_SETTINGS: '{"personas":[]}' }).config.spa?.settings, { personas: [] });
  t.throws(() => from({ BFF_SPA_SETTINGS: '{personas' }), { message: /^BFF_SPA_SETTINGS must be JSON/ });
});

test('Mock mode: BFF_MOCK=1 with BFF_MOCK_AS_CONTROL names the mock AS control routes; a malformed one is refused', (t) => {
  t.deepEqual(from({ BFF_MOCK: '1', BFF_MOCK_AS_CONTROL: 'http://localhost:4000/_mock' }).config.mock, {
    enabled: true,
    control: 'http://localhost:4000/_mock',
  });
  t.throws(() => from({ BFF_MOCK: '1', BFF_MOCK_AS_CONTROL: 'localhost:4000' }), {
    message: /^BFF_MOCK_AS_CONTROL must be the mock AS's control URL/,
  });
});

test('A setting that cannot be empty, set but empty, is refused at start-up with an error naming it', (t) => {
  for (const [name, reason] of [
    ['BFF_SCOPE', /sign-in needs a scope/],
    ['BFF_CLIENT_ID', /it is required: the client id/],
    ['BFF_CLIENT_SECRET', /it is required: the client secret/],
    ['BFF_CLIENT_AUTH', /one of client_secret_basic/],
    ['BFF_ORIGIN', /unset it for the default/],
    ['BFF_ISSUER', /it is required: the authorization server's issuer/],
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
