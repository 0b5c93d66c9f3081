/**
 * D8 and D10 counted at the real mock AS: which requests are answered from the cache, which reach the
 * AS, and how many times.
 */
import test from 'ava';
import { claimsOf, STOCKS, type Stack, startStack } from './_setup.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** The grant types the AS saw since `from`. */
const asCalls = (stack: Stack, from: number) => stack.grants.slice(from).map((g) => g.grant_type);

async function signedIn(t: Parameters<typeof startStack>[0], options?: Parameters<typeof startStack>[1]) {
  const stack = await startStack(t, options);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  return { stack, alice };
}

test('D8 (TMI-23): a request without scope is served from the cache the second time', async (t) => {
  const { stack, alice } = await signedIn(t);
  const from = stack.grants.length;
  const first = await alice.token({ resource: STOCKS });
  t.is(first.status, 200);
  t.is(first.headers.get('tmi-bff-token-source'), 'refresh');
  const second = await alice.token({ resource: STOCKS });
  t.is(second.headers.get('tmi-bff-token-source'), 'cache');
  t.is(second.body.access_token, first.body.access_token);
  // TMI-15: no resource at all means the default resource, the same cache entry.
  const bare = await alice.token();
  t.is(bare.headers.get('tmi-bff-token-source'), 'cache');
  t.deepEqual(asCalls(stack, from), ['refresh_token'], 'one AS call for three requests');
});

test('D3, D8: an empty scope, a duplicated scope and reordered scopes are one cache entry each with the plain request', async (t) => {
  const { stack, alice } = await signedIn(t);
  const from = stack.grants.length;
  const requests: Array<[Record<string, string>, Record<string, string>]> = [
    [{ resource: STOCKS }, { resource: STOCKS, scope: '' }],
    [
      { resource: STOCKS, scope: 'stocks:read' },
      { resource: STOCKS, scope: 'stocks:read stocks:read' },
    ],
    [
      { resource: STOCKS, scope: 'stocks:read stocks:buy' },
      { resource: STOCKS, scope: ' stocks:buy  stocks:read stocks:buy ' },
    ],
  ];
  for (const [plain, variant] of requests) {
    const a = await alice.token(plain);
    t.is(a.body.scope, plain.scope ? plain.scope.split(' ').sort().join(' ') : 'stocks:buy stocks:read');
    const b = await alice.token(variant);
    t.is(a.status, 200, JSON.stringify(plain));
    t.is(b.headers.get('tmi-bff-token-source'), 'cache', JSON.stringify(variant));
    t.is(b.body.access_token, a.body.access_token);
  }
  // The token of the scope-less request holds exactly `stocks:buy stocks:read` for alice, so the
  // third set is already cached: two AS calls in all.
  t.deepEqual(asCalls(stack, from), ['refresh_token', 'refresh_token'], 'one AS call per distinct token');
});

/** `expires_in` never promises more than the token's own `exp`. */
function assertHonestExpiry(t: Parameters<typeof startStack>[0], body: Record<string, unknown>, what: string) {
  const remaining = Number(claimsOf(body.access_token).exp) - Date.now() / 1000;
  const expiresIn = Number(body.expires_in);
  t.true(Number.isInteger(expiresIn) && expiresIn >= 1, `${what}: ${expiresIn}`);
  t.true(expiresIn <= Math.ceil(remaining), `${what}: expires_in ${expiresIn} ≤ exp − now ${remaining.toFixed(1)}`);
  t.true(expiresIn >= remaining - 5, `${what}: not far below the real lifetime either`);
}

test('TMI-BFF-01 §4.2 (TMI-19): expires_in ≤ exp − now, on a fresh and on a cached answer', async (t) => {
  const { stack, alice } = await signedIn(t);
  const fresh = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(fresh.headers.get('tmi-bff-token-source'), 'refresh');
  assertHonestExpiry(t, fresh.body, 'fresh');
  const cached = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(cached.headers.get('tmi-bff-token-source'), 'cache');
  assertHonestExpiry(t, cached.body, 'cached');
  t.truthy(stack);
});

