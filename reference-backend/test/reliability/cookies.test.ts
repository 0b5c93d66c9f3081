/**
 * The session cookie under attack (D5; BBA §6.1.3.2, the cookie rules): a
 * cookie signed with a key taken off the list, or tampered with (a byte of its id or signature
 * changed, another session's signature, another cookie's signature, the signature missing, another
 * encoding of the right one), is no session on every session route: each answers it exactly as it
 * answers a request with no cookie, re-signs nothing, and the session the cookie names is unchanged.
 * Then the cookies' attributes over http and over https (behind a TLS-terminating proxy: `__Host-`,
 * Secure), and session fixation: whatever cookie a browser holds before sign-in, it holds another
 * one after.
 *
 * A few hundred requests on loopback; no environment settings.
 */
import { createHmac } from 'node:crypto';
import { CSRF_HEADER } from '@tmi-bff/koa';
import { signIn } from '@tmi-bff/mock-as/testing';
import { recordResult } from '@tmi-bff/store/testing';
import test from 'ava';
import { CookieKeys } from '../../src/session/cookie-keys.js';
import {
  SESSION_COOKIE as COOKIE,
  cookiesOf,
  httpsStack,
  STOCKS,
  type Stack,
  startStack,
  type UserAgent,
} from '../_setup.js';
import { fingerprint, fullStack, ownHeaders, ROUTE_TABLE, type RouteRow, snapshotOf } from './_csrf-matrix.js';

const sha256 = (key: string, data: string) => createHmac('sha256', key).update(data).digest('base64url');

/** Changes one character of a base64url string into another base64url character. */
const flip = (value: string, at: number) => {
  const i = at < 0 ? value.length + at : at;
  const c = value[i] === 'A' ? 'B' : 'A';
  return `${value.slice(0, i)}${c}${value.slice(i + 1)}`;
};

/** The session routes a cookie reaches, with their legitimate requests (the callback needs a sign-in). */
const SESSION_ROUTES = Object.entries(ROUTE_TABLE).filter(([name, row]) => row.session && name !== 'auth.callback');

/** Sends `row`'s legitimate request with exactly `cookie` (no jar), and reads its answer. */
async function call(stack: Stack, row: RouteRow, cookie: string | undefined) {
  const abort = new AbortController();
  const res = await fetch(new URL(row.path, stack.origin), {
    method: row.method,
    redirect: 'manual',
    signal: abort.signal,
    headers: { ...ownHeaders(stack, row), ...(cookie ? { cookie } : {}) },
    ...(row.json ? { body: JSON.stringify(row.json) } : {}),
  });
  const stream = res.headers.get('content-type')?.startsWith('text/event-stream');
  const text = stream ? '' : await res.text();
  if (stream) abort.abort();
  return { status: res.status, headers: res.headers, text };
}

