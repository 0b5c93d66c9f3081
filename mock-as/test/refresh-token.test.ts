import test from 'ava';
import * as oidc from 'openid-client';
import { authorize, clientFor, decode, demoSeed, SERVICE_A, SERVICE_B, STOCKS, startAs } from './_setup.js';

/** The OAuth error a rejected token request carries. */
async function oauthError(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof oidc.ResponseBodyError)) throw new Error(`expected an OAuth error response, got ${String(err)}`);
  return { status: err.status, error: err.error, error_description: err.error_description };
}

test('RFC 8707 + RFC 6749 §6: a refresh with resource and a narrower scope gives exactly that aud and scope', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const first = await authorize(config, { persona: 'alice' });
  const rt = first.refresh_token ?? '';

  const stocks = await oidc.refreshTokenGrant(config, rt, { resource: STOCKS, scope: 'stocks:read' });
  t.is(stocks.scope, 'stocks:read');
  t.like(decode(stocks.access_token).payload, { aud: STOCKS, scope: 'stocks:read', sub: 'alice', client_id: 'bff' });

  const a = await oidc.refreshTokenGrant(config, stocks.refresh_token ?? '', { resource: SERVICE_A, scope: 'a b c' });
  t.like(decode(a.access_token).payload, { aud: SERVICE_A, scope: 'a b c' });

  const whole = await oidc.refreshTokenGrant(config, a.refresh_token ?? '', { resource: STOCKS });
  t.like(decode(whole.access_token).payload, { aud: STOCKS, scope: 'stocks:read stocks:buy' });
});

test('RFC 8707 §2.2: a refresh for a resource the grant does not cover gives invalid_target', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { refresh_token } = await authorize(config, { persona: 'alice' });
  // Service B exists, but this grant is for Stocks and A only.
  t.like(await oauthError(oidc.refreshTokenGrant(config, refresh_token ?? '', { resource: SERVICE_B })), {
    status: 400,
    error: 'invalid_target',
  });
  t.like(
    await oauthError(oidc.refreshTokenGrant(config, refresh_token ?? '', { resource: 'https://unknown.example/api' })),
    { status: 400, error: 'invalid_target' },
  );
  // The refusals spent nothing: the same refresh token still works.
  const ok = await oidc.refreshTokenGrant(config, refresh_token ?? '', { resource: STOCKS });
  t.is(decode(ok.access_token).payload.aud, STOCKS);
});

test('RFC 6749 §6: a refresh asking for a scope the grant does not hold gives invalid_scope', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { refresh_token } = await authorize(config, {
    persona: 'alice',
    scope: 'openid stocks:read',
    resources: [STOCKS],
  });
  t.like(
    await oauthError(oidc.refreshTokenGrant(config, refresh_token ?? '', { resource: STOCKS, scope: 'stocks:buy' })),
    {
      status: 400,
      error: 'invalid_scope',
      error_description: 'refresh token missing requested scope',
    },
  );
});

test('RFC 9068 §3: a scope that belongs to another resource is refused with invalid_scope, not served empty', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { refresh_token } = await authorize(config, { persona: 'alice' });
  t.like(await oauthError(oidc.refreshTokenGrant(config, refresh_token ?? '', { resource: STOCKS, scope: 'a' })), {
    status: 400,
    error: 'invalid_scope',
    error_description: `scope not defined for ${STOCKS}: a`,
  });
  const ok = await oidc.refreshTokenGrant(config, refresh_token ?? '', { resource: STOCKS, scope: 'stocks:read' });
  t.is(ok.scope, 'stocks:read');
});

test('a refresh without resource, for a grant that covers several resources and no openid scope, gives invalid_target', async (t) => {
  // A plain OAuth client: the seed's bff client requires auth_time, hence openid.
  const seed = await demoSeed();
  const as = await startAs(t, {
    seed: { ...seed, clients: seed.clients.map(({ require_auth_time: _, ...c }) => c) },
  });
  const config = await clientFor(as);
  const { refresh_token } = await authorize(config, {
    persona: 'alice',
    scope: 'stocks:read a',
    tokenResource: STOCKS,
  });
  t.like(await oauthError(oidc.refreshTokenGrant(config, refresh_token ?? '')), {
    status: 400,
    error: 'invalid_target',
  });
  const ok = await oidc.refreshTokenGrant(config, refresh_token ?? '', { resource: SERVICE_A });
  t.is(ok.scope, 'a');
});

test('bob asking for stocks:buy, which his account policy forbids, is refused with invalid_scope and says why', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const bob = await authorize(config, { persona: 'bob' });
  const granted = await oidc.refreshTokenGrant(config, bob.refresh_token ?? '', { resource: STOCKS });
  t.is(decode(granted.access_token).payload.scope, 'stocks:read', 'the grant holds only what the policy allows');

  t.deepEqual(
    await oauthError(
      oidc.refreshTokenGrant(config, granted.refresh_token ?? '', { resource: STOCKS, scope: 'stocks:buy' }),
    ),
    {
      status: 400,
      error: 'invalid_scope',
      error_description: 'the account policy of this user does not allow: stocks:buy',
    },
  );
});
