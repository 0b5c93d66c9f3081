/**
 * The session cookie and its record (session/session.ts, session/cookie-keys.ts): one HMAC-SHA-256
 * per signature checked, key rotation, a small record (the ID token kept apart), and a store that
 * does not answer while the session is read (D6).
 */
import { createHmac } from 'node:crypto';
import { StoreUnavailable } from '@tmi-bff/store';
import test from 'ava';
import { CookieKeys } from '../src/session/cookie-keys.js';
import { SESSION_COOKIE as COOKIE, startStack } from './_setup.js';

const sha256 = (key: string, data: string) => createHmac('sha256', key).update(data).digest('base64url');

test('D5: a cookie is signed with HMAC-SHA-256 under the newest key; a keygrip (HMAC-SHA-1) signature under a listed key is accepted, to be re-signed', (t) => {
  const keys = new CookieKeys(['new', 'old']);
  t.is(keys.sign('bff-session=abc'), sha256('new', 'bff-session=abc'));
  t.is(keys.index('bff-session=abc', sha256('new', 'bff-session=abc')), 0);
  t.is(keys.index('bff-session=abc', sha256('old', 'bff-session=abc')), 1);
  t.is(keys.index('bff-session=abc', sha256('gone', 'bff-session=abc')), -1);
  t.is(keys.index('bff-session=abd', sha256('new', 'bff-session=abc')), -1, 'another value');
  t.is(keys.index('bff-session=abc', `${sha256('new', 'bff-session=abc').slice(0, -1)}A`), -1, 'another signature');
  t.is(keys.index('bff-session=abc', ''), -1);
  const keygrip = createHmac('sha1', 'old').update('bff-session=abc').digest('base64url');
  t.true(keys.index('bff-session=abc', keygrip) > 0, 'accepted, and not at index 0: cookies re-signs it');
  t.false(keys.verify('bff-session=abc', createHmac('sha1', 'gone').update('bff-session=abc').digest('base64url')));
  t.throws(() => new CookieKeys([]), { instanceOf: TypeError });
});

test('D5: key rotation: a session signed with an older key still listed is accepted and re-signed with the newest; once the key is off the list, or the signature is tampered with, it is refused', async (t) => {
  const stack = await startStack(t, { backend: { cookieKeys: ['key-1'] } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const signedBefore = alice.sessionCookie();
  t.is(signedBefore.sig, sha256('key-1', `${COOKIE}=${signedBefore.key}`));

  // Rotated: key-2 signs, key-1 still verifies.
  stack.backend.app.keys = new CookieKeys(['key-2', 'key-1']);
  t.is((await alice.sessionInfo()).status, 200);
  const resigned = alice.sessionCookie();
  t.is(resigned.key, signedBefore.key, 'the same session');
  t.is(resigned.sig, sha256('key-2', `${COOKIE}=${resigned.key}`), 're-signed with the newest key');

  // key-1 retired: the re-signed cookie works, the old signature does not.
  stack.backend.app.keys = new CookieKeys(['key-2']);
  t.is((await alice.sessionInfo()).status, 200);
  const call = (sig: string) =>
    fetch(new URL('/.well-known/bff-sessioninfo', stack.origin), {
      headers: { 'TMI-BFF-CSRF': '1', cookie: `${COOKIE}=${resigned.key}; ${COOKIE}.sig=${sig}` },
    });
  const retired = await call(signedBefore.sig);
  t.is(retired.status, 400);
  t.like(await retired.json(), { error: 'invalid_session' });
  const tampered = await call(`${resigned.sig.slice(0, -2)}AA`);
  t.is(tampered.status, 400);
  t.like(await tampered.json(), { error: 'invalid_session' });
});

test('D5: the session record holds the session id, the claims and the end, nothing else; the ID token is kept apart for sign-out and goes with the session', async (t) => {
  // Sign-out sends it as id_token_hint only when asked (BFF_LOGOUT_ID_TOKEN_HINT=1).
  const stack = await startStack(t, { backend: { idTokenHint: true } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const record = await stack.backend.store.get<Record<string, unknown>>(`session:${alice.sessionCookie().key}`);
  const own = Object.keys(record ?? {}).filter((k) => !k.startsWith('_'));
  t.deepEqual(own.sort(), ['claims', 'expires_at', 'sid']);
  const sid = await stack.sessionId(alice);
  const idToken = await stack.backend.store.get<string>(`id-token:${sid}`);
  t.regex(String(idToken), /^eyJ/);

  const out = await alice.fetch('/auth/logout', { method: 'POST', headers: { origin: stack.origin } });
  t.is(out.status, 303);
  t.is(new URL(out.headers.get('location') ?? '').searchParams.get('id_token_hint') ?? undefined, idToken);
  t.is(await stack.backend.store.get(`id-token:${sid}`), undefined, 'gone with the session');
});

test('D6: a store that does not answer while the session is read gets temporarily_unavailable (400, not a 500) on bff-token and bff-sessioninfo, a 503 page on pages, and works again once it answers', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const store = stack.backend.store;
  const read = store.get.bind(store);
  let down = true;
  store.get = (<T>(key: string) =>
    down && key.startsWith('session:')
      ? Promise.reject(new StoreUnavailable('the store did not answer'))
      : read<T>(key)) as typeof store.get;

  for (const call of [() => alice.token(), () => alice.sessionInfo()]) {
    const res = await call();
    // TMI-BFF-01 §4.3 (TMI-25): the spec's error status, with D6's code; never a 500.
    t.is(res.status, 400);
    t.is(res.body.error, 'temporarily_unavailable');
    t.is(res.headers.get('cache-control'), 'no-store');
  }
  const page = await alice.fetch('/');
  t.is(page.status, 503);
  t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(await page.text(), /Try again in a moment/);
  t.truthy(alice.sessionCookie().key, 'the cookie is kept');

  down = false;
  t.is((await alice.sessionInfo()).status, 200);
});

test('D5: a cookie whose signature verified is accepted again with that signature only; a new key list remembers nothing', (t) => {
  const keys = new CookieKeys(['new', 'old']);
  const data = 'bff-session=abc';
  t.is(keys.index(data, sha256('old', data)), 1);
  t.is(keys.index(data, sha256('old', data)), 1, 'again, remembered');
  t.is(keys.index(data, `${sha256('old', data).slice(0, -1)}A`), -1, 'another signature of the same cookie');
  t.is(keys.index(data, ''), -1);
  t.is(keys.index(data, sha256('new', data)), 0, 're-signed with the newest key');
  t.is(keys.index(data, sha256('old', data)), 1, 'the older signature still verifies while its key is listed');
  t.is(new CookieKeys(['new']).index(data, sha256('old', data)), -1, 'its key taken off the list');
});
