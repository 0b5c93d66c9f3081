import test from 'ava';
import { claimsOf, SERVICE_A, SERVICE_B, STOCKS, startStack } from './_setup.js';

async function signedIn(
  t: Parameters<typeof startStack>[0],
  persona = 'alice',
  options?: Parameters<typeof startStack>[1],
) {
  const stack = await startStack(t, options);
  const user = stack.browser();
  await user.signIn({ persona });
  return { stack, user };
}

test('TMI-BFF-01 §4.2 (TMI-18, TMI-21, TMI-22), D7: a token response has exactly access_token, expires_in, scope and the no-store headers', async (t) => {
  const { user } = await signedIn(t);
  const res = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(res.status, 200);
  t.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'scope']);
  t.is(typeof res.body.access_token, 'string');
  t.true(Number.isInteger(res.body.expires_in) && Number(res.body.expires_in) > 0);
  t.is(res.body.scope, 'stocks:read');
  t.is(res.headers.get('content-type'), 'application/json;charset=UTF-8');
  t.is(res.headers.get('cache-control'), 'no-store');
  t.is(res.headers.get('pragma'), 'no-cache');
  t.like(claimsOf(res.body.access_token), { aud: STOCKS, scope: 'stocks:read', sub: 'alice' });
});

test('TMI-BFF-01 §4.1 (TMI-13): the resource goes to the AS and becomes the token audience', async (t) => {
  const { stack, user } = await signedIn(t);
  const res = await user.token({ resource: SERVICE_A, scope: 'a b' });
  t.is(res.status, 200);
  t.like(claimsOf(res.body.access_token), { aud: SERVICE_A, scope: 'a b' });
  t.like(stack.grants.at(-1), { grant_type: 'refresh_token', resource: SERVICE_A, scope: 'a b' });
});

test('TMI-BFF-01 §4.1 (TMI-14): scope is a set — order and duplicates do not matter, and share the cache entry', async (t) => {
  const { stack, user } = await signedIn(t);
  const first = await user.token({ resource: SERVICE_A, scope: 'b a' });
  const calls = stack.grants.length;
  const second = await user.token({ resource: SERVICE_A, scope: 'a  b a' });
  t.is(second.body.access_token, first.body.access_token);
  t.is(stack.grants.length, calls);
  t.is(first.body.scope, 'a b');
});

test('TMI-BFF-01 §4.1 (TMI-15): with no parameters the backend decides: the configured default resource, all its granted scopes', async (t) => {
  const { user } = await signedIn(t);
  const res = await user.token();
  t.is(res.status, 200);
  t.is(res.body.scope, 'stocks:buy stocks:read');
  t.is(claimsOf(res.body.access_token).aud, STOCKS);
});

test('TMI-BFF-01 §3.1 (TMI-10): a parameter with an empty value counts as absent', async (t) => {
  const { user } = await signedIn(t);
  const empty = await user.token({ scope: '', resource: '' });
  t.is(empty.status, 200);
  t.is(empty.body.scope, 'stocks:buy stocks:read');
  const emptyScope = await user.token({ resource: SERVICE_A, scope: '' });
  t.is(emptyScope.body.scope, 'a b c');
});

test('TMI-BFF-01 §3.1 (TMI-11), TMI-05: unknown parameters, client attributes included, are ignored', async (t) => {
  const { user } = await signedIn(t);
  const plain = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  const noisy = await user.token({
    resource: STOCKS,
    scope: 'stocks:read',
    foo: '1',
    client_id: 'evil',
    redirect_uri: 'https://evil.example',
  });
  t.is(noisy.status, 200);
  t.is(noisy.body.access_token, plain.body.access_token);
});

test('D3: a repeated scope parameter is 400 invalid_request', async (t) => {
  const { stack, user } = await signedIn(t);
  const calls = stack.grants.length;
  const res = await user.token({ resource: STOCKS, scope: ['stocks:read', 'stocks:buy'] });
  t.is(res.status, 400);
  t.deepEqual(res.body, {
    error: 'invalid_request',
    error_description: 'scope must not be repeated: send one space-delimited value',
  });
  t.is(stack.grants.length, calls, 'the AS was not asked');
});

test('D3 (TMI-16): repeated resource values go to the AS as several RFC 8707 resources, and its answer is relayed', async (t) => {
  const { stack, user } = await signedIn(t);
  const res = await user.token({ resource: [STOCKS, SERVICE_A] });
  t.is(res.status, 400);
  t.like(res.body, { error: 'invalid_target' });
  t.deepEqual(stack.grants.at(-1)?.resource, [SERVICE_A, STOCKS]);
});

