import test from 'ava';
import { answer, type Mode, mint, start } from './_setup.js';

/** An outage answer: 503 temporarily_unavailable, Retry-After, no-store, and no Bearer challenge. */
const OUTAGE = {
  status: 503,
  challenge: null,
  cacheControl: 'no-store',
  retryAfter: '5',
  body: {
    error: 'temporarily_unavailable',
    error_description: "the authorization server's keys could not be fetched; try again shortly",
  },
};

for (const mode of ['reset', 'error', 'invalid'] satisfies Mode[]) {
  test(`a JWKS that cannot be fetched (${mode}) gets 503 temporarily_unavailable, not 401 invalid_token; once it is back, the same token is accepted`, async (t) => {
    const rs = await start(t);
    const token = await mint(rs.claims());
    rs.as.jwks = mode;
    t.deepEqual(await answer(await rs.send(token)), OUTAGE);
    t.regex(String(rs.errors.at(-1)?.error_detail), /^AS JWK Set: \w+: ./);
    t.deepEqual(await answer(await rs.send(token)), OUTAGE, 'a second request tries again and fails again');
    t.is(rs.as.hits.jwks, 2);
    rs.as.jwks = 'up';
    t.is((await rs.send(token)).status, 200);
  });
}

test('RFC 8414 §3: metadata that cannot be fetched or used gets 503; a failed discovery is not kept, so a later request discovers again and succeeds', async (t) => {
  const rs = await start(t);
  const token = await mint(rs.claims());
  // RFC 8414 §3.3: 'foreign' names another issuer, so its jwks_uri must not be used.
  const where = `AS metadata ${rs.as.issuer}/.well-known/openid-configuration`;
  const details: Array<[Mode, string]> = [
    ['reset', `${where}: TypeError: fetch failed`],
    ['error', `${where}: Error: answered 500`],
    ['invalid', `${where} names the issuer undefined`],
    ['foreign', `${where} names the issuer https://evil.example`],
    ['nojwks', `${where} has no valid jwks_uri`],
    ['jwkslist', `${where} has no valid jwks_uri`],
    ['null', `${where} names the issuer undefined`],
  ];
  for (const [mode, detail] of details) {
    rs.as.metadata = mode;
    t.deepEqual(await answer(await rs.send(token)), OUTAGE, mode);
    // The app's error event gets the reason, for its log.
    t.like(rs.errors.at(-1), { status: 503 }, mode);
    t.is(rs.errors.at(-1)?.error_detail, detail, mode);
  }
  t.is(rs.errors.length, details.length);
  t.deepEqual(rs.as.hits, { metadata: details.length, jwks: 0 });
  rs.as.metadata = 'up';
  t.is((await rs.send(token)).status, 200);
  t.deepEqual(rs.as.hits, { metadata: details.length + 1, jwks: 1 });
});

test('a JWKS that does not answer in time (jose JWKSTimeout) gets 503, not 401', async (t) => {
  const rs = await start(t, { timeoutDuration: 200 });
  rs.as.jwks = 'hang';
  const token = await mint(rs.claims());
  const began = performance.now();
  t.deepEqual(await answer(await rs.send(token)), OUTAGE);
  // The configured limit, not jose's own 5 s.
  const took = performance.now() - began;
  t.true(took < 4000, `${Math.round(took)} ms`);
});

test('metadata that does not answer in time gets 503, not 401', async (t) => {
  const rs = await start(t, { timeoutDuration: 200 });
  rs.as.metadata = 'hang';
  t.deepEqual(await answer(await rs.send(await mint(rs.claims()))), OUTAGE);
});

test('keys fetched once keep serving while the AS is down: a valid token is still accepted, a bad one still gets 401', async (t) => {
  const rs = await start(t);
  t.is((await rs.send(await mint(rs.claims()))).status, 200);
  rs.as.metadata = 'reset';
  rs.as.jwks = 'reset';
  t.is((await rs.send(await mint(rs.claims()))).status, 200);
  t.is((await rs.send(await mint(rs.claims({ iss: 'https://evil.example' })))).status, 401);
  t.deepEqual(rs.as.hits, { metadata: 1, jwks: 1 });
});
