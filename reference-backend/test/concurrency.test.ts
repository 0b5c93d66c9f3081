import test from 'ava';
import { SERVICE_A, STOCKS, startStack } from './_setup.js';

test('D10: after expiry, 100 concurrent requests for one (resource, scope) make exactly 1 AS refresh and share its token', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const first = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  stack.advance(Number(first.body.expires_in) * 1000); // the cached token has expired for the backend
  const from = stack.grants.length;

  const all = await Promise.all(
    Array.from({ length: 100 }, () => alice.token({ resource: STOCKS, scope: 'stocks:read' })),
  );
  t.deepEqual([...new Set(all.map((r) => r.status))], [200]);
  const tokens = new Set(all.map((r) => r.body.access_token));
  t.is(tokens.size, 1, 'all 100 got the same token');
  t.not([...tokens][0], first.body.access_token);
  t.deepEqual(
    stack.grants.slice(from).map((g) => [g.grant_type, g.ok]),
    [['refresh_token', true]],
    'exactly one refresh, counted at the AS',
  );

  // The grant is alive: a different request still refreshes fine.
  const after = await alice.token({ resource: STOCKS, scope: 'stocks:buy' });
  t.is(after.status, 200);
});

test('D10: 20 concurrent requests over 5 (resource, scope) pairs all succeed, and no rotated refresh token is presented twice', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const pairs: Array<[string, string]> = [
    [STOCKS, 'stocks:read'],
    [STOCKS, 'stocks:buy'],
    [SERVICE_A, 'a'],
    [SERVICE_A, 'b'],
    [SERVICE_A, 'c'],
  ];
  const from = stack.grants.length;
  const all = await Promise.all(
    Array.from({ length: 20 }, (_, i) => {
      const [resource, scope] = pairs[i % pairs.length] ?? pairs[0] ?? ['', ''];
      return alice.token({ resource, scope }).then((res) => ({ res, scope }));
    }),
  );
  for (const { res, scope } of all) {
    t.is(res.status, 200, JSON.stringify(res.body));
    t.is(res.body.scope, scope);
  }
  const refreshes = stack.grants.slice(from);
  t.is(refreshes.length, 5, 'one AS request per pair');
  t.true(refreshes.every((g) => g.ok && g.grant_type === 'refresh_token'));
  const presented = refreshes.map((g) => g.refresh_token);
  t.is(new Set(presented).size, presented.length, 'each refresh token was presented once');
});

test('D10: two sessions of one user refresh independently and in parallel', async (t) => {
  const stack = await startStack(t);
  const laptop = stack.browser();
  const phone = stack.browser();
  await laptop.signIn({ persona: 'alice' });
  await phone.signIn({ persona: 'alice' });
  const [a, b] = await Promise.all([
    laptop.token({ resource: STOCKS, scope: 'stocks:read' }),
    phone.token({ resource: STOCKS, scope: 'stocks:read' }),
  ]);
  t.is(a.status, 200);
  t.is(b.status, 200);
  t.not(a.body.access_token, b.body.access_token, 'sessions never share cached tokens');
});