test('TMI-BFF-01 §3.1 (TMI-09), D2: GET and form-encoded POST both work; other methods are 405 with Allow', async (t) => {
  const { user } = await signedIn(t);
  const get = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  const post = await user.bff('/.well-known/bff-token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ resource: STOCKS, scope: 'stocks:read' }),
  });
  t.is(post.status, 200);
  t.is(post.body.access_token, get.body.access_token);

  const json = await user.bff('/.well-known/bff-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resource: STOCKS }),
  });
  t.is(json.status, 400);
  t.like(json.body, { error: 'invalid_request' });

  for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    const res = await user.bff('/.well-known/bff-token', { method });
    t.is(res.status, 405, method);
    t.is(res.headers.get('allow'), 'GET, POST', method);
    t.like(res.body, { error: 'invalid_request' }, method);
  }
});

test('TMI-BFF-01 §4 (TMI-17): a cache hit makes no AS call; a miss with a refresh token makes exactly one', async (t) => {
  const { stack, user } = await signedIn(t);
  const before = stack.grants.length;
  const first = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(first.headers.get('tmi-bff-token-source'), 'refresh');
  t.is(stack.grants.length, before + 1);
  const second = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(second.headers.get('tmi-bff-token-source'), 'cache');
  t.is(second.body.access_token, first.body.access_token);
  t.is(stack.grants.length, before + 1, 'counted at the AS: no second request');
});

test('TMI-BFF-01 §4.2 (TMI-19): a cached token answers with its remaining lifetime', async (t) => {
  const { stack, user } = await signedIn(t);
  const first = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  stack.advance(100_000);
  const later = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(later.body.access_token, first.body.access_token);
  const drop = Number(first.body.expires_in) - Number(later.body.expires_in);
  // The 100 s moved forward, plus the real seconds between the two requests (a few on a loaded machine).
  t.true(drop >= 100 && drop <= 105, `expires_in fell by ${drop}`);
});

test('D8: a cached token within the expiry margin is not served; the AS is asked again', async (t) => {
  const { stack, user } = await signedIn(t);
  const first = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  stack.advance((Number(first.body.expires_in) - 29) * 1000);
  const next = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.not(next.body.access_token, first.body.access_token);
  t.is(next.headers.get('tmi-bff-token-source'), 'refresh');
});

test('TMI-BFF-01 §8.3 (TMI-24, TMI-35): a cached token with more scopes than asked is never served; the AS narrows it', async (t) => {
  const { stack, user } = await signedIn(t);
  const broad = await user.token({ resource: STOCKS, scope: 'stocks:read stocks:buy' });
  t.is(broad.body.scope, 'stocks:buy stocks:read');
  const narrow = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.not(narrow.body.access_token, broad.body.access_token);
  t.is(narrow.body.scope, 'stocks:read');
  t.is(claimsOf(narrow.body.access_token).scope, 'stocks:read');
  t.like(stack.grants.at(-1), { grant_type: 'refresh_token', scope: 'stocks:read' });
});

test('D8 (TMI-24 extension): a token cached for resource A is never served for resource B', async (t) => {
  const { stack, user } = await signedIn(t);
  const stocks = await user.token({ resource: STOCKS });
  const calls = stack.grants.length;
  const a = await user.token({ resource: SERVICE_A });
  t.not(a.body.access_token, stocks.body.access_token);
  t.is(claimsOf(a.body.access_token).aud, SERVICE_A);
  t.is(stack.grants.length, calls + 1);
});

test('TMI-BFF-01 §4.2 (TMI-20): scope names what the token holds', async (t) => {
  const { user } = await signedIn(t);
  const res = await user.token({ resource: SERVICE_A });
  t.is(res.body.scope, 'a b c');
});

test('TMI-BFF-01 §4.3.2 (TMI-27): a session without a refresh token gets backend_not_ready', async (t) => {
  const { stack, user } = await signedIn(t, 'carol');
  const calls = stack.grants.length;
  const res = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(res.status, 400);
  // D13: the AS issued none at sign-in: no user action helps, the backend's configuration does.
  t.deepEqual(res.body, {
    error: 'backend_not_ready',
    error_description:
      'the authorization server issued no refresh token at sign-in: the backend cannot get tokens for this session (see the backend log: auth.no_refresh_token)',
    remediation: 'configuration',
  });
  t.is(res.headers.get('cache-control'), 'no-store');
  t.is(res.headers.get('pragma'), 'no-cache');
  t.is(stack.grants.length, calls, 'the AS was not asked');
});

test('TMI-BFF-01 §4.3.2 (TMI-27): a resource the sign-in did not ask for gets backend_not_ready', async (t) => {
  const { user } = await signedIn(t);
  const res = await user.token({ resource: SERVICE_B, scope: 'b' });
  t.is(res.status, 400);
  t.like(res.body, { error: 'backend_not_ready', remediation: 'consent' });
  t.regex(String(res.body.error_description), /did not ask for http:\/\/localhost:4001\/b/);
});

