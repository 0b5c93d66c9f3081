/**
 * The start-up check against the AS's metadata: the real mock AS passes; every other fault is
 * provoked for real (a name under .invalid, a closed port, a silent server, https at a plain-http
 * server) or by the fake AS's crafted metadata, and each finding names its cause and its setting.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { backendSettings, DEFAULT_ADDRESSES, loadSeed, SEED_FILE, startMockAs } from '@tmi-bff/mock-as';
import test, { type ExecutionContext } from 'ava';
import { exportPKCS8, generateKeyPair } from 'jose';
import { type BackendConfig, createBackend } from '../src/index.js';
import { checkAuthorizationServer, type StartupReport } from '../src/startup-check.js';
import { type FakeAsOptions, json, startFakeAs } from './_fake-as.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

interface Settings {
  strategy?: 'refresh' | 'exchange';
  id?: string;
  secret?: string;
  authMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  privateKey?: { key: string; alg?: string };
  scope?: string;
  resources?: string[];
  asTimeoutMs?: number;
}

function configFor(issuer: string, s: Settings = {}): BackendConfig {
  return {
    origin: 'http://127.0.0.1:3999',
    issuer,
    client: {
      id: s.id ?? 'bff',
      secret: s.secret ?? 'bff-secret',
      ...(s.authMethod ? { authMethod: s.authMethod } : {}),
      ...(s.privateKey ? { privateKey: s.privateKey } : {}),
    },
    login: { scope: s.scope ?? 'openid profile email offline_access', resources: s.resources ?? [] },
    tokens: { strategy: s.strategy ?? 'refresh', expiryMarginSeconds: 30, asTimeoutMs: s.asTimeoutMs ?? 3000 },
    sessionMaxAgeMs: 3600_000,
    log: () => {},
  };
}

/** The check as server.ts runs it: with the backend's own client of the AS. */
async function check(t: ExecutionContext, issuer: string, settings: Settings = {}): Promise<StartupReport> {
  const config = configFor(issuer, settings);
  const backend = await createBackend(config);
  t.teardown(() => backend.close());
  return checkAuthorizationServer(config, backend.client);
}

/** The check against the fake AS, its metadata crafted by `options`. */
async function checkFake(t: ExecutionContext, options: FakeAsOptions, settings: Settings = {}) {
  const fake = await startFakeAs(t, options);
  return { fake, report: await check(t, fake.issuer, settings) };
}

