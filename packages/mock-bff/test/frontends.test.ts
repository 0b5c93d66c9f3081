/**
 * Your own frontend behind the mock BFF, in both modes:
 * - proxy mode: a Vite dev server (the fixture `vite-app`), its hot module reload over the proxied
 *   WebSocket, and the proxy's own rules, against a small stand-in dev server;
 * - static mode: a built app with client-side routes and nested, hashed assets (`static-app`).
 * The browser tests run Debian's Chromium through playwright-core (never a downloaded browser), see
 * _browser.ts.
 */
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CSRF_HEADER, type MockBff, startMockBff } from '@tmi-bff/mock-bff';
import { configFromEnv } from '@tmi-bff/reference-backend';
import test, { type ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { createServer as createViteServer } from 'vite';
import { browserTest, newContext } from './_browser.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

async function openPage(t: ExecutionContext): Promise<Page> {
  const page = await (await newContext(t)).newPage();
  page.on('pageerror', (err) => t.log(`page error: ${err.message}`));
  return page;
}

/** A copy of a fixture in a temporary folder (edited by the test, removed after it), with the app's settings file. */
async function copyFixture(t: ExecutionContext, name: string, settingsDir: string, stocks: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tmi-bff-${name}-`));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp(join(FIXTURES, name), dir, { recursive: true });
  await mkdir(join(dir, settingsDir), { recursive: true });
  await writeFile(join(dir, settingsDir, 'config.json'), JSON.stringify({ stocks }));
  return dir;
}

async function mockBff(t: ExecutionContext, options: Parameters<typeof startMockBff>[0]): Promise<MockBff> {
  const bff = await startMockBff(options);
  t.teardown(() => bff.stop());
  return bff;
}

/** The app's settings until the stack runs: its APIs are on ephemeral ports, written in once known. */
const STOCKS_PLACEHOLDER = 'http://127.0.0.1:1/stocks';

/** The browser's getComputedStyle, without the DOM types this Node project does not load. */
type Css = { getComputedStyle(el: unknown): { color: string } };

const text = (page: Page, selector: string, hasText: string | RegExp) =>
  page.locator(selector, { hasText }).waitFor({ timeout: 15_000 });

/** The app's Sign in link, the AS's own login and consent pages as alice, back to the app. */
async function signInAsAlice(page: Page, bff: MockBff): Promise<void> {
  await page.click('#sign-in');
  await page.waitForURL(`${bff.issuer}/**`);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'alice');
  await page.click('form[action$="/login"] button[type=submit]:not([name])');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${bff.url}/**`);
}

/** The app's sign-out form, the AS's confirmation, back to the app. */
async function signOut(page: Page, bff: MockBff): Promise<void> {
  await page.click('#sign-out');
  await page.waitForURL(`${bff.issuer}/**`);
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(`${bff.url}/**`);
}

/** A small stand-in for a dev server: answers with what it received, or streams, or upgrades nothing. */
async function echoServer(t: ExecutionContext) {
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let release: () => void = () => {};
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/stream') {
      // The first chunk now, the rest only when the test says: the proxy must not buffer.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-dev-server': 'yes' });
      res.write('data: first\n\n');
      release = () => res.end('data: last\n\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/html',
      'content-security-policy': "script-src 'self' 'unsafe-eval'",
      'x-dev-server': 'yes',
    });
    res.end(`<!doctype html><title>dev</title><p>${req.url}</p>`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    release();
    server.closeAllConnections();
    server.close();
  });
  // The upstream end of a proxied WebSocket: the test answers the upgrade itself. An upgraded socket
  // is the server's no more: closing the server leaves it open, so the teardown destroys it.
  const upgraded: Socket[] = [];
  server.on('upgrade', (_req, socket: Socket) => upgraded.push(socket.on('error', () => {}).resume()));
  t.teardown(() => {
    for (const socket of upgraded) socket.destroy();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen, release: () => release() };
}

test('proxy mode: the app is forwarded with its own headers; the dev server sees its own Host and Origin, never the BFF cookies', async (t) => {
  const dev = await echoServer(t);
  const bff = await mockBff(t, { frontend: dev.url });
  const { cookieHeader } = await bff.signIn('alice');

  const res = await fetch(`${bff.url}/some/client/route?x=1`, {
    headers: { cookie: `${cookieHeader}; app-pref=dark`, origin: bff.url },
  });
  t.is(res.status, 200);
  t.is(res.headers.get('x-dev-server'), 'yes');
  // The app decides its own policy; only framing is refused on top, as on every page of the origin.
  t.is(res.headers.get('content-security-policy'), "script-src 'self' 'unsafe-eval'");
  t.is(res.headers.get('x-frame-options'), 'DENY');
  t.regex(await res.text(), /<p>\/some\/client\/route\?x=1<\/p>/);

  const forwarded = dev.seen.at(-1);
  t.is(forwarded?.headers.host, new URL(dev.url).host);
  t.is(forwarded?.headers.origin, dev.url);
  t.is(forwarded?.headers['x-forwarded-host'], new URL(bff.url).host);
  t.is(forwarded?.headers.cookie, 'app-pref=dark', 'the session cookie and its signature stay with the BFF');
});

test("proxy mode: the BFF's own routes are never forwarded, and a streamed answer arrives before it ends", async (t) => {
  const dev = await echoServer(t);
  const bff = await mockBff(t, { frontend: dev.url });

  const token = await fetch(`${bff.url}/.well-known/bff-token`, { headers: { [CSRF_HEADER]: '1' } });
  t.is(token.status, 400);
  t.is(((await token.json()) as { error: string }).error, 'invalid_session');
  for (const path of ['/auth/no-such-page', '/_mock/no-such-knob']) {
    const own = await fetch(`${bff.url}${path}`);
    t.is(own.status, 404, path);
    t.is(own.headers.get('x-dev-server'), null, path);
  }
  t.deepEqual(
    dev.seen.map((r) => r.url),
    [],
  );

  const stream = await fetch(`${bff.url}/stream`);
  t.is(stream.headers.get('content-type'), 'text/event-stream');
  const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  t.is(new TextDecoder().decode(first.value), 'data: first\n\n');
  dev.release();
  let rest = '';
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    rest += new TextDecoder().decode(chunk.value);
  }
  t.is(rest, 'data: last\n\n');
});