test('TMI-BFF-01 §4.3.3 (TMI-28): an AS refusal is relayed verbatim — bob and the scope his policy forbids', async (t) => {
  const { user } = await signedIn(t, 'bob');
  const res = await user.token({ resource: STOCKS, scope: 'stocks:buy' });
  t.is(res.status, 400);
  t.deepEqual(res.body, {
    error: 'invalid_scope',
    error_description: 'the account policy of this user does not allow: stocks:buy',
  });
  // His session and grant are intact: what he may have still works.
  const ok = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(ok.status, 200);
});

test('TMI-BFF-01 §4.3.3 (TMI-28): a revoked grant relays invalid_grant, then answers backend_not_ready', async (t) => {
  const { stack, user } = await signedIn(t);
  const grant = await stack.backend.tokens.getGrant(await stack.sessionId(user));
  await stack.as.provider.RefreshToken.find(String(grant?.refresh_token)).then((rt) => rt?.destroy());
  const res = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(res.status, 400);
  t.deepEqual(res.body, { error: 'invalid_grant', error_description: 'grant request is invalid' });
  const again = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  // D13: the refresh token died: a new sign-in helps; bff-sessioninfo says so too.
  t.like(again.body, { error: 'backend_not_ready', remediation: 'sign_in' });
  t.like((await user.sessionInfo()).body, {
    sub: 'alice',
    tokens_unavailable: { error: 'backend_not_ready', remediation: 'sign_in' },
  });
});

test('D11 (extension): fresh=1 skips the cache and gets a new token from the AS', async (t) => {
  const { stack, user } = await signedIn(t);
  const first = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  const calls = stack.grants.length;
  const fresh = await user.token({ resource: STOCKS, scope: 'stocks:read', fresh: '1' });
  t.not(fresh.body.access_token, first.body.access_token);
  t.is(stack.grants.length, calls + 1);
  // and the fresh one is what the cache serves next
  const next = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(next.body.access_token, fresh.body.access_token);
});

test('TMI-BFF-01 §4 (TMI-04): the backend authenticates to the AS as a confidential client with refresh_token grants', async (t) => {
  const { stack, user } = await signedIn(t);
  await user.token({ resource: STOCKS, scope: 'stocks:read' });
  t.deepEqual(
    stack.grants.map((g) => g.grant_type),
    ['authorization_code', 'refresh_token'],
  );
});

test('TMI-BFF-01 §1.2 (TMI-03), D13: bff-token never redirects or starts user interaction', async (t) => {
  const { user } = await signedIn(t, 'carol');
  for (const params of [{}, { resource: STOCKS }, { resource: SERVICE_B, scope: 'b' }]) {
    const res = await user.token(params);
    t.is(res.status, 400);
    t.is(res.headers.get('location'), null);
    t.like(res.body, { error: 'backend_not_ready' });
  }
});

test('TMI-BFF-01 §4.2 (TMI-23): each cached token is stored with its session, resources, scope and expiry', async (t) => {
  const { stack, user } = await signedIn(t);
  const res = await user.token({ resource: STOCKS, scope: 'stocks:read' });
  const grant = await stack.backend.tokens.getGrant(await stack.sessionId(user));
  const entries = Object.values(grant?.tokens ?? {});
  t.is(entries.length, 1);
  t.deepEqual(Object.keys(entries[0] ?? {}).sort(), ['access_token', 'expires_at', 'resources', 'scope']);
  t.like(entries[0], { access_token: res.body.access_token, resources: [STOCKS], scope: 'stocks:read' });
  t.true(Math.abs((entries[0]?.expires_at ?? 0) - (Date.now() + Number(res.body.expires_in) * 1000)) < 2000);
});

test('TMI-BFF-01 §4.3 (TMI-25): every bff-token failure is HTTP 400 with a JSON error code', async (t) => {
  const { stack, user } = await signedIn(t, 'bob');
  const anonymous = stack.browser();
  const results = [
    await anonymous.token(),
    await user.token({ scope: ['a', 'b'] }),
    await user.token({ resource: SERVICE_B }),
    await user.token({ resource: STOCKS, scope: 'stocks:buy' }),
  ];
  await stack.as.close();
  results.push(await user.token({ resource: SERVICE_A, scope: 'a' }));
  t.deepEqual(
    results.map((r) => [r.status, r.headers.get('content-type'), r.body.error]),
    [
      [400, 'application/json;charset=UTF-8', 'invalid_session'],
      [400, 'application/json;charset=UTF-8', 'invalid_request'],
      [400, 'application/json;charset=UTF-8', 'backend_not_ready'],
      [400, 'application/json;charset=UTF-8', 'invalid_scope'],
      [400, 'application/json;charset=UTF-8', 'temporarily_unavailable'],
    ],
  );
});

test('D1: the pages the backend serves advertise the endpoint paths in meta tags', async (t) => {
  const stack = await startStack(t);
  const html = await (await stack.browser().fetch('/')).text();
  t.regex(html, /<meta name="tmi-bff-token-endpoint" content="\/\.well-known\/bff-token">/);
  t.regex(html, /<meta name="tmi-bff-sessioninfo-endpoint" content="\/\.well-known\/bff-sessioninfo">/);
});
