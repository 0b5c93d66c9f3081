import test from 'ava';
import { answer, assertBearerError, keys, mint, start, unsigned } from './_setup.js';

const invalidToken = (description: string) => ({ status: 401, error: 'invalid_token', description });

test('RFC 9068 §4: a valid at+jwt access token is accepted, and the route sees its claims and the bearer token', async (t) => {
  const rs = await start(t);
  for (const typ of ['at+jwt', 'application/at+jwt']) {
    const res = await rs.send(await mint(rs.claims(), { typ }));
    t.is(res.status, 200, typ);
    t.deepEqual(await res.json(), { sub: 'alice', scope: 'stocks:read', bearer: true }, typ);
  }
});

test('RFC 9068 §4 step 2: a JWT whose typ is not at+jwt (an ID token, say) gets 401 invalid_token', async (t) => {
  const rs = await start(t);
  for (const typ of ['JWT', 'application/jwt', 'id_token+jwt']) {
    const res = await rs.send(await mint(rs.claims(), { typ }));
    await assertBearerError(t, res, invalidToken('not an access token (typ must be at+jwt)'), typ);
  }
});

test('RFC 9068 §4 step 3: a token issued by another issuer gets 401 invalid_token', async (t) => {
  const rs = await start(t);
  const res = await rs.send(await mint(rs.claims({ iss: 'https://evil.example' })));
  await assertBearerError(t, res, invalidToken('the access token was issued by another issuer'));
});

test('RFC 9068 §4 step 4: a token whose aud does not contain this resource gets 401 invalid_token', async (t) => {
  const rs = await start(t);
  for (const aud of ['https://api.example/other', ['https://api.example/a', 'https://api.example/b']]) {
    const res = await rs.send(await mint(rs.claims({ aud })));
    await assertBearerError(t, res, invalidToken('the access token is for another resource'), String(aud));
  }
});

test('RFC 9068 §4 step 6: an expired token gets 401 invalid_token', async (t) => {
  const rs = await start(t);
  const now = Math.floor(Date.now() / 1000);
  const res = await rs.send(await mint(rs.claims({ iat: now - 600, exp: now - 60 })));
  await assertBearerError(t, res, invalidToken('the access token expired'));
});

test('RFC 9068 §4 step 5: a token signed with a key the AS does not publish gets 401 invalid_token', async (t) => {
  const rs = await start(t);
  const foreign = await mint(rs.claims(), {}, keys.foreign.privateKey);
  await assertBearerError(t, await rs.send(foreign), invalidToken('the access token signature does not verify'));
  const [header, , signature] = (await mint(rs.claims())).split('.');
  const tampered = `${header}.${Buffer.from(JSON.stringify(rs.claims({ scope: 'stocks:read stocks:buy' }))).toString('base64url')}.${signature}`;
  await assertBearerError(t, await rs.send(tampered), invalidToken('the access token signature does not verify'));
});

test('RFC 9068 §2.1: an unsigned token (alg none) and a symmetric one (HS256) get 401 invalid_token', async (t) => {
  const rs = await start(t);
  const hs256 = await mint(rs.claims(), { alg: 'HS256' }, new TextEncoder().encode('a secret shared with the client!'));
  for (const [what, token] of [
    ['alg none', unsigned(rs.claims())],
    ['HS256', hs256],
  ]) {
    await assertBearerError(
      t,
      await rs.send(token),
      invalidToken('the access token is signed with an algorithm that is not allowed'),
      what,
    );
  }
});

test('RFC 9068 §2.1, RFC 7518 §3.1: tokens signed with PS256, ES256 or EdDSA are accepted; an asymmetric algorithm outside the list (ES384) is not', async (t) => {
  const rs = await start(t);
  for (const { alg, privateKey } of keys.others) {
    const res = await rs.send(await mint(rs.claims(), { alg, kid: alg }, privateKey));
    if (alg === 'ES384') {
      await assertBearerError(
        t,
        res,
        invalidToken('the access token is signed with an algorithm that is not allowed'),
        alg,
      );
    } else {
      t.is(res.status, 200, alg);
      t.deepEqual(await res.json(), { sub: 'alice', scope: 'stocks:read', bearer: true }, alg);
    }
  }
});

test('RFC 9068 §2.2: a token without one of the required claims (iss exp aud sub client_id iat jti) gets 401 invalid_token naming it', async (t) => {
  const rs = await start(t);
  for (const claim of ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']) {
    const payload = rs.claims();
    delete payload[claim];
    await assertBearerError(
      t,
      await rs.send(await mint(payload)),
      invalidToken(`the access token has no ${claim} claim`),
      claim,
    );
  }
});

test('RFC 9068 §2.2: a token whose claims have the wrong JSON type gets 401 invalid_token naming the claim', async (t) => {
  const rs = await start(t);
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['client_id', { client_id: 42 }, 'a string'],
    ['client_id', { client_id: ['bff'] }, 'a string'],
    ['sub', { sub: 7 }, 'a string'],
    ['jti', { jti: { id: 1 } }, 'a string'],
    ['aud', { aud: ['https://api.example/stocks', 7] }, 'a string or an array of strings'],
    ['auth_time', { auth_time: '2024-01-01' }, 'a number'],
    ['acr', { acr: 1 }, 'a string'],
    ['amr', { amr: 'pwd' }, 'an array of strings'],
    ['act', { act: 'service-a' }, 'an object (its sub a string)'],
    ['act', { act: { sub: 1 } }, 'an object (its sub a string)'],
    ['act', { act: null }, 'an object (its sub a string)'],
    // A string is refused only by luck (String.prototype.sub is a function): a number or a boolean is not.
    ['act', { act: 5 }, 'an object (its sub a string)'],
    ['act', { act: true }, 'an object (its sub a string)'],
    ['act', { act: ['service-a'] }, 'an object (its sub a string)'],
    ['act', { act: { sub: null } }, 'an object (its sub a string)'],
    ['amr', { amr: ['pwd', 1] }, 'an array of strings'],
    ['amr', { amr: { 0: 'pwd' } }, 'an array of strings'],
  ];
  for (const [claim, extra, kind] of cases) {
    const res = await rs.send(await mint(rs.claims(extra)));
    await assertBearerError(
      t,
      res,
      invalidToken(`the access token's ${claim} claim must be ${kind}`),
      JSON.stringify(extra),
    );
  }
});

