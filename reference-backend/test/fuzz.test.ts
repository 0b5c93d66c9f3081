import test from 'ava';
import fc from 'fast-check';
import { SESSION_COOKIE as COOKIE, SERVICE_A, STOCKS, startStack } from './_setup.js';

test('fuzz: 1,200 random or malformed queries, bodies, cookies and headers never get a 5xx — always a spec JSON error or a 200', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const { key, sig } = alice.sessionCookie();

  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 40,
  });
  const anyText = fc.oneof(
    printable,
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('%', '%zz', '%00', '%E0%A4%A', '+', '&&', '==', ''),
  );
  const name = fc.oneof(fc.constantFrom('resource', 'scope', 'fresh', 'client_id', 'resource[]', 'Scope'), printable);
  const value = fc.oneof(
    fc.constantFrom(
      STOCKS,
      SERVICE_A,
      'stocks:read',
      'stocks:read stocks:buy',
      'a b c',
      '1',
      'javascript:alert(1)',
      'http://localhost:4001/stocks#x',
    ),
    anyText,
  );
  const query = fc
    .array(fc.tuple(name, value), { maxLength: 6 })
    .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`.replace(/#/g, '%23').replace(/\s/g, '+')).join('&'));
  // Weighted towards a valid context, so most requests get past the session and CSRF checks.
  const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: bad, weight: 1 });
  const cookie = mostly(
    fc.constant(`${COOKIE}=${key}; ${COOKIE}.sig=${sig}`),
    fc.oneof(
      fc.constant(''),
      printable.map((v) => `${COOKIE}=${v}; ${COOKIE}.sig=${sig}`),
      printable.map((v) => `${COOKIE}=${key}; ${COOKIE}.sig=${v}`),
      printable,
    ),
  );
  const request = fc.record({
    path: fc.constantFrom('/.well-known/bff-token', '/.well-known/bff-sessioninfo'),
    method: mostly(fc.constantFrom('GET', 'POST'), fc.constantFrom('PUT', 'DELETE', 'OPTIONS', 'PATCH')),
    query,
    body: fc.oneof(query, anyText),
    contentType: mostly(
      fc.constant('application/x-www-form-urlencoded'),
      fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', ''),
    ),
    cookie,
    csrf: mostly(fc.constantFrom('1', 'x'), fc.constant('')),
    origin: mostly(fc.constantFrom('', stack.origin), fc.constantFrom('https://evil.example', 'null')),
    fetchSite: mostly(fc.constantFrom('', 'same-origin', 'none'), fc.constantFrom('cross-site', 'same-site')),
  });

  let runs = 0;
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      runs += 1;
      const headers: Record<string, string> = {};
      if (r.cookie) headers.cookie = r.cookie;
      if (r.csrf) headers['TMI-BFF-CSRF'] = r.csrf;
      if (r.origin) headers.origin = r.origin;
      if (r.fetchSite) headers['sec-fetch-site'] = r.fetchSite;
      const hasBody = r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH';
      if (hasBody && r.contentType) headers['content-type'] = r.contentType;
      const res = await fetch(`${stack.origin}${r.path}${r.query ? `?${r.query}` : ''}`, {
        method: r.method,
        headers,
        ...(hasBody ? { body: r.body } : {}),
      });
      const text = await res.text();
      if (![200, 400, 405].includes(res.status)) throw new Error(`status ${res.status}: ${text}`);
      if (res.headers.get('content-type') !== 'application/json;charset=UTF-8')
        throw new Error(`content-type ${res.headers.get('content-type')}`);
      if (res.headers.get('cache-control') !== 'no-store') throw new Error('no Cache-Control: no-store');
      const body = JSON.parse(text) as Record<string, unknown>;
      if (res.status === 200) {
        if (r.path.endsWith('bff-token') && Object.keys(body).sort().join() !== 'access_token,expires_in,scope') {
          throw new Error(`token body ${text}`);
        }
      } else if (
        typeof body.error !== 'string' ||
        (body.error_description !== undefined && typeof body.error_description !== 'string')
      ) {
        throw new Error(`error body ${text}`);
      }
      if (text.includes('    at ')) throw new Error(`stack trace leaked: ${text}`);
      const outcome = `${res.status} ${body.error ?? 'ok'}`;
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    }),
    { numRuns: 1200, seed: 20261122 },
  );
  t.is(runs, 1200);
  t.log([...seen].map(([k, v]) => `${k}: ${v}`).join(', '));
  t.true((seen.get('200 ok') ?? 0) > 100, 'many requests got past every check');
  t.true([...seen.keys()].some((k) => k.startsWith('400 invalid_session')));
  // The session survived the storm.
  t.is((await alice.sessionInfo()).status, 200);
});