test('proxy mode: a browser that resets a proxied WebSocket (a reload dropping the HMR socket) leaves the BFF serving', async (t) => {
  const dev = await echoServer(t);
  const bff = await mockBff(t, { frontend: dev.url });
  const upstream = once(dev.server, 'upgrade') as Promise<[IncomingMessage, Socket]>;
  const browser = connect(Number(new URL(bff.url).port), '127.0.0.1');
  await once(browser, 'connect');
  browser.write(
    `GET /@vite/client HTTP/1.1\r\nHost: ${new URL(bff.url).host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  const [, devSocket] = await upstream;
  devSocket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  const [answer] = (await once(browser, 'data')) as [Buffer];
  t.regex(answer.toString(), /^HTTP\/1\.1 101 /, 'the upgrade went through the BFF');
  // A TCP reset, as a browser's when a page goes away: the BFF reads ECONNRESET on that socket.
  // The BFF ends the upstream half of the pair.
  const ended = once(devSocket, 'end');
  browser.resetAndDestroy();
  await ended;
  const page = await fetch(`${bff.url}/after-the-reset`);
  t.is(page.status, 200, 'the BFF (and the test process it runs in) is still up');
  t.regex(await page.text(), /after-the-reset/);
});

test('proxy mode: with the dev server down, a 502 page names the address and the setting, with no stack trace', async (t) => {
  const dev = await echoServer(t);
  const bff = await mockBff(t, { frontend: dev.url });
  const stopped = createServer();
  stopped.listen(0, '127.0.0.1');
  await once(stopped, 'listening');
  const down = `http://127.0.0.1:${(stopped.address() as AddressInfo).port}`;
  stopped.close();
  await once(stopped, 'close');
  const bffDown = await mockBff(t, { frontend: down });

  const res = await fetch(`${bffDown.url}/dashboard`, { headers: { accept: 'text/html' } });
  t.is(res.status, 502);
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  t.is(res.headers.get('cache-control'), 'no-store');
  t.is(res.headers.get('x-frame-options'), 'DENY');
  t.regex(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  const body = await res.text();
  t.true(body.includes(down), 'names the address');
  t.regex(body, /--frontend/);
  t.regex(body, /BFF_FRONTEND/);
  t.regex(body, /ECONNREFUSED/);
  t.notRegex(body, /at .*\.(ts|js):\d+/, 'no stack trace');
  // The other stack, whose dev server answers, is unaffected.
  t.is((await fetch(`${bff.url}/`)).status, 200);
});

test('static mode: hashed assets are immutable, index.html is never stored, client routes fall back to it, missing assets and escapes are 404', async (t) => {
  const dir = await copyFixture(t, 'static-app', '.', STOCKS_PLACEHOLDER);
  const bff = await mockBff(t, { static: dir });
  const html = { accept: 'text/html,application/xhtml+xml' };

  const index = await fetch(`${bff.url}/`);
  t.is(index.status, 200);
  t.is(index.headers.get('cache-control'), 'no-store');
  t.is(index.headers.get('content-security-policy'), "frame-ancestors 'none'");
  t.is(index.headers.get('x-frame-options'), 'DENY');
  t.is(index.headers.get('referrer-policy'), 'same-origin');
  const page = await index.text();

  const deep = await fetch(`${bff.url}/account/portfolio`, { headers: html });
  t.is(deep.status, 200);
  t.is(deep.headers.get('cache-control'), 'no-store');
  t.is(await deep.text(), page, 'a client-side route is the app');

  const js = await fetch(`${bff.url}/assets/js/app-7c1e9b42.js`);
  t.is(js.status, 200);
  t.regex(js.headers.get('content-type') ?? '', /javascript/);
  t.is(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const settings = await fetch(`${bff.url}/config.json`);
  t.is(settings.headers.get('cache-control'), 'no-cache', 'a file without a hash is revalidated');
  const nested = await fetch(`${bff.url}/assets/data/price-settings.json`);
  t.is(nested.status, 200);
  t.is(nested.headers.get('cache-control'), 'no-cache', 'a long word in a name is no content hash');
  t.deepEqual(await settings.json(), { stocks: STOCKS_PLACEHOLDER });
  const head = await fetch(`${bff.url}/account/portfolio`, { method: 'HEAD', headers: html });
  t.is(head.status, 200);

  for (const [path, headers] of [
    ['/assets/js/app-00000000.js', html],
    ['/assets/js/missing.js', {}],
    ['/no/such/route', {}],
    ['/..%2f..%2fpackage.json', html],
    ['/assets/..%2f..%2f..%2fpackage.json', html],
    ['/.hidden', html],
  ] as const) {
    const res = await fetch(`${bff.url}${path}`, { headers });
    t.is(res.status, 404, path);
    t.not(await res.text(), page, path);
  }
  const post = await fetch(`${bff.url}/account/portfolio`, { method: 'POST' });
  t.is(post.status, 404, 'only GET and HEAD reach the app');
});

browserTest(
  'a Vite dev server behind the mock BFF: sign-in, token, API call and sign-out in Chromium, and HMR over the proxied WebSocket',
  async (t) => {
    // The APIs' address is known once the stack runs; the app reads it from public/config.json.
    const dir = await copyFixture(t, 'vite-app', 'public', STOCKS_PLACEHOLDER);
    const vite = await createViteServer({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      server: { host: '127.0.0.1', port: 0, strictPort: true },
    });
    await vite.listen();
    t.teardown(() => vite.close());
    const devUrl = new URL(vite.resolvedUrls?.local[0] ?? 'http://vite.did.not.listen').origin;
    const bff = await mockBff(t, { frontend: devUrl });
    await writeFile(join(dir, 'public', 'config.json'), JSON.stringify({ stocks: `${bff.apiUrl}/stocks` }));

    const page = await openPage(t);
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    const first = await page.goto(`${bff.url}/`);
    t.is(first?.headers()['x-frame-options'], 'DENY');
    await text(page, '#who', 'Not signed in (invalid_session)');
    await text(page, '#message', 'Hello from Vite');

    await signInAsAlice(page, bff);
    t.is(new URL(page.url()).pathname, '/', 'back on the page the sign-in started from');
    await text(page, '#who', 'Signed in as alice');
    await page.click('#quotes');
    await text(page, '#result', '200: ACME GLOBX INIT');

    // HMR: the module changes on disk, the page shows it, and no navigation happened.
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    await page.evaluate(() => {
      (globalThis as { bootMark?: string }).bootMark = 'before the edit';
    });
    await writeFile(join(dir, 'src', 'message.js'), "export const message = 'Hello again, hot';\n");
    await text(page, '#message', 'Hello again, hot');
    t.is(navigations, 0, 'no reload');
    t.is(await page.evaluate(() => (globalThis as { bootMark?: string }).bootMark), 'before the edit');
    t.true(
      sockets.some((url) => url.startsWith(bff.url.replace('http:', 'ws:'))),
      `the HMR WebSocket went through the BFF: ${sockets.join(', ')}`,
    );
    await text(page, '#who', 'Signed in as alice');

    await signOut(page, bff);
    t.is(new URL(page.url()).pathname, '/');
    await text(page, '#who', 'Not signed in (invalid_session)');
  },
);

browserTest(
  'a built app with client-side routes in static mode: a deep link reloads, nested assets load, sign-in and sign-out return to the page',
  async (t) => {
    const dir = await copyFixture(t, 'static-app', '.', STOCKS_PLACEHOLDER);
    const bff = await mockBff(t, { static: dir });
    await writeFile(join(dir, 'config.json'), JSON.stringify({ stocks: `${bff.apiUrl}/stocks` }));
    const page = await openPage(t);

    // A deep link, loaded cold: the history fallback answers with the app, which routes by itself.
    await page.goto(`${bff.url}/account/portfolio`);
    await text(page, '#route', 'Portfolio');
    await text(page, '#who', 'Not signed in (invalid_session)');
    // The nested, hashed stylesheet applied.
    t.is(
      await page.locator('#route').evaluate((el) => (globalThis as unknown as Css).getComputedStyle(el).color),
      'rgb(0, 96, 160)',
    );

    await signInAsAlice(page, bff);
    t.is(new URL(page.url()).pathname, '/account/portfolio', 'sign-in returns to the page it started from');
    await text(page, '#who', 'Signed in as alice');
    await page.click('#quotes');
    await text(page, '#result', '200: ACME GLOBX INIT');

    await page.click('a[href="/"]');
    await text(page, '#route', 'Home');
    await page.goBack();
    await text(page, '#route', 'Portfolio');
    await page.reload();
    await text(page, '#route', 'Portfolio');
    await text(page, '#who', 'Signed in as alice');

    await signOut(page, bff);
    t.is(new URL(page.url()).pathname, '/account/portfolio', 'sign-out returns to the page it started from');
    await text(page, '#who', 'Not signed in (invalid_session)');
  },
);

test('RFC 9700 §4.11: sign-out returns to the page named by a same-origin Referer, through /auth/signed-out, and a crafted state lands on /', async (t) => {
  const bff = await mockBff(t, {});
  const signOutFrom = async (referer: string) => {
    const { cookieHeader } = await bff.signIn('alice');
    const res = await fetch(`${bff.url}/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookieHeader, origin: bff.url, referer },
    });
    t.is(res.status, 303);
    return new URL(res.headers.get('location') ?? '');
  };
  const fromPage = await signOutFrom(`${bff.url}/account/portfolio?tab=2`);
  t.is(fromPage.origin, bff.issuer);
  t.is(fromPage.searchParams.get('post_logout_redirect_uri'), `${bff.url}/auth/signed-out`);
  t.is(fromPage.searchParams.get('state'), '/account/portfolio?tab=2');
  const foreign = await signOutFrom('https://evil.example/account');
  t.is(foreign.searchParams.get('post_logout_redirect_uri'), `${bff.url}/`);
  t.is(foreign.searchParams.get('state'), null);

  for (const [state, expected] of [
    ['/account/portfolio?tab=2', '/account/portfolio?tab=2'],
    ['//evil.example', '/'],
    ['https://evil.example/', '/'],
    ['/\\evil.example', '/'],
    ['', '/'],
  ]) {
    const back = await fetch(`${bff.url}/auth/signed-out?state=${encodeURIComponent(state)}`, { redirect: 'manual' });
    t.is(back.status, 303, state);
    t.is(back.headers.get('location'), expected, state);
  }
});

test('BFF_FRONTEND, BFF_SPA_DIR and BFF_PORT: the frontend and the listen address come from the environment, apart from BFF_ORIGIN', (t) => {
  const required = { BFF_ISSUER: 'http://127.0.0.1:4000', BFF_CLIENT_ID: 'bff', BFF_CLIENT_SECRET: 's' };
  const from = (env: Record<string, string>) =>
    configFromEnv({ BFF_DATA_DIR: 'memory', ...required, ...env }, '/repo/reference-backend');

  const proxied = from({
    BFF_FRONTEND: 'http://localhost:5173',
    BFF_ORIGIN: 'http://localhost:5000',
    BFF_PORT: '3999',
  });
  t.deepEqual(proxied.config.frontend, { proxy: 'http://localhost:5173' });
  t.is(proxied.config.spa, undefined, 'no sample SPA in front of your app');
  t.is(proxied.config.origin, 'http://localhost:5000');
  t.is(proxied.port, 3999);
  t.is(proxied.host, '127.0.0.1');
  t.deepEqual(from({ BFF_SPA_DIR: '/srv/app/dist' }).config.frontend, { static: '/srv/app/dist' });
  t.is(from({}).config.frontend, undefined);
  t.is(from({}).port, 3000);
  t.is(from({ BFF_SPA_DIR: 'none' }).config.spa, undefined);

  for (const [env, message] of [
    [{ BFF_FRONTEND: 'http://localhost:5173', BFF_SPA_DIR: 'dist' }, /exclusive/],
    [{ BFF_FRONTEND: 'localhost:5173' }, /BFF_FRONTEND must be an http\(s\) URL/],
    [{ BFF_PORT: '70000' }, /BFF_PORT must be a port number/],
  ] as const) {
    t.throws(() => from(env), { instanceOf: TypeError, message }, JSON.stringify(env));
  }
});
