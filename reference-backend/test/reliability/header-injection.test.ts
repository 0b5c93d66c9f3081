/**
 * Header injection and response splitting: every value the backend or the mock AS reflects into a
 * response header (Location on the sign-in's return, the sign-out's return and the AS's redirects,
 * WWW-Authenticate, Set-Cookie) is sent with CR, LF, CRLF, NUL, NEL and the Unicode line and
 * paragraph separators, percent-encoded and raw. Requests and responses go over a raw socket
 * (node:net), since fetch would refuse or normalise such bytes: each response's head is split on
 * CRLF as sent, and no line may carry an injected header, a bare CR, LF or NUL, or anything but a
 * header's `name: value` form. A raw byte the HTTP parser refuses gets a clean 400, and the server
 * answers the next request as usual.
 */

import { signIn } from '@tmi-bff/mock-as/testing';
import { recordResult } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { type Stack, startStack, type UserAgent } from '../_setup.js';
import { type RawResponse, rawExchange, rawHeader } from './_hostile.js';

/** Line breaks and terminators, percent-encoded as a URL would carry them; each followed by a header. */
const ENCODED = ['%0D%0A', '%0A', '%0D', '%00', '%C2%85', '%E2%80%A8', '%E2%80%A9', '%0D%0A%0D%0A', '%250D%250A'].map(
  (brk) => `${brk}X-Injected:%20yes`,
);
/** The same, as raw bytes in the request line or a header (latin1: one char per byte). */
const RAW = ['\r\n', '\n', '\r', '\0', '\xc2\x85', '\xe2\x80\xa8', '\xe2\x80\xa9'].map(
  (brk) => `${brk}X-Injected: yes`,
);
/** A header line as RFC 9110 §5 allows it: a token, a colon, a value of visible bytes, space and tab. */
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*$/;

