import test from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { authorize, clientFor, STOCKS, startAs } from './_setup.js';

test('RFC 9068: alice signs in with code + PKCE and gets an ID token, a refresh token and a JWT access token', async (t) => {
  const as = await startAs(t);
  const config = await clientFor(as);
  const tokens = await authorize(config, { username: 'alice', password: 'alice', tokenResource: STOCKS });

  t.is(tokens.claims()?.sub, 'alice');
  t.is(typeof tokens.refresh_token, 'string');

  const jwks = createRemoteJWKSet(new URL(`${as.issuer}/jwks`));
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
    issuer: as.issuer,
    audience: STOCKS,
    typ: 'at+jwt',
  });
  t.is(protectedHeader.typ, 'at+jwt');
  t.is(protectedHeader.alg, 'RS256');
  t.is(typeof protectedHeader.kid, 'string');
  t.is(payload.sub, 'alice');
  t.is(payload.client_id, 'bff');
  t.is(payload.aud, STOCKS);
  t.is(payload.scope, 'stocks:read stocks:buy');
  t.is(typeof payload.jti, 'string');
  t.true(typeof payload.iat === 'number' && typeof payload.exp === 'number');
  t.is((payload.exp as number) - (payload.iat as number), 300);
});
