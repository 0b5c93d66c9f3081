/**
 * Random requests to the interaction routes through one AS and a few live interactions (so each run
 * costs one loopback request): method, path shape, uid, cookies, content type, body and headers vary,
 * weighted towards well-formed requests so that most reach the form handlers.
 */
import test from 'ava';
import fc from 'fast-check';
import { fuzzRun, fuzzText, mostly } from '../src/testing/fuzz.js';
import { atLogin, FORM, leaks, pageAt, pageSecurityProblems, startAs } from './_setup.js';

const RUNS = 2000;
const SEED = 20261130;
/** Every status the interaction routes may answer with. */
const STATUSES = [200, 303, 400, 401, 404, 405, 413, 415];

test(`fuzz: ${RUNS.toLocaleString('en')} random requests to the interaction routes never get a 5xx, a stack trace or a page without its protective headers`, async (t) => {
  const as = await startAs(t);
  // On a loaded machine the setup below can end more than Node's 5 s keep-alive timeout before the
  // first run: fetch would then reuse a connection the server already closed (ECONNRESET), a fault
  // of the test's client, not of the AS. Connections are kept longer here.
  as.server.keepAliveTimeout = 30_000;
  // Live interactions, reused by every run: three waiting at the login page, two at consent.
  const live = await Promise.all([0, 1, 2, 3, 4].map(() => atLogin(t, as)));
  for (const consent of live.slice(3)) {
    const page = await pageAt(consent.jar, `${consent.at.href}/login`, {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({ persona: 'bob' }),
    });
    t.regex(page.html, /<h1>Allow access\?<\/h1>/);
    Object.assign(consent, { at: page.at, uid: page.at.pathname.split('/').pop() });
  }
  const interactions = live.map(({ jar, at, uid }) => ({ uid, cookie: jar.header(`${at.href}/login`) }));

  const { printable, anyText } = fuzzText({
    maxLength: 30,
    tricky: ['%', '%zz', '%00', '%E0%A4%A', '%C0%AF', '+', '&&', '==', '[]', '[a][b]', ''],
  });

  const field = fc.tuple(
    mostly(
      fc.constantFrom('username', 'password', 'persona'),
      fc.oneof(fc.constantFrom('username[]', 'persona[0]', 'username[a][b]', '__proto__[x]', 'toString'), printable),
    ),
    mostly(fc.constantFrom('alice', 'bob', 'carol', 'nobody', ''), anyText),
  );
  const form = fc
    .array(field, { maxLength: 5 })
    .map((pairs) =>
      pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v.replace(/[&\s]/g, encodeURIComponent)}`).join('&'),
    );
  const body = fc.oneof(
    { arbitrary: form, weight: 6 },
    { arbitrary: anyText, weight: 2 },
    { arbitrary: fc.constantFrom('{"persona":"alice"}', '[1,2]', 'null'), weight: 1 },
    // Over the 16 KB limit.
    { arbitrary: fc.integer({ min: 16_400, max: 40_000 }).map((n) => `username=${'a'.repeat(n)}`), weight: 1 },
  );
  const contentType = mostly(
    fc.constantFrom(FORM['content-type'], `${FORM['content-type']}; charset=UTF-8`),
    fc.constantFrom(
      'application/json',
      'multipart/form-data; boundary=x',
      'text/plain',
      `${FORM['content-type']}; charset=iso-8859-1`,
      `${FORM['content-type']}; charset=foo`,
      'a/b;;;=',
      '',
    ),
  );
  // A route the pages use (method and path), or another method or path shape.
  const route = mostly<[string, string]>(
    fc.constantFrom<[string, string]>(['GET', ''], ['POST', '/login'], ['POST', '/consent'], ['POST', '/abort']),
    fc.tuple(
      fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND'),
      fc.oneof(
        fc.constantFrom('', '/login', '/consent', '/abort', '/', '//login', '/login/', '/login/x', '/%2e%2e/login'),
        fc.constantFrom('/LOGIN', '?x=1', '/login?persona=alice'),
        printable.map((s) => `/${encodeURIComponent(s)}`),
      ),
    ),
  );
  const request = fc.record({
    at: fc.nat(interactions.length - 1),
    cookieFrom: mostly(fc.constant('own'), fc.constantFrom('another', 'tampered', 'garbage', 'none')),
    uid: mostly(
      fc.constant(''),
      fc.oneof(
        // Not a dot segment, which would leave /interaction/.
        printable.filter((s) => !/^\.{1,2}$/.test(s)).map(encodeURIComponent),
        fc.constantFrom('%00', '%2F', 'x'.repeat(300)),
      ),
    ),
    route,
    body,
    contentType,
    accept: fc.constantFrom('', 'text/html', 'application/json', '*/*'),
    origin: fc.constantFrom('', as.issuer, 'https://evil.example', 'null'),
    fetchSite: fc.constantFrom('', 'same-origin', 'same-site', 'cross-site'),
  });

  const seen = new Map<number, number>();
  const { runs, ms } = await fuzzRun(request, { numRuns: RUNS, seed: SEED }, async (r) => {
    const own = interactions[r.at] ?? { uid: '', cookie: '' };
    const another = interactions[(r.at + 1) % interactions.length] ?? own;
    const cookie = {
      own: own.cookie,
      another: another.cookie,
      tampered: own.cookie.replace(/(_interaction\.sig=)[^;]+/, '$1AAAA'),
      garbage: '_interaction=%%%; _session=;;',
      none: '',
    }[r.cookieFrom];
    const [method, path] = r.route;
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = cookie;
    if (r.accept) headers.accept = r.accept;
    if (r.origin) headers.origin = r.origin;
    if (r.fetchSite) headers['sec-fetch-site'] = r.fetchSite;
    const hasBody = !['GET', 'HEAD'].includes(method);
    if (hasBody && r.contentType) headers['content-type'] = r.contentType;
    const url = `${as.issuer}/interaction/${r.uid || own.uid}${path}`;
    const res = await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      ...(hasBody ? { body: r.body } : {}),
    });
    const text = await res.text();
    seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
    const fail = (why: string): never => {
      throw new Error(`${why}: ${method} ${url} → ${res.status}\n${text.slice(0, 500)}`);
    };

    if (!STATUSES.includes(res.status)) fail('unexpected status');
    if (/\n\s+at \S+/.test(text)) fail('a stack trace');
    if (res.headers.get('content-type')?.startsWith('text/html')) {
      const problems = pageSecurityProblems(res.headers, text);
      if (problems.length) fail(`page headers: ${problems.join(', ')}`);
    }
    // A redirect only ever resumes the authorization request at the AS.
    const location = res.headers.get('location');
    if (res.status === 303 && !location?.startsWith(`${as.issuer}/auth/`)) fail(`redirect to ${location}`);
    if (res.status >= 400 && method !== 'HEAD') {
      // The login page shows the username it was sent; every other answer is the error page.
      const page = /<h1>(Sign in|Something went wrong)<\/h1>/.exec(text)?.[1];
      if (!page) fail('not an HTML page');
      if (page === 'Something went wrong' && leaks(text).length) fail(`internals: ${leaks(text).join(', ')}`);
    }
  });
  t.log(
    `seed ${SEED}; ${runs} runs; ${ms} ms; statuses: ${[...seen].map(([status, n]) => `${status}×${n}`).join(', ')}`,
  );
  t.is(
    [...seen.values()].reduce((a, b) => a + b, 0),
    RUNS,
  );
  for (const status of STATUSES) t.true(seen.has(status), `some requests got ${status}`);
});