/** What any response must be: no injected header, no split line, no 5xx. */
function assertClean(t: ExecutionContext, res: RawResponse, what: string): void {
  t.regex(res.statusLine, /^HTTP\/1\.1 [1-4]\d\d /, `${what}: ${res.statusLine}`);
  for (const line of res.headerLines) {
    t.regex(line, HEADER_LINE, `${what}: a malformed header line ${JSON.stringify(line)}`);
    t.false(/^x-injected/i.test(line), `${what}: an injected header`);
  }
  // The body follows one blank line only: a split response would put a second head after it.
  t.false(/^HTTP\/1\.[01] \d{3}/m.test(res.body), `${what}: a second response in the body`);
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.join('')}Connection: close\r\n\r\n`;
}

/** A signed-in browser (its jar holds the session cookie). */
async function signedIn(stack: Stack, persona = 'alice'): Promise<UserAgent> {
  const user = stack.browser();
  await user.signIn({ persona });
  return user;
}

test('hostile input: a reflected return path, post-logout state or authorize parameter with CR, LF, NUL or a Unicode line separator never adds a header or splits a response (raw socket)', async (t) => {
  t.timeout(120_000);
  const stack = await startStack(t);
  let exchanges = 0;
  const exchange = async (origin: string, request: string, what: string) => {
    const res = await rawExchange(origin, request);
    exchanges += 1;
    assertClean(t, res, what);
    return res;
  };

  for (const payload of ENCODED) {
    // The sign-in's return path, stored at /auth/login and sent back in the callback's Location.
    const user = stack.browser();
    const login = await exchange(stack.origin, get(`/auth/login?returnTo=/page${payload}`), `login ${payload}`);
    t.is(login.status, 303);
    for (const line of login.headerLines.filter((l) => /^set-cookie:/i.test(l))) {
      const [pair = '', ...attributes] = line
        .slice('set-cookie:'.length)
        .split(';')
        .map((a) => a.trim());
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const eq = pair.indexOf('=');
      user.jar.set('127.0.0.1', pair.slice(0, eq), pair.slice(eq + 1), path);
    }
    const callback = await signIn(rawHeader(login, 'location') ?? '', { jar: user.jar, persona: 'alice' });
    const back = await exchange(
      stack.origin,
      get(`${callback.pathname}${callback.search}`, { cookie: user.jar.header(callback.href) }),
      `callback ${payload}`,
    );
    t.is(back.status, 303);
    const location = rawHeader(back, 'location') ?? '';
    t.true(location === '/' || location.startsWith('/page'), `callback Location ${location}`);

    // The sign-out's return: its state goes to the AS and comes back to /auth/signed-out.
    const alice = await signedIn(stack);
    const logout = await exchange(
      stack.origin,
      get(
        `/auth/logout?returnTo=/page${payload}`,
        { cookie: alice.sessionCookie().header, origin: stack.origin, 'content-length': '0' },
        'POST',
      ),
      `logout ${payload}`,
    );
    t.is(logout.status, 303);
    const signedOut = await exchange(
      stack.origin,
      get(`/auth/signed-out?state=/page${payload}`),
      `signed-out ${payload}`,
    );
    t.is(signedOut.status, 303);
    // Consent: resource and scope go into the login's return path.
    await exchange(
      stack.origin,
      get(`/auth/consent?resource=x${payload}&scope=a${payload}`, { cookie: alice.sessionCookie().header }),
      `consent ${payload}`,
    );

    // The AS: state and redirect_uri of an authorization request come back in its Location.
    const authorize = new URL(rawHeader(login, 'location') ?? '');
    authorize.searchParams.set('prompt', 'none');
    const asAnswer = await exchange(
      stack.as.issuer,
      get(`${authorize.pathname}${authorize.search.replace(/state=[^&]*/, `state=s${payload}`)}`),
      `authorize state ${payload}`,
    );
    t.is(asAnswer.status, 303);
    t.true(rawHeader(asAnswer, 'location')?.startsWith(`${stack.origin}/auth/callback?`));
    await exchange(
      stack.as.issuer,
      get(
        `${authorize.pathname}${authorize.search.replace(/redirect_uri=[^&]*/, `redirect_uri=${encodeURIComponent(`${stack.origin}/auth/callback`)}${payload}`)}`,
      ),
      `authorize redirect_uri ${payload}`,
    );
    // The AS's end-session: post_logout_redirect_uri and state.
    await exchange(
      stack.as.issuer,
      get(
        `/session/end?client_id=bff&post_logout_redirect_uri=${encodeURIComponent(`${stack.origin}/`)}${payload}&state=s${payload}`,
      ),
      `end-session ${payload}`,
    );
    // WWW-Authenticate: a client id with a line break in HTTP Basic (form-encoded, RFC 6749 §2.3.1).
    const basic = Buffer.from(`bff${payload}:secret${payload}`).toString('base64');
    const token = await exchange(
      stack.as.issuer,
      `POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic ${basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\nConnection: close\r\n\r\ngrant_type=client_credentials`,
      `token Basic ${payload}`,
    );
    t.true([400, 401].includes(token.status), `token Basic ${payload} → ${token.status}`);
  }

  // Raw bytes: the HTTP parser refuses them with a clean 400, or they stay inside one value.
  for (const payload of RAW) {
    for (const [origin, request] of [
      [stack.origin, get(`/auth/login?returnTo=/page${payload}`)],
      [stack.origin, get(`/auth/signed-out?state=/page${payload}`)],
      [stack.origin, get('/.well-known/bff-sessioninfo', { origin: `http://x${payload}`, 'TMI-BFF-CSRF': '1' })],
      [stack.as.issuer, get(`/session/end?client_id=bff&state=s${payload}`)],
      [stack.as.issuer, get('/auth', { cookie: `_session=x${payload}` })],
    ] as const) {
      const res = await exchange(origin, request, `raw ${JSON.stringify(payload)}`);
      t.true(
        res.status === 400 || res.status === 303 || res.status === 200,
        `raw ${JSON.stringify(payload)} → ${res.status}`,
      );
    }
  }
  // Both servers still answer.
  const alice = await signedIn(stack);
  t.is((await alice.sessionInfo()).status, 200);
  recordResult(t, {
    area: 'Hostile input',
    tried:
      'header injection: CR, LF, CRLF, NUL, NEL, U+2028/U+2029 (encoded and raw) in every reflected value (return paths, post-logout state, authorize state and redirect_uri, HTTP Basic), read over a raw socket',
    cases: exchanges,
    figures: `${exchanges} raw exchanges; 0 injected headers, 0 split responses, 0 5xx`,
  });
});

