/**
 * Property-based fuzzing (fast-check) of the two TMI-BFF endpoints, each through the whole stack in
 * process (the real mock AS, the backend) over kept-alive loopback connections: the method, the
 * query, the body, the headers (Sec-Fetch-*, Origin, the CSRF header, Accept, Content-Type and
 * others) and the cookies (valid, tampered, random) vary, weighted towards a valid context so that
 * most requests reach the endpoint's own checks. Whatever comes in, the answer is a 200, 400 or 405,
 * never a 5xx, always JSON (`application/json;charset=UTF-8`) with the no-store and nosniff headers
 * and no stack trace (nor one inside a JSON string), and, when not a 200, the D6 error shape
 * `{ error, error_description? }` in RFC 6749 §5.2's character set.
 *
 * Settings: RELIABILITY_FUZZ_RUNS (default 10000 per endpoint) and RELIABILITY_FUZZ_SEED (default
 * 20261201); a failure names the seed and the shrunk request, to replay it.
 */
import { CSRF_HEADER } from '@tmi-bff/koa';
import { fuzzRun, fuzzText, mostly, percentEncode } from '@tmi-bff/mock-as/testing/fuzz';
import { recordResult } from '@tmi-bff/store/testing';
import test from 'ava';
import fc from 'fast-check';
import { SESSION_COOKIE as COOKIE, SERVICE_A, STOCKS, startStack } from '../_setup.js';
import { KeepAliveClient, type Outgoing, STACK_FRAME } from './_hostile.js';

const RUNS = Number(process.env.RELIABILITY_FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.RELIABILITY_FUZZ_SEED ?? 20261201);
/** RFC 6749 §5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E only. */
const OAUTH_TEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;
const BODY_KEYS = new Set(['error', 'error_description', 'remediation']);

const ENDPOINTS = [
  { name: 'bff-token', path: '/.well-known/bff-token', methods: ['GET', 'POST'] },
  { name: 'bff-sessioninfo', path: '/.well-known/bff-sessioninfo', methods: ['GET'] },
] as const;

/** What would end or break the request line: controls, space, '#', non-ASCII. */
const REQUEST_LINE_UNSAFE = /[^\x21\x22\x24-\x7e]/g;
const { printable, anyText } = fuzzText({
  maxLength: 40,
  binaryMaxLength: 60,
  tricky: ['%', '%zz', '%00', '%E0%A4%A', '%C0%AF', '+', '&&', '==', '[]', '__proto__=1', ''],
});
/** What Node's HTTP client lets through in a header value: tab, visible ASCII, obs-text. */
const headerText = fc.oneof(
  printable,
  fc.string({
    unit: fc
      .oneof(
        fc.constant(0x09),
        fc.integer({ min: 0x20, max: 0xfe }).filter((c) => c !== 0x7f),
      )
      .map((c) => String.fromCharCode(c)),
    maxLength: 40,
  }),
);

