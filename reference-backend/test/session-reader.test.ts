/**
 * bff-token and bff-sessioninfo read the session without koa-session (session/session-reader.ts):
 * what koa-session would refuse they refuse, what it accepts they accept, and they write nothing
 * back but the cookie's end when the session's grant is gone.
 */
import { createHmac } from 'node:crypto';
import test from 'ava';
import { CookieKeys } from '../src/session/cookie-keys.js';
import { SESSION_COOKIE as COOKIE, startStack } from './_setup.js';

const sha256 = (key: string, data: string) => createHmac('sha256', key).update(data).digest('base64url');
const refused = { error: 'invalid_session', error_description: 'no valid session: sign in first' };

test("D5: a session record past koa-session's own end (_expire) is invalid_session on both endpoints, as on pages", async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const { key } = alice.sessionCookie();
  const stored = await stack.backend.store.get<Record<string, unknown>>(`session:${key}`);
  t.is(typeof stored?._expire, 'number', 'koa-session wrote its end');
  t.is((await alice.token()).status, 200);

  await stack.backend.store.set(`session:${key}`, { ...stored, _expire: Date.now() - 1000 }, 60_000);
  for (const res of [await alice.token(), await alice.sessionInfo()]) {
    t.is(res.status, 400);
    t.deepEqual(res.body, refused);
  }
  // A record without koa-session's end (none written) is read by its own `expires_at`.
  const { _expire, _maxAge, ...bare } = stored ?? {};
  await stack.backend.store.set(`session:${key}`, bare, 60_000);
  t.is((await alice.sessionInfo()).status, 200);
});

test('D5: a session read by the endpoints is left as it was: no Set-Cookie, the record unchanged', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const { key } = alice.sessionCookie();
  const before = await stack.backend.store.get(`session:${key}`);
  for (const res of [await alice.token(), await alice.sessionInfo()]) {
    t.is(res.status, 200);
    t.is(res.headers.get('set-cookie'), null);
  }
  t.deepEqual(await stack.backend.store.get(`session:${key}`), before);
});

test('D5: bff-token accepts a cookie signed with an older key still listed, and re-signs it with the newest', async (t) => {
  const stack = await startStack(t, { backend: { cookieKeys: ['key-1'] } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const before = alice.sessionCookie();
  stack.backend.app.keys = new CookieKeys(['key-2', 'key-1']);
  const res = await alice.token();
  t.is(res.status, 200);
  t.truthy(res.body.access_token);
  const after = alice.sessionCookie();
  t.is(after.key, before.key, 'the same session');
  t.is(after.sig, sha256('key-2', `${COOKIE}=${after.key}`));

  stack.backend.app.keys = new CookieKeys(['key-3']);
  const gone = await alice.token();
  t.is(gone.status, 400);
  t.deepEqual(gone.body, refused);
});

test('a session whose grant is gone is invalid_session on the endpoints: its record is deleted and its cookie cleared, as koa-session ends one', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const { key } = alice.sessionCookie();
  const sid = await stack.sessionId(alice);
  await stack.backend.store.delete(`grant:${sid}`);

  const res = await alice.fetch('/.well-known/bff-sessioninfo', { headers: { 'TMI-BFF-CSRF': '1' } });
  t.is(res.status, 400);
  t.deepEqual(await res.json(), refused);
  const cleared = res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=;`));
  t.regex(cleared ?? '', /expires=Thu, 01 Jan 1970 00:00:00 GMT/i);
  t.regex(cleared ?? '', /httponly/i);
  t.regex(cleared ?? '', /samesite=strict/i);
  t.is(await stack.backend.store.get(`session:${key}`), undefined);
  t.is(alice.sessionCookie().key, '', 'the browser dropped it');
});