/** A loopback port nothing listens on: one just closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const settingsOf = (findings: { setting: string }[]) => findings.map((f) => f.setting);

test('the real mock AS serves the default configuration and the demo settings: no finding', async (t) => {
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: 'http://127.0.0.1:3999' });
  const as = await startMockAs({ seed, log: () => {} });
  t.teardown(() => as.close());
  const demo = backendSettings(seed); // what npm run dev passes: its client, resources and their scopes
  t.true(demo.login.scope.includes(':'), 'the demo scope holds API scopes, which scopes_supported leaves out');
  for (const strategy of ['refresh', 'exchange'] as const) {
    t.deepEqual(await check(t, as.issuer, { strategy }), { errors: [], warnings: [] }, strategy);
    const settings = { strategy, ...demo.client, scope: demo.login.scope, resources: demo.login.resources };
    t.deepEqual(await check(t, as.issuer, settings), { errors: [], warnings: [] }, `${strategy}, demo settings`);
  }
});

test('DNS: a host name that does not resolve is unreachable, naming the host and BFF_ISSUER', async (t) => {
  // However slow the resolver is, its answer is awaited: the failure to name is the lookup's.
  const report = await check(t, 'http://as.invalid', { asTimeoutMs: 30_000 });
  t.deepEqual(report.errors, []);
  t.is(report.unreachable?.setting, 'BFF_ISSUER');
  t.regex(report.unreachable?.message ?? '', /BFF_ISSUER \(http:\/\/as\.invalid\) could not be reached/);
  t.regex(report.unreachable?.message ?? '', /the host name as\.invalid does not resolve \((ENOTFOUND|EAI_AGAIN)\)/);
  t.regex(report.unreachable?.message ?? '', /Is it running\? Is the host right\?/);
});

test('a refused connection is unreachable, naming the address', async (t) => {
  const port = await closedPort();
  const report = await check(t, `http://127.0.0.1:${port}`);
  t.deepEqual(report.errors, []);
  t.is(report.unreachable?.setting, 'BFF_ISSUER');
  t.regex(
    report.unreachable?.message ?? '',
    new RegExp(`nothing listens at 127\\.0\\.0\\.1:${port} \\(connection refused, ECONNREFUSED\\)`),
  );
  t.regex(report.unreachable?.message ?? '', /Is it running\? Is the host right\?/);
});

test('a server that never answers is unreachable after BFF_AS_TIMEOUT_MS', async (t) => {
  const silent = createServer(() => {});
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.teardown(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const issuer = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const started = Date.now();
  const report = await check(t, issuer, { asTimeoutMs: 300 });
  t.true(Date.now() - started < 10_000); // not the 30 s openid-client would wait
  t.deepEqual(report.errors, []);
  t.is(report.unreachable?.setting, 'BFF_ISSUER');
  t.is(
    report.unreachable?.message,
    `the authorization server at BFF_ISSUER (${issuer}) could not be reached: discovery at ` +
      `${issuer}/.well-known/openid-configuration got no answer within BFF_AS_TIMEOUT_MS (300 ms). ` +
      'Is it running? Is the host right?',
  );
});

test('TLS: an https issuer at a plain-http server is an error naming the cause and BFF_ISSUER', async (t) => {
  const fake = await startFakeAs(t);
  const issuer = fake.issuer.replace(/^http:/, 'https:');
  const report = await check(t, issuer);
  t.is(report.unreachable, undefined);
  t.deepEqual(settingsOf(report.errors), ['BFF_ISSUER']);
  t.regex(
    report.errors[0]?.message ?? '',
    /^TLS failed at https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration/,
  );
  t.regex(report.errors[0]?.message ?? '', /\(ERR_SSL_[A-Z_]+\): the server there speaks plain http, not https/);
  t.true(report.errors[0]?.message.endsWith(`to ${fake.issuer}`));
});

/** Test only: a self-signed certificate for 127.0.0.1 (valid to 2126) that nothing trusts, and its key. */
const UNTRUSTED_TLS = {
  key: [
    '-----BEGIN PRIVATE KEY-----',
    'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgS/ZEewSkukVioIvE',
    'NDsOj4+x52h/qXf66QjD1Skan0KhRANCAATuDnBtQU7Yjgcd2VXEq8PLWGliT+hL',
    'oBMRZxW1XMk6xljjdxFzigtUszzfzbub9p4Xm1PorYr9AREowVr8v7F6',
    '-----END PRIVATE KEY-----',
  ].join('\n'),
  cert: [
    '-----BEGIN CERTIFICATE-----',
    'MIIBkDCCATagAwIBAgIUVRDwt5+f2cM52LXxCzEtnHNXgR8wCgYIKoZIzj0EAwIw',
    'FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEzMDE2Mzg0NVoYDzIxMjYxMTA2',
    'MTYzODQ1WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO',
    'PQMBBwNCAATuDnBtQU7Yjgcd2VXEq8PLWGliT+hLoBMRZxW1XMk6xljjdxFzigtU',
    'szzfzbub9p4Xm1PorYr9AREowVr8v7F6o2QwYjAdBgNVHQ4EFgQUWguTnkqy0sRc',
    'N4WDIqE1YJcxPUkwHwYDVR0jBBgwFoAUWguTnkqy0sRcN4WDIqE1YJcxPUkwDwYD',
    'VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC',
    'IATqiiGo1O3TjD55u7umrAn1jFQlDyl9xfsK8yPSc8nTAiEA2S4HXndX4pil1UdD',
    '7WqN9qyWkDX2lX3zY1xlpOparvQ=',
    '-----END CERTIFICATE-----',
  ].join('\n'),
};

