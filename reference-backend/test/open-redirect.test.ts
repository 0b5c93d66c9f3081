/**
 * RFC 9700 §4.11: after sign-in and consent, the backend redirects only to a path of its own origin.
 * Every spelling below goes through a real sign-in at the mock AS, and the `Location` the browser
 * finally gets is resolved the way a browser resolves it.
 */
import test from 'ava';
import { safeReturnTo } from '../src/oauth/return-to.js';
import { SERVICE_B, type Stack, startStack } from './_setup.js';

/** [returnTo as sent, where the browser must land]. */
const SPELLINGS: Array<[string, string]> = [
  ['/portfolio?x=1#top', '/portfolio?x=1#top'],
  ['/a/./b/../c', '/a/c'],
  // dot segments that normalise into a scheme-relative URL
  ['/..//evil.example', '/'],
  ['/.//evil.example/x', '/'],
  ['/a/../..//evil.example', '/'],
  ['/%2e%2e//evil.example', '/'],
  ['/%2E%2E/%2F/evil.example', '/%2F/evil.example'],
  ['/./%2e//evil.example', '/'],
  // encoded and doubled slashes
  ['//evil.example/', '/'],
  ['///evil.example/', '/'],
  ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
  ['/%2f/evil.example', '/%2f/evil.example'],
  // backslashes (read as slashes by the URL parser)
  ['/\\evil.example', '/'],
  ['\\\\evil.example', '/'],
  ['/\\/evil.example', '/'],
  ['/%5C%5Cevil.example', '/%5C%5Cevil.example'],
  // tab, CR and LF (dropped by the URL parser)
  ['/\t/evil.example', '/'],
  ['/\r\n/evil.example', '/'],
  ['/\n/evil.example', '/'],
  ['/%09/evil.example', '/%09/evil.example'],
  // NUL
  ['/%00//evil.example', '/%00//evil.example'],
  ['/\u0000/evil.example', '/'],
  // full-width solidus and other look-alikes stay inside the path
  ['/\uFF0F\uFF0Fevil.example', '/%EF%BC%8F%EF%BC%8Fevil.example'],
  ['/\u2215\u2215evil.example', '/%E2%88%95%E2%88%95evil.example'],
  // schemes
  ['https://evil.example/', '/'],
  ['http:evil.example', '/'],
  ['javascript:alert(1)', '/'],
  ['JaVaScRiPt:alert(1)', '/'],
  ['data:text/html,<script>alert(1)</script>', '/'],
  ['/javascript:alert(1)', '/javascript:alert(1)'],
  // no path at all
  ['', '/'],
  ['evil.example', '/'],
];

/** Where a browser goes with this Location header, relative to the app. */
function landing(stack: Stack, location: string | null): { origin: string; path: string } {
  const url = new URL(location ?? '', stack.origin);
  return { origin: url.origin, path: `${url.pathname}${url.search}${url.hash}` };
}

test(`RFC 9700 §4.11: after a real sign-in, ${SPELLINGS.length} spellings of returnTo land on this origin, at the normalised path or at /`, async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  for (const [returnTo, expected] of SPELLINGS) {
    const landed = await alice.signIn({ persona: 'alice' }, `/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
    t.is(landed.status, 303);
    const location = landed.headers.get('location');
    t.deepEqual(landing(stack, location), { origin: stack.origin, path: expected }, JSON.stringify(returnTo));
    t.true(location?.startsWith('/') && !location.startsWith('//') && !location.includes('\\'), String(location));
  }
});

test('RFC 9700 §4.11: the return path is checked after normalisation, whatever the raw value looked like', (t) => {
  const origin = 'http://127.0.0.1:3000';
  for (const [returnTo, expected] of SPELLINGS) {
    const kept = safeReturnTo(returnTo, origin);
    t.is(kept, expected, JSON.stringify(returnTo));
    // Idempotent: what is kept passes the check again unchanged.
    t.is(safeReturnTo(kept, origin), kept);
  }
  t.is(safeReturnTo(['/a', '/b'], origin), '/', 'a repeated parameter');
  t.is(safeReturnTo(`/${'a'.repeat(3000)}`, origin), '/', 'too long to keep');
});

test('RFC 9700 §4.11: /auth/consent sanitises returnTo the same way, through the AS consent page', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  for (const [returnTo, expected] of [
    ['/..//evil.example', '/'],
    ['https://evil.example/', '/'],
    ['/chain?x=1', '/chain?x=1'],
  ] as const) {
    const back = await alice.signIn(
      { persona: 'alice' },
      `/auth/consent?resource=${encodeURIComponent(SERVICE_B)}&scope=b&returnTo=${encodeURIComponent(returnTo)}`,
    );
    t.is(back.headers.get('location'), expected, returnTo);
  }
  // Without a session, consent sends the browser to sign-in with the sanitised path.
  const stranger = stack.browser();
  const start = await stranger.fetch(`/auth/consent?resource=x&returnTo=${encodeURIComponent('/.//evil.example')}`);
  t.is(start.status, 303);
  t.is(start.headers.get('location'), '/auth/login?returnTo=%2F');
});

test('RFC 9700 §4.11: sign-out ends at this app, whatever the request says', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const out = await alice.fetch('/auth/logout?returnTo=//evil.example&post_logout_redirect_uri=https://evil.example', {
    method: 'POST',
    headers: { origin: stack.origin },
  });
  t.is(out.status, 303);
  const end = new URL(out.headers.get('location') ?? '');
  t.is(end.origin, new URL(stack.as.issuer).origin);
  t.is(end.searchParams.get('post_logout_redirect_uri'), `${stack.origin}/`);
});
