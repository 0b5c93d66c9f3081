import test from 'ava';
import * as oidc from 'openid-client';
import { authorize, clientFor, STOCKS, startAs } from './_setup.js';

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ error: 'none' }),
    (e: oidc.ResponseBodyError) => ({ status: e.status, error: e.error, error_description: e.error_description }),
  );

test('RFC 9700 §4.14.2: every refresh rotates the refresh token', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const { refresh_token: rt1 = '' } = await authorize(config, { persona: 'alice' });
  const second = await oidc.refreshTokenGrant(config, rt1, { resource: STOCKS });
  const rt2 = second.refresh_token ?? '';
  t.not(rt2, '');
  t.not(rt2, rt1);
  const third = await oidc.refreshTokenGrant(config, rt2, { resource: STOCKS });
  t.not(third.refresh_token, rt2);
});

test('RFC 9700 §4.14.2: a used refresh token is rejected, and its reuse revokes the whole grant', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const revoked: string[] = [];
  as.provider.on('grant.revoked', (_ctx, grantId: string) => revoked.push(grantId));

  const { refresh_token: rt1 = '' } = await authorize(config, { persona: 'alice' });
  const { refresh_token: rt2 = '' } = await oidc.refreshTokenGrant(config, rt1, { resource: STOCKS });

  // The old token comes back: rejected, and the AS cannot tell the thief from the client, so the grant goes.
  t.deepEqual(await rejection(oidc.refreshTokenGrant(config, rt1, { resource: STOCKS })), {
    status: 400,
    error: 'invalid_grant',
    error_description: 'grant request is invalid',
  });
  t.is(revoked.length, 1);

  // The newest refresh token of that grant no longer works either.
  t.like(await rejection(oidc.refreshTokenGrant(config, rt2, { resource: STOCKS })), {
    status: 400,
    error: 'invalid_grant',
  });
  // And the used one stays dead.
  t.like(await rejection(oidc.refreshTokenGrant(config, rt1, { resource: STOCKS })), {
    status: 400,
    error: 'invalid_grant',
  });

  // Introspection agrees: the newest refresh token is inactive.
  const introspection = await oidc.tokenIntrospection(config, rt2);
  t.false(introspection.active);
});

test('a refresh token only works for the client it was issued to', async (t) => {
  const as = await startAs(t);
  const { refresh_token = '' } = await authorize(await clientFor(as), { persona: 'alice' });
  const other = await clientFor(as, 'service-a');
  t.like(await rejection(oidc.refreshTokenGrant(other, refresh_token)), { status: 400 });
});
