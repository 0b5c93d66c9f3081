import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { STYLE_NONCE_META } from '../src/spa.js';
import { spaFolder, startStack } from './_setup.js';

test('TMI-01, D1: the SPA is served from the backend origin; its page carries the endpoint meta tags and its settings, under a CSP that allows scripts from this origin only', async (t) => {
  const { dir, docsDir } = await spaFolder(t);
  const settings = { resources: [], note: '</script><script>alert(1)</script>' };
  const stack = await startStack(t, { backend: { spa: { dir, docsDir, settings } } });
  const res = await stack.browser().fetch('/');
  t.is(res.status, 200);
  t.is(res.headers.get('cache-control'), 'no-store');
  t.is(res.headers.get('x-content-type-options'), 'nosniff');
  t.is(res.headers.get('referrer-policy'), 'same-origin');
  const csp = res.headers.get('content-security-policy') ?? '';
  t.regex(csp, /^default-src 'none'; script-src 'self'; style-src 'self'/);
  t.regex(csp, /connect-src 'self' http:\/\/localhost:4001(;|$)/, 'the APIs the app calls with its tokens');
  t.regex(csp, new RegExp(`form-action 'self' ${stack.as.issuer}(;|$)`), 'sign-out ends at the AS');
  t.regex(csp, /frame-ancestors 'none'/);
  const html = await res.text();
  t.regex(html, /<meta name="tmi-bff-token-endpoint" content="\/\.well-known\/bff-token">/);
  t.regex(html, /<meta name="tmi-bff-sessioninfo-endpoint" content="\/\.well-known\/bff-sessioninfo">/);
  const json = /<script type="application\/json" id="tmi-bff-settings">(.*?)<\/script>/.exec(html)?.[1] ?? '';
  t.notRegex(json, /<\/?script/i, 'a settings value cannot close the element');
  t.deepEqual(JSON.parse(json), settings);
});

test('the SPA assets are served by file name only; nothing outside assets/ is reachable', async (t) => {
  const { dir } = await spaFolder(t);
  const stack = await startStack(t, { backend: { spa: { dir } } });
  const user = stack.browser();
  const js = await user.fetch('/assets/app.js');
  t.is(js.status, 200);
  t.regex(js.headers.get('content-type') ?? '', /javascript/);
  t.is(js.headers.get('x-content-type-options'), 'nosniff');
  t.is(await js.text(), 'console.log("app");');
  for (const path of ['/assets/missing.js', '/assets/..%2Findex.html', '/assets/%2e%2e%2f%2e%2e%2fsecret.md']) {
    t.is((await user.fetch(path)).status, 404, path);
  }
  t.is((await user.fetch('/docs/walkthrough/01-login.md')).status, 404, 'no docs folder configured, no docs');
});

test('the docs the SPA links to are served as plain text, Markdown only, from the docs folder only', async (t) => {
  const { dir, docsDir } = await spaFolder(t);
  const stack = await startStack(t, { backend: { spa: { dir, docsDir } } });
  const user = stack.browser();
  const doc = await user.fetch('/docs/walkthrough/01-login.md');
  t.is(doc.status, 200);
  t.is(doc.headers.get('content-type'), 'text/plain; charset=utf-8');
  t.is(await doc.text(), '# Sign-in\n');
  for (const path of [
    '/docs/notes.txt',
    '/docs/..%2Fsecret.md',
    '/docs/%2e%2e/secret.md',
    '/docs/walkthrough/none.md',
  ]) {
    t.is((await user.fetch(path)).status, 404, path);
  }
});

test('without a build the home page says how to build the SPA, and still carries the meta tags (D1)', async (t) => {
  const stack = await startStack(t, { backend: { spa: { dir: join(tmpdir(), 'tmi-bff-no-such-build') } } });
  const res = await stack.browser().fetch('/');
  t.is(res.status, 200);
  const html = await res.text();
  t.regex(html, /The sample SPA is not built yet\. Run <code>npm run dev<\/code>/);
  t.regex(html, /<meta name="tmi-bff-token-endpoint"/);
});

test("the SPA page allows the docs view's diagram styles by a nonce of its own, fresh on every answer; scripts stay 'self' only", async (t) => {
  const { dir, docsDir } = await spaFolder(t);
  const stack = await startStack(t, { backend: { spa: { dir, docsDir } } });
  const nonces: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await stack.browser().fetch('/');
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /style-src-elem 'self' 'nonce-([A-Za-z0-9+/=]{24})'/.exec(csp)?.[1] ?? '';
    t.truthy(nonce, csp);
    t.regex(csp, /style-src-attr 'unsafe-inline'/);
    t.regex(csp, /script-src 'self';/);
    t.notRegex(csp, /script-src[^;]*(nonce|unsafe)/);
    t.true((await res.text()).includes(`<meta name="${STYLE_NONCE_META}" content="${nonce}">`));
    nonces.push(nonce);
  }
  t.not(nonces[0], nonces[1]);
});

test('a chapter opened as a page (Sec-Fetch-Dest: document) is sent to the SPA, which renders it; the app’s own fetch still gets the text', async (t) => {
  const { dir, docsDir } = await spaFolder(t);
  const stack = await startStack(t, { backend: { spa: { dir, docsDir } } });
  const user = stack.browser();
  const page = await user.fetch('/docs/walkthrough/01-login.md', { headers: { 'Sec-Fetch-Dest': 'document' } });
  t.is(page.status, 303);
  t.is(page.headers.get('location'), '/?doc=walkthrough%2F01-login.md');
  t.regex(page.headers.get('vary') ?? '', /Sec-Fetch-Dest/i);
  const text = await user.fetch('/docs/walkthrough/01-login.md', { headers: { 'Sec-Fetch-Dest': 'empty' } });
  t.is(text.status, 200);
  t.is(await text.text(), '# Sign-in\n');
});