test('D10: two concurrent fresh=1 requests share one AS call', async (t) => {
  const { stack, alice } = await signedIn(t);
  await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  const from = stack.grants.length;
  const sid = await stack.sessionId(alice);
  const session = { id: sid, claims: {} };
  const request = { resources: [STOCKS], scopes: ['stocks:read'], fresh: true };
  const [a, b] = await Promise.all([
    stack.backend.tokens.getToken(session, request),
    stack.backend.tokens.getToken(session, request),
  ]);
  t.is(a.token.access_token, b.token.access_token);
  t.deepEqual(asCalls(stack, from), ['refresh_token']);
});

test('D10: a plain request queued behind a fresh=1 request reads the fresh token under the lock: one AS call', async (t) => {
  const { stack, alice } = await signedIn(t);
  const sid = await stack.sessionId(alice);
  const session = { id: sid, claims: {} };
  const from = stack.grants.length;
  // Nothing cached yet: both must go to the lock; the fresh one is first in line.
  const fresh = stack.backend.tokens.getToken(session, { resources: [STOCKS], scopes: ['stocks:read'], fresh: true });
  const plain = stack.backend.tokens.getToken(session, { resources: [STOCKS], scopes: ['stocks:read'], fresh: false });
  const [f, p] = await Promise.all([fresh, plain]);
  t.is(p.token.access_token, f.token.access_token);
  t.is(p.source, 'cache');
  t.deepEqual(asCalls(stack, from), ['refresh_token']);
});

async function exchangeStack(t: Parameters<typeof startStack>[0], persona = 'bob') {
  const stack = await startStack(t, { backend: { tokens: { strategy: 'exchange' } } });
  const bob = stack.browser();
  await bob.signIn({ persona });
  return { stack, bob };
}

async function refreshTokensPresented(stack: Stack, from: number) {
  return stack.grants.slice(from).flatMap((g) => (g.refresh_token ? [g.refresh_token] : []));
}

test('D9 exchange: when the exchange is refused, the refresh token rotated on the way was kept: the next refresh works', async (t) => {
  const { stack, bob } = await exchangeStack(t);
  const from = stack.grants.length;
  // Refresh (rotation) for the broad Stocks token, then an exchange the AS refuses (bob may not buy).
  const refused = await bob.token({ resource: STOCKS, scope: 'stocks:buy' });
  t.like(refused.body, { error: 'invalid_scope' });
  t.deepEqual(asCalls(stack, from), ['refresh_token', EXCHANGE]);
  // The next AS call spends the rotated refresh token, not the one already used.
  const next = await bob.token({ resource: STOCKS, scope: 'stocks:read', fresh: '1' });
  t.is(next.status, 200, JSON.stringify(next.body));
  const presented = await refreshTokensPresented(stack, from);
  t.is(presented.length, 2);
  t.is(new Set(presented).size, 2, 'no refresh token was presented twice');
  t.true(stack.grants.slice(from).every((g) => g.error !== 'invalid_grant'));
});

test('D8, D9 exchange: a broad token within the expiry margin is not exchanged; a new one is fetched first', async (t) => {
  const { stack, bob: alice } = await exchangeStack(t, 'alice');
  const broad = await alice.token({ resource: STOCKS });
  t.is(broad.status, 200);
  t.is(broad.body.scope, 'stocks:buy stocks:read');
  // Move the backend's clock into the 30 s margin of the broad token.
  stack.advance((Number(broad.body.expires_in) - 10) * 1000);
  const from = stack.grants.length;
  const narrow = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(narrow.status, 200, JSON.stringify(narrow.body));
  t.is(narrow.headers.get('tmi-bff-token-source'), 'exchange');
  t.deepEqual(asCalls(stack, from), ['refresh_token', EXCHANGE], 'a new broad token, then the exchange');
});

test('D8: a token cached for one resource is never served for another (unit of the cache key)', async (t) => {
  const { stack, alice } = await signedIn(t);
  const stocks = await alice.token({ resource: STOCKS });
  const other = await alice.token({ resource: `${STOCKS.replace('/stocks', '/a')}`, scope: 'a' });
  t.is(other.status, 200);
  t.not(other.body.access_token, stocks.body.access_token);
  t.not(claimsOf(other.body.access_token).aud, claimsOf(stocks.body.access_token).aud);
  t.truthy(stack);
});
