/**
 * How the backend answers an AS that misbehaves in ways the real mock AS never does: each fault is
 * provoked by the small fake AS of _fake-as.ts and must be reported as what it is (D6), and a token
 * broader than asked for is never handed out (TMI-24).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { createBackend } from '../src/index.js';
import { backendAgainst, type FakeAsOptions, json, startFakeAs } from './_fake-as.js';

const API = 'https://api.example/one';

async function againstFakeAs(t: ExecutionContext, options: FakeAsOptions = {}) {
  const fake = await startFakeAs(t, options);
  const { user, logs, signIn, backend } = await backendAgainst(t, {
    issuer: fake.issuer,
    client: { id: 'bff', secret: 'secret' },
    login: { scope: 'openid read write', resources: [API] },
    tokens: { strategy: 'refresh', expiryMarginSeconds: 30, asTimeoutMs: 2000, defaultResource: API },
    sessionMaxAgeMs: 3600_000,
  });
  return { fake, user, logs, signIn, backend };
}

test('TMI-BFF-01 §8.3 (TMI-24): an AS that ignores narrowing → invalid_scope naming what it added; the broader token is not handed out', async (t) => {
  const { user, signIn, logs, fake } = await againstFakeAs(t, {
    // An AS that ignores the requested scope on refresh and returns the whole grant.
    refresh: (_request, res) =>
      json(res, 200, { access_token: 'BROAD-TOKEN', token_type: 'Bearer', expires_in: 300, scope: 'read write' }),
  });
  t.is((await signIn()).status, 303);
  const narrow = await user.token({ resource: API, scope: 'read' });
  t.is(narrow.status, 400);
  t.deepEqual(narrow.body, {
    error: 'invalid_scope',
    error_description:
      // RFC 6749 §5.2: no double quote in an error_description (the log line keeps them).
      "the authorization server did not narrow the token to 'read' (it added 'write'); a broader token is not handed out",
  });
  t.false(JSON.stringify(narrow.body).includes('BROAD-TOKEN'));
  t.true(logs.some((l) => l.startsWith('tokens.scope_not_narrowed') && l.includes('"issued":"read write"')));
  // Asked again, the cache does not serve the broad token either.
  t.like((await user.token({ resource: API, scope: 'read' })).body, { error: 'invalid_scope' });
  // A request for the whole scope gets it, from the cache: it is exactly what was asked.
  const whole = await user.token({ resource: API, scope: 'read write' });
  t.is(whole.status, 200);
  t.is(whole.headers.get('tmi-bff-token-source'), 'cache');
  t.is(fake.requests.filter((r) => r.grant_type === 'refresh_token').length, 2);
});

test('RFC 6749 §5.1: a token response without scope means the requested scope, and is served as such', async (t) => {
  const { user, signIn } = await againstFakeAs(t, {
    refresh: (_request, res) => json(res, 200, { access_token: 'as-asked', token_type: 'Bearer', expires_in: 300 }),
  });
  await signIn();
  const res = await user.token({ resource: API, scope: 'write read' });
  t.is(res.status, 200);
  t.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'scope']);
  t.is(res.body.scope, 'read write');
  t.is(res.body.access_token, 'as-asked');
});

test('D6: an AS token endpoint answering HTML is reported as a non-OAuth answer, not as a timeout', async (t) => {
  const { user, signIn, logs } = await againstFakeAs(t, {
    refresh: (_request, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>'),
  });
  await signIn();
  const res = await user.token({ resource: API, scope: 'read' });
  t.is(res.status, 400);
  t.deepEqual(res.body, {
    error: 'temporarily_unavailable',
    error_description:
      'the authorization server answered something that is not OAuth JSON (HTTP 200, text/html); try again shortly',
  });
  t.true(logs.some((l) => l.includes('bad_response')));
  t.is((await user.sessionInfo()).status, 200, 'the session is kept');
});

test('D6: an AS answering HTTP 503 with no OAuth error is reported with its status', async (t) => {
  const { user, signIn } = await againstFakeAs(t, {
    refresh: (_request, res) => json(res, 503, { message: 'down for maintenance' }),
  });
  await signIn();
  const res = await user.token({ resource: API, scope: 'read' });
  t.deepEqual(res.body, {
    error: 'temporarily_unavailable',
    error_description:
      'the authorization server answered HTTP 503, application/json without an OAuth error; try again shortly',
  });
});

test('RFC 7009: sign-out against an AS with no revocation endpoint logs "does not advertise", not "unreachable"; the session ends all the same', async (t) => {
  const { user, signIn, logs, fake } = await againstFakeAs(t, { omit: ['revocation_endpoint'] });
  await signIn();
  const out = await user.fetch('/auth/logout', { method: 'POST', headers: { origin: user.origin } });
  t.is(out.status, 303);
  t.true(out.headers.get('location')?.startsWith(`${fake.issuer}/end`));
  const line = logs.find((l) => l.startsWith('grant.revocation_failed')) ?? '';
  t.regex(line, /unsupported: the authorization server does not advertise revocation_endpoint in its metadata/);
  t.notRegex(line, /unreachable/);
  t.like((await user.sessionInfo()).body, { error: 'invalid_session' });
});

test('RP-initiated logout: an AS with no end-session endpoint is logged as such, and the browser goes home', async (t) => {
  const { user, signIn, logs, fake } = await againstFakeAs(t, { omit: ['end_session_endpoint'] });
  await signIn();
  const out = await user.fetch('/auth/logout', { method: 'POST', headers: { origin: user.origin } });
  t.is(out.status, 303);
  t.is(out.headers.get('location'), '/');
  t.true(logs.some((l) => l.startsWith('grant.revoked (signed out)')));
  t.deepEqual(fake.revoked.length, 1);
  t.true(
    logs.some((l) =>
      /auth\.logout: no RP-initiated logout \(unsupported\): .*does not advertise end_session_endpoint/.test(l),
    ),
  );
});

test('D6: a discovery the AS answered with 404 says so, and names the setting to check — not "not reachable"', async (t) => {
  const { user } = await againstFakeAs(t, {
    discovery: (_issuer, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'),
  });
  const page = await user.fetch('/auth/login');
  t.is(page.status, 503);
  const html = await page.text();
  t.regex(html, /The sign-in server answered, but not as expected/);
  t.regex(html, /HTTP 404/);
  t.regex(html, /BFF_ISSUER/);
  t.notRegex(html, /not reachable/);
});

test('D6: metadata naming another issuer is reported as a mismatch, naming the setting', async (t) => {
  const { user } = await againstFakeAs(t, {
    discovery: (issuer, res) =>
      json(res, 200, {
        issuer: `${issuer}/other`,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
      }),
  });
  const page = await user.fetch('/auth/login');
  t.is(page.status, 503);
  const html = await page.text();
  t.regex(html, /names another issuer|does not match/);
  t.regex(html, /BFF_ISSUER/);
});

test('D6: a discovery that finds nothing listening says the sign-in server is not reachable', async (t) => {
  const { user, backend } = await againstFakeAs(t);
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  await once(closed, 'close');
  // A second backend pointed at a port where nothing listens.
  const down = await createBackend({
    origin: user.origin,
    issuer: `http://127.0.0.1:${port}`,
    client: { id: 'bff', secret: 'secret' },
    login: { scope: 'openid', resources: [API] },
    tokens: { strategy: 'refresh', expiryMarginSeconds: 30, asTimeoutMs: 2000 },
    sessionMaxAgeMs: 60_000,
    log: () => {},
  });
  t.teardown(() => down.close());
  const server = createServer(down.app.callback());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/login`);
  t.is(res.status, 503);
  const html = await res.text();
  t.regex(html, /The sign-in server is not reachable/);
  t.regex(html, /could not be reached/);
  t.truthy(backend);
});