test('D5: a session cookie signed with a rotated-out key, or tampered with, is no session on every session route; nothing is re-signed and the session it names is unchanged', async (t) => {
  t.timeout(120_000);
  const stack = await fullStack(t, { backend: { cookieKeys: ['key-1'] } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const bob = stack.browser();
  await bob.signIn({ persona: 'bob' });
  const { key, sig } = alice.sessionCookie();
  const other = bob.sessionCookie();
  // A signature the backend made for another cookie: a login transaction's.
  const login = stack.browser();
  await login.fetch('/auth/login');
  const host = new URL(stack.origin).hostname;
  const loginSig = login.jar.get(host, 'bff-login.sig') ?? '';
  const loginId = login.jar.get(host, 'bff-login') ?? '';
  t.truthy(loginSig);

  const pair = (id: string, signature?: string) =>
    `${COOKIE}=${id}${signature === undefined ? '' : `; ${COOKIE}.sig=${signature}`}`;
  const forged: Array<[string, string]> = [
    ['a byte of the id changed (first)', pair(flip(key, 0), sig)],
    ['a byte of the id changed (last)', pair(flip(key, -1), sig)],
    ['the id in upper case', pair(key.toUpperCase(), sig)],
    ['the id with a byte more', pair(`${key}A`, sig)],
    ['a byte of the signature changed (first)', pair(key, flip(sig, 0))],
    ['a byte of the signature changed (last)', pair(key, flip(sig, -1))],
    ["another session's signature", pair(key, other.sig)],
    ["another session's id under this signature", pair(other.key, sig)],
    ["a login transaction's signature, and its id", pair(loginId, loginSig)],
    ["a login transaction's signature for this id", pair(key, loginSig)],
    ['no signature', pair(key)],
    ['an empty signature', pair(key, '')],
    ['the signature as base64 with padding', pair(key, `${Buffer.from(sig, 'base64url').toString('base64')}`)],
    [
      'a keygrip (HMAC-SHA-1) signature under an unknown key',
      pair(key, createHmac('sha1', 'key-0').update(`${COOKIE}=${key}`).digest('base64url')),
    ],
    ['the signature cut to SHA-1 length', pair(key, sig.slice(0, 27))],
    ['an HMAC-SHA-256 under an unknown key', pair(key, sha256('key-0', `${COOKIE}=${key}`))],
    ["two ids: another session's first, this one's signature", `${COOKIE}=${other.key}; ${pair(key, sig)}`],
  ];

  const problems: string[] = [];
  let requests = 0;
  const tryCookies = async (cases: Array<[string, string]>) => {
    for (const [name, row] of SESSION_ROUTES) {
      const anonymous = await call(stack, row, undefined);
      const again = await call(stack, row, undefined);
      const stable = anonymous.text === again.text;
      for (const [what, cookie] of cases) {
        const label = `${name} · ${what}`;
        const before = await snapshotOf(stack, alice);
        const res = await call(stack, row, cookie);
        requests += 1;
        const [seen, without] = [fingerprint(res, stack.origin, stable), fingerprint(anonymous, stack.origin, stable)];
        if (seen !== without) problems.push(`${label}: ${seen}, not as without a cookie: ${without}`);
        // Nothing re-signed: a refused cookie gets at most a cookie that clears it (sign-out's).
        for (const set of res.headers.getSetCookie()) {
          const clears = /; expires=Thu, 01 Jan 1970 00:00:00 GMT/i.test(set);
          if (/^(__Host-)?bff-session(\.sig)?=[^;]/.test(set) && !clears) problems.push(`${label}: Set-Cookie ${set}`);
        }
        if ((await snapshotOf(stack, alice)) !== before) problems.push(`${label}: the session changed`);
      }
    }
  };

  await tryCookies(forged);

  // The key rotated out: the genuine cookie is signed with a key no longer listed.
  stack.backend.app.keys = new CookieKeys(['key-2']);
  await tryCookies([['signed with a rotated-out key', pair(key, sig)]]);
  // Listed again, as an older key: the same cookie is accepted (it was refused, not destroyed).
  stack.backend.app.keys = new CookieKeys(['key-2', 'key-1']);
  const info = await alice.sessionInfo();
  t.is(info.status, 200, 'the session survives every refused cookie');
  t.is(info.body.sub, 'alice');
  t.is(alice.sessionCookie().sig, sha256('key-2', `${COOKIE}=${key}`), 're-signed with the newest key once verified');
  t.is((await alice.token({ resource: STOCKS, scope: 'stocks:read' })).status, 200, 'tokens still served');
  t.deepEqual(problems, []);

  recordResult(t, {
    area: 'CSRF and cookies',
    tried: `session cookies tampered with (${forged.length} ways: a byte of the id or signature changed, another session's or another cookie's signature, none, other encodings) and signed with a rotated-out key, on every session route (${SESSION_ROUTES.length})`,
    cases: requests,
    figures: `${requests} requests, each answered as without a cookie; 0 cookies re-signed, 0 sessions changed`,
  });
});

interface Expected {
  name: string;
  sameSite: 'strict' | 'lax';
  secure: boolean;
}

function checkAttributes(
  problems: string[],
  set: ReturnType<typeof cookiesOf>,
  expected: Expected[],
  where: string,
): number {
  let checked = 0;
  for (const { name, sameSite, secure } of expected) {
    for (const cookie of [name, `${name}.sig`]) {
      const found = set.get(cookie);
      if (!found) {
        problems.push(`${where}: no Set-Cookie ${cookie} (got ${[...set.keys()]})`);
        continue;
      }
      checked += 1;
      const a = found.attributes;
      const label = `${where} ${cookie}`;
      if (!a.has('httponly')) problems.push(`${label}: not HttpOnly`);
      if (a.get('path') !== '/') problems.push(`${label}: Path is ${a.get('path')}`);
      if (a.has('domain')) problems.push(`${label}: has a Domain`);
      if (a.get('samesite') !== sameSite) problems.push(`${label}: SameSite=${a.get('samesite')}, not ${sameSite}`);
      if (a.has('secure') !== secure) problems.push(`${label}: Secure ${a.has('secure')}, not ${secure}`);
      // The __Host- prefix (BBA §6.1.3.2): such a cookie is Secure, Path=/, without Domain, or browsers drop it.
      if (cookie.startsWith('__Host-') && !(a.has('secure') && a.get('path') === '/' && !a.has('domain'))) {
        problems.push(`${label}: breaks the __Host- prefix rules`);
      }
    }
  }
  return checked;
}

test('D5 (TMI-38): cookie attributes: HttpOnly, Path=/, no Domain, SameSite Strict (session) or Lax (login transaction); over https Secure and __Host-, and the cookies that clear them at sign-out keep the same rules', async (t) => {
  const problems: string[] = [];
  let checked = 0;

  // Over http.
  {
    const stack = await startStack(t);
    const user = stack.browser();
    const start = await user.fetch('/auth/login');
    checked += checkAttributes(
      problems,
      cookiesOf(start),
      [{ name: 'bff-login', sameSite: 'lax', secure: false }],
      'http login',
    );
    const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: user.jar });
    const landed = await user.fetch(callback.pathname + callback.search);
    checked += checkAttributes(
      problems,
      cookiesOf(landed),
      [{ name: 'bff-session', sameSite: 'strict', secure: false }],
      'http callback',
    );
    const out = await user.fetch('/auth/logout', { method: 'POST', headers: { origin: stack.origin } });
    t.is(out.status, 303);
    const cleared = cookiesOf(out);
    checked += checkAttributes(
      problems,
      cleared,
      [{ name: 'bff-session', sameSite: 'strict', secure: false }],
      'http sign-out',
    );
    t.is(cleared.get('bff-session')?.value, '', 'the session cookie is cleared');
  }

  // Over https, behind a TLS-terminating proxy (BFF_TRUST_PROXY, X-Forwarded-Proto).
  {
    const { stack, https } = await httpsStack(t);
    t.is(stack.backend.config.origin, https);
    const proto = { 'x-forwarded-proto': 'https' };
    const user = stack.browser();
    const start = await user.fetch('/auth/login', { headers: proto });
    t.is(start.status, 303);
    checked += checkAttributes(
      problems,
      cookiesOf(start),
      [{ name: '__Host-bff-login', sameSite: 'lax', secure: true }],
      'https login',
    );
    const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: user.jar });
    t.is(callback.origin, https);
    const landed = await user.fetch(callback.pathname + callback.search, { headers: proto });
    t.is(landed.status, 303);
    checked += checkAttributes(
      problems,
      cookiesOf(landed),
      [{ name: '__Host-bff-session', sameSite: 'strict', secure: true }],
      'https callback',
    );
    const info = await user.bff('/.well-known/bff-sessioninfo', { headers: proto });
    t.is(info.status, 200, JSON.stringify(info.body));
    // The same id and signature without the prefix, as a sibling host could set them: no session.
    const host = new URL(stack.origin).hostname;
    const [key, sig] = [user.jar.get(host, '__Host-bff-session'), user.jar.get(host, '__Host-bff-session.sig')];
    const tossed = await fetch(new URL('/.well-known/bff-sessioninfo', stack.origin), {
      headers: { ...proto, [CSRF_HEADER]: '1', cookie: `${COOKIE}=${key}; ${COOKIE}.sig=${sig}` },
    });
    t.is(tossed.status, 400);
    t.like(await tossed.json(), { error: 'invalid_session' });
    const out = await user.fetch('/auth/logout', { method: 'POST', headers: { ...proto, origin: https } });
    t.is(out.status, 303);
    const cleared = cookiesOf(out);
    checked += checkAttributes(
      problems,
      cleared,
      [{ name: '__Host-bff-session', sameSite: 'strict', secure: true }],
      'https sign-out',
    );
    t.is(cleared.get('__Host-bff-session')?.value, '', 'the session cookie is cleared');
  }
  t.deepEqual(problems, []);
  recordResult(t, {
    area: 'CSRF and cookies',
    tried:
      'the attributes of the session and login-transaction cookies and their signatures, set at sign-in and cleared at sign-out, over http and over https behind a proxy; a __Host- session presented without its prefix',
    cases: checked + 1,
    figures: `${checked} Set-Cookie headers checked (HttpOnly, Path=/, no Domain, SameSite, Secure and __Host- over https), 0 off; the unprefixed copy refused`,
  });
});