test('TLS: a certificate nothing trusts is an error naming the cause and what to do', async (t) => {
  const server = createHttpsServer(UNTRUSTED_TLS, (_, res) => json(res, 200, {}));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const report = await check(t, issuer);
  t.is(report.unreachable, undefined);
  t.deepEqual(settingsOf(report.errors), ['BFF_ISSUER']);
  t.is(
    report.errors[0]?.message,
    `TLS failed at ${issuer}/.well-known/openid-configuration (DEPTH_ZERO_SELF_SIGNED_CERT): its certificate is not ` +
      'trusted (expired, self-signed or from an unknown CA). Fix the certificate, or give Node the CA that signed it ' +
      '(NODE_EXTRA_CA_CERTS=<ca.pem>), and check BFF_ISSUER',
  );
});

test('HTTP 404 at the discovery URL: an error naming the URL, the status and BFF_ISSUER', async (t) => {
  const fake = await startFakeAs(t);
  const report = await check(t, `${fake.issuer}/tenant`);
  t.is(report.unreachable, undefined);
  t.deepEqual(settingsOf(report.errors), ['BFF_ISSUER']);
  t.regex(
    report.errors[0]?.message ?? '',
    /^discovery at http:\/\/127\.0\.0\.1:\d+\/tenant\/\.well-known\/openid-configuration answered HTTP 404: BFF_ISSUER must be the issuer identifier/,
  );
});