test('hostile input: any return path built from line breaks, NUL, Unicode separators and printable text, sent raw or percent-encoded, comes back in one Location line or not at all (fast-check, raw socket)', async (t) => {
  t.timeout(120_000);
  const stack = await startStack(t);
  const seed = Number(process.env.RELIABILITY_FUZZ_SEED ?? 20261201);
  const runs = Math.round(Number(process.env.RELIABILITY_FUZZ_RUNS ?? 10_000) / 10);
  t.log(`seed ${seed}, ${runs} runs (RELIABILITY_FUZZ_SEED, RELIABILITY_FUZZ_RUNS)`);
  const unit = fc.oneof(
    fc.constantFrom(
      '\r',
      '\n',
      '\r\n',
      '\0',
      '\u0085',
      '\u2028',
      '\u2029',
      '\t',
      ' ',
      'X-Injected: yes',
      'Set-Cookie: a=b',
    ),
    fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 6 }),
  );
  const path = fc.array(unit, { minLength: 1, maxLength: 8 }).map((parts) => `/${parts.join('')}`);
  /** Each byte of the UTF-8 text as %XX; raw: only the bytes, as latin1 characters. */
  const encode = (text: string) => Buffer.from(text).toString('hex').replace(/../g, '%$&');
  const raw = (text: string) => Buffer.from(text).toString('latin1');
  const seen = new Map<number, number>();
  let count = 0;
  await fc.assert(
    fc.asyncProperty(
      path,
      fc.boolean(),
      fc.constantFrom('/auth/signed-out?state=', '/auth/login?returnTo='),
      async (value, encoded, route) => {
        count += 1;
        const target = `${route}${encoded ? encode(value) : raw(value)}`;
        const res = await rawExchange(stack.origin, get(target));
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const fail = (why: string): never => {
          throw new Error(`${why}: ${JSON.stringify(target)} → ${JSON.stringify(res.raw.slice(0, 600))}`);
        };
        if (!/^HTTP\/1\.1 [1-4]\d\d /.test(res.statusLine)) fail('status');
        for (const line of res.headerLines) {
          if (!HEADER_LINE.test(line) || /^x-injected/i.test(line)) fail(`header line ${JSON.stringify(line)}`);
        }
        if (
          res.headerLines
            .filter((l) => /^set-cookie:/i.test(l))
            .some((l) => !/^set-cookie: bff-login(\.sig)?=/i.test(l))
        ) {
          fail('a Set-Cookie of its own');
        }
        if (
          res.status === 303 &&
          route.startsWith('/auth/signed-out') &&
          !rawHeader(res, 'location')?.startsWith('/')
        ) {
          fail('a Location off this origin');
        }
      },
    ),
    { numRuns: runs, seed, includeErrorInReport: true },
  );
  t.log([...seen].map(([s, n]) => `${s}×${n}`).join(', '));
  t.is(count, runs);
  t.true(seen.has(303) && seen.has(400), 'some values were redirected, some refused by the parser');
  recordResult(t, {
    area: 'Hostile input',
    tried:
      'header injection, fuzzed: return paths of CR, LF, NUL, NEL, U+2028/U+2029, header-like and printable text, raw or percent-encoded, at /auth/signed-out and /auth/login, read over a raw socket',
    cases: count,
    figures: `0 injected headers, 0 split responses, 0 5xx; statuses ${[...seen].map(([s, n]) => `${s}×${n}`).join(', ')}; seed ${seed}`,
  });
});
