/**
 * Every HTML answer of the backend forbids framing and sniffing, and leaks no referrer; a
 * misconfigured https origin is explained, not a bare 500.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { createBackend } from '../src/index.js';
import { transportWarning } from '../src/transport.js';
import { STOCKS, startStack } from './_setup.js';

function assertFramingForbidden(t: ExecutionContext, res: Response, what: string, referrer = 'no-referrer') {
  const csp = res.headers.get('content-security-policy') ?? '';
  t.true(csp.includes("frame-ancestors 'none'"), `${what}: frame-ancestors in ${csp}`);
  t.true(csp.includes("default-src 'none'"), `${what}: default-src in ${csp}`);
  t.false(csp.includes('unsafe-inline'), what);
  t.is(res.headers.get('x-frame-options'), 'DENY', what);
  t.is(res.headers.get('x-content-type-options'), 'nosniff', what);
  t.is(res.headers.get('referrer-policy'), referrer, what);
}

test('every HTML page of the backend forbids framing, with nosniff and no-referrer: error pages, redirects, home', async (t) => {
  const stack = await startStack(t);
  const user = stack.browser();

  const expired = await user.fetch('/auth/callback?code=x&state=y');
  t.is(expired.status, 400);
  t.regex(expired.headers.get('content-type') ?? '', /^text\/html/);
  assertFramingForbidden(t, expired, 'the expired-callback page');
  // The page's one inline style is allowed by its hash, and nothing else inline is.
  const style = /<style>([^<]*)<\/style>/.exec(await expired.text())?.[1] ?? '';
  const hash = createHash('sha256').update(style).digest('base64');
  t.true(expired.headers.get('content-security-policy')?.includes(`style-src 'sha256-${hash}'`));

  const refused = await user.fetch('/auth/logout', { method: 'POST', headers: { origin: 'https://evil.example' } });
  t.is(refused.status, 403);
  assertFramingForbidden(t, refused, 'the refused sign-out page');

  const redirect = await user.fetch('/auth/login', { headers: { accept: 'text/html' } });
  t.is(redirect.status, 303);
  assertFramingForbidden(t, redirect, 'the body of a redirect');

  const home = await user.fetch('/');
  t.is(home.status, 200);
  // The home page has a sign-out form: same-origin keeps its Origin header (no-referrer would send "null").
  assertFramingForbidden(t, home, 'the home page', 'same-origin');
  // Its sign-out form ends at the AS: Chromium checks form-action on the form's redirects too.
  t.true(
    home.headers.get('content-security-policy')?.includes(`form-action 'self' ${new URL(stack.as.issuer).origin}`),
  );

  // JSON answers are not pages, but are not sniffed either.
  const json = await user.token({ resource: STOCKS });
  t.is(json.headers.get('x-content-type-options'), 'nosniff');
});

test('the error page carries no stack trace and no internals when a step fails unexpectedly', async (t) => {
  const logs: string[] = [];
  const stack = await startStack(t, { backend: { log: (line) => logs.push(line) } });
  const user = stack.browser();
  // A login transaction that cannot be redeemed: the AS is gone between start and callback.
  const start = await user.fetch('/auth/login');
  const { signIn } = await import('@tmi-bff/mock-as/testing');
  const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar: user.jar });
  await stack.as.close();
  const page = await user.fetch(callback.pathname + callback.search);
  t.is(page.status, 400);
  const html = await page.text();
  t.regex(html, /Sign-in did not complete/);
  t.regex(html, /could not be reached/);
  t.notRegex(html, /at .*\.(ts|js):\d+|node_modules|Error:/);
  t.true(logs.some((l) => l.startsWith('auth.callback.error')));
});

test('TMI-BFF-01 §1.2 (TMI-02): an https BFF_ORIGIN reached over plain http gets a page naming BFF_TRUST_PROXY, not a 500; a warning at start', async (t) => {
  const logs: string[] = [];
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const backend = await createBackend({
    origin: 'https://app.example',
    issuer: 'http://127.0.0.1:9',
    client: { id: 'bff', secret: 's' },
    login: { scope: 'openid', resources: [STOCKS] },
    tokens: { strategy: 'refresh', expiryMarginSeconds: 30, asTimeoutMs: 1000 },
    sessionMaxAgeMs: 60_000,
    log: (line) => logs.push(line),
  });
  server.on('request', backend.app.callback());
  t.teardown(async () => {
    server.close();
    await backend.close();
  });
  t.true(logs.some((l) => /^warning: BFF_ORIGIN is https:\/\/app\.example.*BFF_TRUST_PROXY is not set/.test(l)));

  for (const path of ['/auth/login', '/auth/callback?code=x&state=y', '/']) {
    const res = await fetch(base + path, { redirect: 'manual' });
    t.is(res.status, 400, path);
    const html = await res.text();
    t.regex(html, /This app is served over https only/, path);
    t.regex(html, /BFF_TRUST_PROXY=1/, path);
    assertFramingForbidden(t, res, path);
  }
  const endpoint = await fetch(`${base}/.well-known/bff-sessioninfo`, { headers: { 'TMI-BFF-CSRF': '1' } });
  t.is(endpoint.status, 400);
  t.deepEqual(await endpoint.json(), {
    error: 'invalid_session',
    error_description: 'this endpoint is served over https only',
  });
  // Behind a proxy that says https, the same backend works.
  const proxied = await fetch(`${base}/`, { headers: { 'x-forwarded-proto': 'https' } });
  t.is(proxied.status, 400, 'without BFF_TRUST_PROXY the header is not believed');
  t.is(transportWarning({ origin: 'https://app.example', trustProxy: true }), undefined);
  t.is(transportWarning({ origin: 'http://localhost:3000' }), undefined);
});