test("D5: sign-in gives a fresh session id: a cookie held before (forged, unsigned, another user's, one's own) is never the one after, and the one it replaced is dead", async (t) => {
  t.timeout(120_000);
  const stack = await fullStack(t);
  const host = new URL(stack.origin).hostname;
  const problems: string[] = [];
  let signIns = 0;
  const dead = async (what: string, cookie: string) => {
    for (const path of ['/.well-known/bff-sessioninfo', '/.well-known/bff-token']) {
      const res = await fetch(new URL(path, stack.origin), { headers: { [CSRF_HEADER]: '1', cookie } });
      const body = (await res.json()) as { error?: string };
      if (res.status !== 400 || body.error !== 'invalid_session')
        problems.push(`${what}: ${path} answered ${res.status}`);
    }
  };
  const plant = (user: UserAgent, id: string, sig?: string) => {
    user.jar.set(host, COOKIE, id);
    if (sig !== undefined) user.jar.set(host, `${COOKIE}.sig`, sig);
  };
  const freshAfterSignIn = async (what: string, user: UserAgent, before: string) => {
    const landed = await user.signIn({ persona: 'alice' });
    signIns += 1;
    const after = user.sessionCookie();
    if (landed.status !== 303) problems.push(`${what}: sign-in answered ${landed.status}`);
    if (!after.key || after.key === before)
      problems.push(`${what}: the session id after sign-in is ${after.key || 'none'}`);
    const info = await user.sessionInfo();
    if (info.status !== 200 || info.body.sub !== 'alice') problems.push(`${what}: not signed in as alice after`);
  };

  // A forged id with a made-up signature, and one with no signature at all.
  const forged = stack.browser();
  plant(forged, 'A'.repeat(43), sha256('guess', `${COOKIE}=${'A'.repeat(43)}`));
  await freshAfterSignIn('a forged id', forged, 'A'.repeat(43));
  const unsigned = stack.browser();
  plant(unsigned, 'B'.repeat(43));
  await freshAfterSignIn('an unsigned id', unsigned, 'B'.repeat(43));

  // Another user's valid session, planted: not adopted, and ended.
  const attacker = stack.browser();
  await attacker.signIn({ persona: 'bob' });
  const planted = attacker.sessionCookie();
  const victim = stack.browser();
  plant(victim, planted.key, planted.sig);
  await freshAfterSignIn("another user's session", victim, planted.key);
  await dead("another user's planted session", planted.header);

  // One's own session, signed in again: a new id; the old one is dead.
  const again = stack.browser();
  await again.signIn({ persona: 'alice' });
  const own = again.sessionCookie();
  await freshAfterSignIn("a sign-in over one's own session", again, own.key);
  await dead('the session a new sign-in replaced', own.header);

  // The mock persona switch signs in through the same code flow: a new id; the old one is dead.
  const switcher = stack.browser();
  await switcher.signIn({ persona: 'alice' });
  const previous = switcher.sessionCookie();
  const switched = await switcher.bff('/_mock/session/persona', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ persona: 'bob' }),
  });
  t.is(switched.status, 200, JSON.stringify(switched.body));
  t.not(switcher.sessionCookie().key, previous.key);
  await dead('the session a persona switch replaced', previous.header);

  // The login transaction's cookie: a new one for each sign-in started, cleared at the callback.
  const user = stack.browser();
  const ids = new Set<string>();
  for (let i = 0; i < 3; i++) {
    await user.fetch('/auth/login');
    ids.add(user.jar.get(host, 'bff-login') ?? '');
  }
  t.is(ids.size, 3, 'a new login transaction id each time');
  const start = await user.fetch('/auth/login');
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: user.jar });
  await user.fetch(callback.pathname + callback.search);
  signIns += 1;
  t.falsy(user.jar.get(host, 'bff-login'), 'cleared at the callback');
  t.not(user.sessionCookie().key, user.jar.get(host, 'bff-login'));

  t.deepEqual(problems, []);
  recordResult(t, {
    area: 'CSRF and cookies',
    tried:
      "session fixation: sign-in with a forged, an unsigned, another user's and one's own session cookie held before; a persona switch; the login transaction's cookie",
    cases: signIns + 1 + ids.size,
    figures: `${signIns} sign-ins and 1 persona switch, each with a new session id; 3 replaced sessions refused afterwards; ${ids.size} login transactions, ${ids.size} distinct ids`,
  });
});
