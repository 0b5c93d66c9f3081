import test from 'ava';
import { startStack } from './_setup.js';

test('TMI-BFF-01 §5 (TMI-30, TMI-31), D12: GET answers the user’s claims and the session end, never a token', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const res = await alice.sessionInfo();
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/json;charset=UTF-8');
  t.is(res.headers.get('cache-control'), 'no-store');
  t.is(res.headers.get('pragma'), 'no-cache');
  t.like(res.body, {
    iss: stack.as.issuer,
    sub: 'alice',
    name: 'Alice Adams',
    given_name: 'Alice',
    family_name: 'Adams',
    preferred_username: 'alice',
    email: 'alice@example.com',
    email_verified: true,
  });
  t.is(typeof res.body.auth_time, 'number');
  const exp = Number(res.body.exp);
  t.true(exp > Date.now() / 1000 + 3500 && exp <= Date.now() / 1000 + 3600, 'exp is the session end');
  for (const protocolClaim of ['aud', 'nonce', 'at_hash', 'iat', 'azp'])
    t.false(protocolClaim in res.body, protocolClaim);
  const text = JSON.stringify(res.body);
  for (const word of ['access_token', 'refresh_token', 'id_token', 'eyJ']) t.false(text.includes(word), word);
});

test('TMI-BFF-01 §3.2 (TMI-12): unknown parameters are ignored', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const plain = await alice.sessionInfo();
  const noisy = await alice.bff('/.well-known/bff-sessioninfo?foo=1&scope=x&resource=y');
  t.is(noisy.status, 200);
  t.deepEqual(noisy.body, plain.body);
});

test('TMI-BFF-01 §5.3 (TMI-32), D6: without a session the answer is invalid_session, not backend_not_ready', async (t) => {
  const stack = await startStack(t);
  const res = await stack.browser().sessionInfo();
  t.is(res.status, 400);
  t.deepEqual(res.body, { error: 'invalid_session', error_description: 'no valid session: sign in first' });
});

test('D2: bff-sessioninfo serves GET only; POST is 405 with Allow: GET', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const res = await alice.bff('/.well-known/bff-sessioninfo', { method: 'POST' });
  t.is(res.status, 405);
  t.is(res.headers.get('allow'), 'GET');
});
