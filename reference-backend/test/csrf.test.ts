import test from 'ava';
import { STOCKS, startStack } from './_setup.js';

const ENDPOINTS = ['/.well-known/bff-token', '/.well-known/bff-sessioninfo'];

test('D4 (TMI-37): a request without the TMI-BFF-CSRF header is refused with invalid_session on both endpoints', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  for (const path of ENDPOINTS) {
    const res = await alice.fetch(path);
    t.is(res.status, 400, path);
    t.deepEqual(await res.json(), {
      error: 'invalid_session',
      error_description: 'the TMI-BFF-CSRF request header is required (CSRF defence)',
    });
    t.is(res.headers.get('cache-control'), 'no-store');
  }
  // The same request with the header succeeds.
  t.is((await alice.bff(ENDPOINTS[1] ?? '')).status, 200);
});

test('D4 (TMI-37): a cross-site Sec-Fetch-Site or a foreign Origin is refused, even with the header and a valid session', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const cases: Array<[Record<string, string>, string]> = [
    [{ 'sec-fetch-site': 'cross-site' }, 'a cross-site request is refused (CSRF defence)'],
    [{ 'sec-fetch-site': 'same-site' }, 'a same-site request is refused (CSRF defence)'],
    [{ origin: 'https://evil.example' }, 'requests from origin https://evil.example are refused (CSRF defence)'],
    [{ origin: 'http://127.0.0.1:1' }, 'requests from origin http://127.0.0.1:1 are refused (CSRF defence)'],
  ];
  for (const path of ENDPOINTS) {
    for (const [headers, description] of cases) {
      const res = await alice.bff(`${path}?resource=${encodeURIComponent(STOCKS)}`, { headers });
      t.is(res.status, 400);
      t.deepEqual(res.body, { error: 'invalid_session', error_description: description });
    }
  }
  // Same-origin fetch metadata and the app's own Origin pass.
  const ok = await alice.bff(ENDPOINTS[0] ?? '', {
    headers: { 'sec-fetch-site': 'same-origin', origin: stack.origin },
  });
  t.is(ok.status, 200);
});

test('D4 (TMI-37): a foreign-origin preflight gets no Access-Control-Allow-* header, and no endpoint answer carries one', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  for (const path of ENDPOINTS) {
    const preflight = await alice.fetch(path, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'tmi-bff-csrf',
      },
    });
    t.is(preflight.status, 405);
    for (const [name] of preflight.headers) t.false(name.startsWith('access-control-'), `${path} preflight: ${name}`);
    const real = await alice.bff(path);
    t.is(real.status, 200);
    for (const [name] of real.headers) t.false(name.startsWith('access-control-'), `${path}: ${name}`);
  }
});

test('D4 (TMI-37): an Origin that only starts with the app origin is foreign (exact comparison), on both endpoints and sign-out', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  for (const origin of [`${stack.origin}.evil.example`, `${stack.origin}0`, `${stack.origin}/`, 'null']) {
    for (const path of ENDPOINTS) {
      const res = await alice.bff(path, { headers: { origin } });
      t.is(res.status, 400, `${path} ${origin}`);
      t.deepEqual(res.body, {
        error: 'invalid_session',
        error_description: `requests from origin ${origin} are refused (CSRF defence)`,
      });
    }
    const logout = await alice.fetch('/auth/logout', { method: 'POST', headers: { origin } });
    t.is(logout.status, 403, `logout ${origin}`);
  }
  t.is((await alice.sessionInfo()).status, 200, 'still signed in');
});

test('D4: sign-out with a cross-site or same-site Sec-Fetch-Site and no Origin is refused', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  for (const site of ['cross-site', 'same-site']) {
    const res = await alice.fetch('/auth/logout', { method: 'POST', headers: { 'sec-fetch-site': site } });
    t.is(res.status, 403, site);
    t.regex(await res.text(), /Sign-out refused/);
  }
  t.is((await alice.sessionInfo()).status, 200, 'still signed in');
  const own = await alice.fetch('/auth/logout', { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' } });
  t.is(own.status, 303);
});