test('RFC 9068 §2.2.3, RFC 8693 §4.2: a scope claim that is not a space-delimited string (array, number, object, stray spaces) gets 401 invalid_token', async (t) => {
  const rs = await start(t);
  for (const scope of [
    ['stocks:read'],
    ['stocks:read', 'stocks:buy'],
    42,
    { 'stocks:read': true },
    'stocks:read  x',
    ' stocks:read',
    null,
  ]) {
    const res = await rs.send(await mint(rs.claims({ scope })));
    await assertBearerError(
      t,
      res,
      invalidToken("the access token's scope claim must be a space-delimited string"),
      JSON.stringify(scope),
    );
  }
});

test('RFC 6750 §3.1: a request without credentials gets 401 with a bare Bearer challenge and no error code', async (t) => {
  const rs = await start(t);
  t.deepEqual(await answer(await rs.call('/quotes')), {
    status: 401,
    challenge: 'Bearer',
    cacheControl: 'no-store',
    retryAfter: null,
    body: {},
  });
});

test('RFC 6750 §2.1, §3.1: an Authorization header that is not "Bearer <token>" gets 400 invalid_request', async (t) => {
  const rs = await start(t);
  for (const header of ['Basic YWxpY2U6c2VjcmV0', 'Bearer', 'Bearer a b', 'Bearer a,b']) {
    await assertBearerError(
      t,
      await rs.call('/quotes', header),
      { status: 400, error: 'invalid_request', description: 'use Authorization: Bearer <token>' },
      header,
    );
  }
});

test('RFC 9068 §4, RFC 7519 §4.1.5: a token not valid yet (nbf beyond the clock tolerance), a claim jose finds invalid, and a token that is not a JWS each get their own description', async (t) => {
  const rs = await start(t);
  const now = Math.floor(Date.now() / 1000);
  await assertBearerError(
    t,
    await rs.send(await mint(rs.claims({ nbf: now + 600 }))),
    invalidToken('the access token is not valid yet'),
  );
  await assertBearerError(
    t,
    await rs.send(await mint(rs.claims({ iat: 'yesterday' }))),
    invalidToken('the access token has an invalid iat claim'),
  );
  for (const token of ['abc.def.ghi', 'a.b', 'eyJhbGciOiJSUzI1NiJ9.e30']) {
    await assertBearerError(t, await rs.send(token), invalidToken('the access token is malformed'), token);
  }
});

test('RFC 9068 §2.2, RFC 8693 §4.1: the optional claims in their right types are accepted: aud as an array, amr, acr, auth_time, and act with or without sub, nested', async (t) => {
  const rs = await start(t);
  const now = Math.floor(Date.now() / 1000);
  const accepted: Array<Record<string, unknown>> = [
    { aud: ['https://api.example/other', 'https://api.example/stocks'] },
    { amr: ['pwd', 'otp'], acr: 'urn:mace:incommon:iap:silver', auth_time: now - 60 },
    { amr: [] },
    { act: { sub: 'service-a' } },
    { act: { sub: 'service-b', act: { sub: 'service-a' } } },
    { act: { client_id: 'service-a' } },
  ];
  for (const extra of accepted) {
    const res = await rs.send(await mint(rs.claims(extra)));
    t.is(res.status, 200, JSON.stringify(extra));
  }
});

test('RFC 6750 §2.1: "Bearer" takes one or more spaces and no prefix; a token whose kid the AS does not publish gets 401, not an outage', async (t) => {
  const rs = await start(t);
  const token = await mint(rs.claims());
  t.is((await rs.call('/quotes', `Bearer  ${token}`)).status, 200, 'two spaces are 1*SP');
  t.is((await rs.call('/quotes', `bearer ${token}`)).status, 200, 'the scheme is case-insensitive');
  for (const header of [`XBearer ${token}`, `Bearer${token}`]) {
    t.is((await rs.call('/quotes', header)).status, 400, header.slice(0, 8));
  }
  const unknownKid = await mint(rs.claims(), { kid: 'not-published' });
  await assertBearerError(t, await rs.send(unknownKid), invalidToken('the access token signature does not verify'));
  t.deepEqual(rs.errors, [], 'a refused token is no outage: nothing reaches the error event');
});

test('an error that is not the resource server’s passes through to the app untouched', async (t) => {
  const rs = await start(t);
  rs.handlers['/boom'] = async () => {
    throw Object.assign(new Error('route failed'), { status: 418, expose: true });
  };
  const res = await rs.send(await mint(rs.claims()), '/boom');
  t.is(res.status, 418);
  t.is(res.headers.get('www-authenticate'), null);
  t.is(await res.text(), 'route failed');
});
