import test from 'ava';
import { STOCKS, startStack } from './_setup.js';

test('smoke: alice signs in and gets a Stocks token', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  const landed = await alice.signIn({ persona: 'alice' });
  t.is(landed.status, 303);
  const info = await alice.sessionInfo();
  t.is(info.status, 200, JSON.stringify(info.body));
  t.like(info.body, { sub: 'alice' });
  const token = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(token.status, 200, JSON.stringify(token.body));
  t.deepEqual(Object.keys(token.body).sort(), ['access_token', 'expires_in', 'scope']);
});