for (const endpoint of ENDPOINTS) {
  test(`hostile input: ${RUNS.toLocaleString('en')} fuzzed requests to ${endpoint.name} (query, body, headers, cookies) never get a 5xx, always a D6 JSON error or a 200 with the no-store headers`, async (t) => {
    t.timeout(120_000 + RUNS * 20);
    const stack = await startStack(t);
    stack.server.keepAliveTimeout = 60_000;
    const alice = stack.browser();
    await alice.signIn({ persona: 'alice' });
    const bob = stack.browser();
    await bob.signIn({ persona: 'bob' });
    const own = alice.sessionCookie();
    const other = bob.sessionCookie();
    const client = new KeepAliveClient(stack.origin);
    t.teardown(() => client.close());
    t.log(`seed ${SEED}, ${RUNS} runs (RELIABILITY_FUZZ_SEED, RELIABILITY_FUZZ_RUNS)`);

    const name = fc.oneof(
      fc.constantFrom('resource', 'scope', 'fresh', 'client_id', 'resource[]', 'Scope', 'refresh_token'),
      printable,
    );
    const value = fc.oneof(
      fc.constantFrom(
        STOCKS,
        SERVICE_A,
        'stocks:read',
        'stocks:read stocks:buy',
        'a b c',
        '1',
        'true',
        'javascript:alert(1)',
        `${STOCKS}#x`,
      ),
      anyText,
    );
    const pairs = fc.array(fc.tuple(name, value), { maxLength: 6 });
    const encoded = pairs.map((list) => list.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&'));
    // Raw: sent as generated, only what would end the request line escaped.
    const rawQuery = fc
      .array(fc.tuple(name, value), { maxLength: 6 })
      .map((list) => list.map(([k, v]) => percentEncode(`${k}=${v}`, REQUEST_LINE_UNSAFE)).join('&'));
    const query = fc.oneof(encoded, rawQuery);
    // A form body as generated, unescaped: broken escapes, controls and non-ASCII in its values.
    const rawForm = pairs.map((list) => list.map(([k, v]) => `${k}=${v}`).join('&'));
    const cookie = mostly(
      fc.constant(own.header),
      fc.oneof(
        fc.constant(''),
        // Tampered: another id under this signature, this id under another signature, or unsigned.
        printable.map((v) => `${COOKIE}=${v}; ${COOKIE}.sig=${own.sig}`),
        printable.map((v) => `${COOKIE}=${own.key}; ${COOKIE}.sig=${v}`),
        fc.constant(`${COOKIE}=${own.key}; ${COOKIE}.sig=${other.sig}`),
        fc.constant(`${COOKIE}=${own.key}`),
        fc.constant(`${other.header}; ${own.header}`),
        fc.constant(`${own.header}; ${COOKIE}=x`),
        headerText,
      ),
    );
    const header = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined, freq: 3 });
    const request = fc.record({
      method: mostly(
        fc.constantFrom(...endpoint.methods),
        fc.constantFrom('POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'get'),
      ),
      query,
      body: fc.oneof(encoded, rawForm, anyText, fc.constantFrom('{"resource":"x"}', '[]', 'null')),
      contentType: header(
        mostly(
          fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8'),
          fc.oneof(
            fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', 'a/b;;;=', ''),
            headerText,
          ),
        ),
      ),
      cookie,
      csrf: mostly(fc.constantFrom('1', 'x'), fc.oneof(fc.constant(''), headerText)),
      origin: header(
        mostly(fc.constant(stack.origin), fc.oneof(fc.constantFrom('https://evil.example', 'null'), headerText)),
      ),
      fetchSite: header(
        mostly(
          fc.constantFrom('same-origin', 'none'),
          fc.oneof(fc.constantFrom('cross-site', 'same-site'), headerText),
        ),
      ),
      fetchMode: header(fc.oneof(fc.constantFrom('cors', 'no-cors', 'navigate', 'same-origin'), headerText)),
      fetchDest: header(fc.oneof(fc.constantFrom('empty', 'document', 'iframe', 'script'), headerText)),
      accept: header(fc.oneof(fc.constantFrom('application/json', 'text/html', '*/*', ''), headerText)),
      extra: fc.array(
        fc.tuple(
          fc
            .stringMatching(/^[a-z][a-z0-9-]{0,15}$/)
            .filter(
              (h) => !['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade'].includes(h),
            ),
          headerText,
        ),
        { maxLength: 3 },
      ),
    });

    const seen = new Map<string, number>();
    const { runs, ms } = await fuzzRun(request, { numRuns: RUNS, seed: SEED }, async (r) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of r.extra) headers[k] = v;
      if (r.cookie) headers.cookie = r.cookie;
      if (r.csrf) headers[CSRF_HEADER] = r.csrf;
      if (r.origin !== undefined) headers.origin = r.origin;
      if (r.fetchSite !== undefined) headers['sec-fetch-site'] = r.fetchSite;
      if (r.fetchMode !== undefined) headers['sec-fetch-mode'] = r.fetchMode;
      if (r.fetchDest !== undefined) headers['sec-fetch-dest'] = r.fetchDest;
      if (r.accept !== undefined) headers.accept = r.accept;
      const hasBody = !['GET', 'HEAD'].includes(r.method);
      if (hasBody && r.contentType !== undefined) headers['content-type'] = r.contentType;
      const out: Outgoing = {
        method: r.method,
        path: `${endpoint.path}${r.query ? `?${r.query}` : ''}`,
        headers,
        ...(hasBody ? { body: r.body } : {}),
      };
      const res = await client.send(out);
      const fail = (why: string): never => {
        throw new Error(`${why}: ${out.method} ${out.path} → ${res.status}\n${res.body.slice(0, 500)}`);
      };
      if (res.status >= 500) fail('a 5xx');
      if (![200, 400, 405].includes(res.status)) fail('a status other than 200, 400 or 405');
      if (res.headers['content-type'] !== 'application/json;charset=UTF-8')
        fail(`content-type ${res.headers['content-type']}`);
      if (res.headers['cache-control'] !== 'no-store') fail('no Cache-Control: no-store');
      if (res.headers.pragma !== 'no-cache') fail('no Pragma: no-cache');
      if (res.headers['x-content-type-options'] !== 'nosniff') fail('no X-Content-Type-Options: nosniff');
      // A stack trace inside a JSON string has its line breaks escaped, as \n.
      if (STACK_FRAME.test(res.body.replaceAll('\\n', '\n'))) fail('a stack trace');
      let outcome = `${res.status}`;
      if (r.method !== 'HEAD') {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(res.body);
        } catch {
          return fail('not JSON');
        }
        if (res.status === 200) {
          const keys = Object.keys(body).sort().join();
          if (endpoint.name === 'bff-token' && keys !== 'access_token,expires_in,scope') fail('token body');
          if (endpoint.name === 'bff-sessioninfo' && typeof body.sub !== 'string') fail('sessioninfo body');
          outcome += ' ok';
        } else {
          // D6, RFC 6749 §5.2: { error, error_description? } in the OAuth character set.
          if (typeof body.error !== 'string' || !/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/.test(body.error)) fail('error code');
          const description = body.error_description;
          if (description !== undefined && (typeof description !== 'string' || !OAUTH_TEXT.test(description)))
            fail('error_description outside RFC 6749 §5.2');
          if (Object.keys(body).some((key) => !BODY_KEYS.has(key))) fail('error body keys');
          outcome += ` ${body.error}`;
        }
      }
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    });
    const outcomes = [...seen].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}×${v}`);
    t.log(`${ms} ms; ${outcomes.join(', ')}`);
    t.is(runs, RUNS);
    t.true((seen.get('200 ok') ?? 0) > RUNS / 10, 'many requests got past every check');
    t.true([...seen.keys()].some((k) => k.startsWith('400 invalid_session')));
    t.true([...seen.keys()].some((k) => k.startsWith('405')));
    // The sessions survived the storm.
    t.is((await alice.sessionInfo()).status, 200);
    t.is((await bob.sessionInfo()).status, 200);
    const errors = [...seen].filter(([k]) => !k.startsWith('200')).reduce((n, [, v]) => n + v, 0);
    recordResult(t, {
      area: 'Hostile input',
      tried: `${endpoint.name}: method, query, body, headers (Sec-Fetch-*, Origin, CSRF, Accept, Content-Type) and cookies (valid, tampered, random), fuzzed with fast-check`,
      cases: runs,
      figures: `0 5xx, 0 non-JSON; ${seen.get('200 ok') ?? 0} 200, ${errors} D6 errors; ${Math.round((runs / ms) * 1000)} requests/s; seed ${SEED}`,
    });
  });
}

test('hostile input: RFC 6749 §5.2: a quote, a control or a non-ASCII character the request sent comes back in error_description within its character set', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const client = new KeepAliveClient(stack.origin);
  t.teardown(() => client.close());
  const cookie = alice.sessionCookie().header;
  const descriptions: string[] = [];
  for (const [path, headers] of [
    ['/.well-known/bff-sessioninfo', { [CSRF_HEADER]: '1', origin: 'https://"evil"\\\tÿ.example' }],
    ['/.well-known/bff-token', { [CSRF_HEADER]: '1', 'sec-fetch-site': 'cross"site\tÿ' }],
    [`/.well-known/bff-token?resource=${encodeURIComponent('urn:"x"\\\0\n\u2028é')}`, { [CSRF_HEADER]: '1', cookie }],
  ] as const) {
    const res = await client.send({ method: 'GET', path, headers });
    t.is(res.status, 400);
    const body = JSON.parse(res.body) as { error: string; error_description: string };
    t.regex(body.error_description, OAUTH_TEXT, body.error_description);
    descriptions.push(body.error_description);
  }
  t.deepEqual(descriptions, [
    "requests from origin https://'evil'???.example are refused (CSRF defence)",
    "a cross'site?? request is refused (CSRF defence)",
    "the sign-in did not ask for urn:'x'?????: the user must consent to it first",
  ]);
});
