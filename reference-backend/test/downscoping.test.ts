import test from 'ava';
import { claimsOf, SERVICE_A, STOCKS, startStack } from './_setup.js';

test('D9 refresh (default): a narrower token comes from a refresh_token grant with resource and scope', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const from = stack.grants.length;
  const res = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(res.body.scope, 'stocks:read');
  t.is(res.headers.get('tmi-bff-token-source'), 'refresh');
  t.deepEqual(
    stack.grants.slice(from).map((g) => [g.grant_type, g.resource, g.scope]),
    [['refresh_token', STOCKS, 'stocks:read']],
  );
  t.is(claimsOf(res.body.access_token).act, undefined);
});

test('D9 exchange: a narrower token comes from RFC 8693 token exchange of a broader token for the same resource', async (t) => {
  const stack = await startStack(t, {
    backend: { tokens: { strategy: 'exchange' } },
  });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const from = stack.grants.length;

  const narrow = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(narrow.status, 200, JSON.stringify(narrow.body));
  t.is(narrow.body.scope, 'stocks:read');
  t.is(narrow.headers.get('tmi-bff-token-source'), 'exchange');
  t.like(claimsOf(narrow.body.access_token), { aud: STOCKS, scope: 'stocks:read', act: { sub: 'bff' } });
  t.deepEqual(
    stack.grants.slice(from).map((g) => [g.grant_type, g.resource]),
    [
      ['refresh_token', STOCKS],
      ['urn:ietf:params:oauth:grant-type:token-exchange', STOCKS],
    ],
  );

  // The broad token fetched on the way is cached under its own key, and the next narrowing reuses it.
  const broad = await alice.token({ resource: STOCKS, scope: 'stocks:read stocks:buy' });
  t.is(broad.headers.get('tmi-bff-token-source'), 'cache');
  const buy = await alice.token({ resource: STOCKS, scope: 'stocks:buy' });
  t.is(buy.headers.get('tmi-bff-token-source'), 'exchange');
  t.deepEqual(
    stack.grants.slice(from + 2).map((g) => g.grant_type),
    ['urn:ietf:params:oauth:grant-type:token-exchange'],
  );
});

test('D9 exchange: a request for the full scope needs no exchange; an AS refusal of the exchange is relayed', async (t) => {
  const stack = await startStack(t, {
    backend: { tokens: { strategy: 'exchange' } },
  });
  const bob = stack.browser();
  await bob.signIn({ persona: 'bob' });
  const all = await bob.token({ resource: SERVICE_A, scope: 'a b c' });
  t.is(all.headers.get('tmi-bff-token-source'), 'refresh');
  // bob's Stocks token holds stocks:read only; asking to exchange it for stocks:buy is an escalation.
  const buy = await bob.token({ resource: STOCKS, scope: 'stocks:buy' });
  t.is(buy.status, 400);
  t.deepEqual(buy.body, {
    error: 'invalid_scope',
    error_description: 'subject_token does not hold the requested scope',
  });
});