test('HTTP 500 at the discovery URL: an error naming the status', async (t) => {
  const { fake, report } = await checkFake(t, {
    discovery: (_, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('boom'),
  });
  t.deepEqual(settingsOf(report.errors), ['BFF_ISSUER']);
  t.is(
    report.errors[0]?.message,
    `discovery at ${fake.issuer}/.well-known/openid-configuration answered HTTP 500: the authorization server ` +
      'failed; see its logs, and check BFF_ISSUER',
  );
});

test('a redirect at the discovery URL: an error naming where it leads', async (t) => {
  const { report } = await checkFake(t, {
    discovery: (_, res) => res.writeHead(302, { location: 'https://login.example.com/' }).end(),
  });
  t.deepEqual(settingsOf(report.errors), ['BFF_ISSUER']);
  t.regex(report.errors[0]?.message ?? '', /answered HTTP 302 \(a redirect to https:\/\/login\.example\.com\/\)/);
});

test('a page that is not JSON: an error naming its content type', async (t) => {
  const { fake, report } = await checkFake(t, {
    discovery: (_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Welcome</h1>'),
  });
  t.deepEqual(settingsOf(report.errors), ['BFF_ISSUER']);
  t.is(
    report.errors[0]?.message,
    `discovery at ${fake.issuer}/.well-known/openid-configuration answered text/html, not JSON metadata: ` +
      "BFF_ISSUER is probably not the authorization server's issuer identifier",
  );
});

test('JSON that is not metadata: an error naming what is wrong with it', async (t) => {
  const { report } = await checkFake(t, { discovery: (_, res) => json(res, 200, { status: 'ok' }) });
  t.deepEqual(settingsOf(report.errors), ['BFF_ISSUER']);
  t.regex(report.errors[0]?.message ?? '', /answered something that is not authorization server metadata/);
  t.regex(report.errors[0]?.message ?? '', /"issuer" property must be a string/);
});

test('OIDC Discovery §4.3: metadata naming another issuer is an error with both values', async (t) => {
  const { fake, report } = await checkFake(t, { metadata: { issuer: 'https://other.example.com' } });
  t.is(report.unreachable, undefined);
  t.deepEqual(settingsOf(report.errors), ['BFF_ISSUER']);
  t.is(
    report.errors[0]?.message,
    `the metadata at ${fake.issuer}/.well-known/openid-configuration names the issuer "https://other.example.com", ` +
      `but BFF_ISSUER is "${fake.issuer}": they must be identical, character for character, a trailing slash ` +
      'included (OpenID Connect Discovery 1.0 §4.3, RFC 8414 §3.3). If that is the authorization server you ' +
      'mean, set BFF_ISSUER=https://other.example.com',
  );
});

test('OIDC Discovery §4.3: a trailing slash the configured issuer lacks is a mismatch too', async (t) => {
  const fake = await startFakeAs(t, { trailingSlash: true });
  const configured = fake.issuer.replace(/\/$/, '');
  const report = await check(t, configured);
  t.deepEqual(settingsOf(report.errors), ['BFF_ISSUER']);
  t.regex(
    report.errors[0]?.message ?? '',
    new RegExp(`names the issuer "${fake.issuer}", but BFF_ISSUER is "${configured}": .*a trailing slash included`),
  );
  t.true(report.errors[0]?.message.endsWith(`set BFF_ISSUER=${fake.issuer}`));
});

test('grant_types_supported without refresh_token: an error, the backend needs refresh tokens', async (t) => {
  const { report } = await checkFake(t, { metadata: { grant_types_supported: ['authorization_code'] } });
  t.deepEqual(settingsOf(report.errors), ['BFF_SCOPE']);
  t.is(
    report.errors[0]?.message,
    'the authorization server does not support the refresh_token grant (grant_types_supported: authorization_code), ' +
      'and the backend needs refresh tokens to keep access tokens for the session: enable refresh tokens for this ' +
      'client at the authorization server (many ask for offline_access in BFF_SCOPE)',
  );
});

test('RFC 8414 §2: no grant_types_supported is a warning, not an error', async (t) => {
  const { report } = await checkFake(t, {}); // the fake AS lists no grant types
  t.deepEqual(report.errors, []);
  t.deepEqual(settingsOf(report.warnings), ['BFF_SCOPE']);
  t.regex(report.warnings[0]?.message ?? '', /does not list grant_types_supported, so the backend cannot confirm/);
});

test('BFF_DOWNSCOPING=exchange at an AS without token exchange: an error naming BFF_DOWNSCOPING', async (t) => {
  const grants = ['authorization_code', 'refresh_token'];
  const { report } = await checkFake(t, { metadata: { grant_types_supported: grants } }, { strategy: 'exchange' });
  t.deepEqual(settingsOf(report.errors), ['BFF_DOWNSCOPING']);
  t.is(
    report.errors[0]?.message,
    `BFF_DOWNSCOPING=exchange needs token exchange (${TOKEN_EXCHANGE}), which the authorization server does not ` +
      'list in grant_types_supported (authorization_code, refresh_token): set BFF_DOWNSCOPING=refresh, or enable ' +
      'token exchange at the authorization server',
  );
  const refresh = await checkFake(t, { metadata: { grant_types_supported: grants } }, { strategy: 'refresh' });
  t.deepEqual(refresh.report, { errors: [], warnings: [] });
  const both = await checkFake(
    t,
    { metadata: { grant_types_supported: [...grants, TOKEN_EXCHANGE] } },
    { strategy: 'exchange' },
  );
  t.deepEqual(both.report, { errors: [], warnings: [] });
});

test('RFC 9700 §2.1.1: PKCE without S256 is an error; no code_challenge_methods_supported, a warning', async (t) => {
  const grants = { grant_types_supported: ['authorization_code', 'refresh_token'] };
  const plain = await checkFake(t, { metadata: { ...grants, code_challenge_methods_supported: ['plain'] } });
  t.deepEqual(settingsOf(plain.report.errors), ['BFF_ISSUER']);
  t.is(
    plain.report.errors[0]?.message,
    'the authorization server does not support PKCE with S256 (code_challenge_methods_supported: plain), which the ' +
      'backend uses on every sign-in (RFC 9700 §2.1.1): enable S256 at the authorization server',
  );
  const none = await checkFake(t, { metadata: grants, omit: ['code_challenge_methods_supported'] });
  t.deepEqual(none.report.errors, []);
  t.deepEqual(settingsOf(none.report.warnings), ['BFF_ISSUER']);
  t.regex(none.report.warnings[0]?.message ?? '', /does not list code_challenge_methods_supported.*sends S256 anyway/);
});

test('RFC 8414 §2: a client auth method the AS does not accept is an error naming BFF_CLIENT_AUTH', async (t) => {
  const grants = { grant_types_supported: ['authorization_code', 'refresh_token'] };
  // No token_endpoint_auth_methods_supported: client_secret_basic only.
  const post = await checkFake(t, { metadata: grants }, { authMethod: 'client_secret_post' });
  t.deepEqual(settingsOf(post.report.errors), ['BFF_CLIENT_AUTH']);
  t.is(
    post.report.errors[0]?.message,
    'the authorization server does not accept client_secret_post at its token endpoint ' +
      '(token_endpoint_auth_methods_supported: client_secret_basic): set BFF_CLIENT_AUTH=client_secret_basic ' +
      '(with BFF_CLIENT_SECRET)',
  );
  const basic = await checkFake(t, { metadata: grants });
  t.deepEqual(basic.report, { errors: [], warnings: [] });

  const jwtOnly = { ...grants, token_endpoint_auth_methods_supported: ['private_key_jwt', 'tls_client_auth'] };
  const secret = await checkFake(t, { metadata: jwtOnly });
  t.deepEqual(settingsOf(secret.report.errors), ['BFF_CLIENT_AUTH']);
  t.regex(
    secret.report.errors[0]?.message ?? '',
    /does not accept client_secret_basic .*\(token_endpoint_auth_methods_supported: private_key_jwt, tls_client_auth\): set BFF_CLIENT_AUTH=private_key_jwt \(with BFF_CLIENT_KEY_FILE\)$/,
  );
});

test('private_key_jwt with an algorithm the AS does not take is an error naming BFF_CLIENT_KEY_ALG', async (t) => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const key = { key: await exportPKCS8(privateKey), alg: 'ES256' };
  const metadata = {
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256'],
  };
  const { report } = await checkFake(t, { metadata }, { authMethod: 'private_key_jwt', privateKey: key });
  t.deepEqual(settingsOf(report.errors), ['BFF_CLIENT_KEY_ALG']);
  t.regex(report.errors[0]?.message ?? '', /does not accept ES256 client assertions .*RS256, PS256/);
});

test('no revocation_endpoint and no end_session_endpoint: a warning each, saying what sign-out cannot do', async (t) => {
  const { report } = await checkFake(t, {
    metadata: { grant_types_supported: ['authorization_code', 'refresh_token'] },
    omit: ['revocation_endpoint', 'end_session_endpoint'],
  });
  t.deepEqual(report.errors, []);
  t.deepEqual(settingsOf(report.warnings), ['BFF_ISSUER', 'BFF_ISSUER']);
  t.regex(report.warnings[0]?.message ?? '', /no revocation_endpoint: sign-out cannot revoke refresh tokens there/);
  t.regex(report.warnings[1]?.message ?? '', /no end_session_endpoint: sign-out ends only the local session/);
});

test('BFF_SCOPE asking for an OpenID Connect scope outside scopes_supported: a warning naming it', async (t) => {
  const { report } = await checkFake(
    t,
    {
      metadata: {
        grant_types_supported: ['authorization_code', 'refresh_token'],
        scopes_supported: ['openid', 'profile', 'email'],
      },
    },
    // An API scope the AS does not list is no finding: ASes routinely leave those out (RFC 8414 §2).
    { scope: 'openid profile email offline_access stocks:read' },
  );
  t.deepEqual(report.errors, []);
  t.deepEqual(settingsOf(report.warnings), ['BFF_SCOPE']);
  t.is(
    report.warnings[0]?.message,
    'BFF_SCOPE asks for offline_access, which the authorization server does not list in scopes_supported ' +
      '(openid, profile, email); if sign-in fails with invalid_scope, remove it from BFF_SCOPE',
  );
});

test('RFC 8707 resources: no standard metadata tells, so nothing is guessed', async (t) => {
  const { report } = await checkFake(
    t,
    { metadata: { grant_types_supported: ['authorization_code', 'refresh_token'] } },
    { resources: ['https://api.example.com/'] },
  );
  t.deepEqual(report, { errors: [], warnings: [] });
});

test('metadata without the code flow or a token endpoint: an error each', async (t) => {
  const { report } = await checkFake(t, {
    metadata: {
      grant_types_supported: ['authorization_code', 'refresh_token'],
      response_types_supported: ['id_token'],
    },
    omit: ['token_endpoint'],
  });
  t.deepEqual(settingsOf(report.errors), ['BFF_ISSUER', 'BFF_ISSUER']);
  t.regex(report.errors[0]?.message ?? '', /has no token_endpoint, which sign-in needs/);
  t.regex(
    report.errors[1]?.message ?? '',
    /does not offer the authorization code flow \(response_types_supported: id_token\)/,
  );
});
