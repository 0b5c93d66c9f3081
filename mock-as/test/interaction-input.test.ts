/**
 * Bad input at the login and consent pages: oversized, malformed or wrongly typed forms, unknown or
 * expired interactions, missing cookies and wrong methods. Each gets a 4xx HTML page that names the
 * problem and shows no internals, never a 500.
 */
import test, { type ExecutionContext } from 'ava';
import { type CookieJar, fetchWithJar } from '../src/testing/index.js';
import { atLogin, FORM, leaks, pageSecurityProblems, startAs } from './_setup.js';

/** Asserts an AS error page: status, OAuth error code and description, headers, no internals. */
async function isErrorPage(t: ExecutionContext, res: Response, status: number, description: string, what = '') {
  const html = await res.text();
  t.is(res.status, status, what);
  t.is(res.headers.get('cache-control'), 'no-store', what);
  t.regex(html, /<h1>Something went wrong<\/h1>/, what);
  t.true(html.includes(`<code>invalid_request</code>: ${description}</p>`), `${what}: ${html}`);
  t.deepEqual(pageSecurityProblems(res.headers, html), [], what);
  t.deepEqual(leaks(html), [], what);
}

/** POSTs `body` to the interaction's login form with its cookie. */
function postLogin(jar: CookieJar, at: URL, body: string | URLSearchParams, headers: Record<string, string> = FORM) {
  return fetchWithJar(jar, `${at.href}/login`, { method: 'POST', headers, body });
}

test('a login form over the size limit (1 MB) gets 413 and an HTML error page, not a 500; the interaction still works', async (t) => {
  const { jar, at } = await atLogin(t);
  const res = await postLogin(jar, at, new URLSearchParams({ username: 'a'.repeat(1_000_000), password: 'x' }));
  await isErrorPage(t, res, 413, 'the form is too large');

  const ok = await postLogin(jar, at, new URLSearchParams({ persona: 'alice' }));
  t.is(ok.status, 303);
});

test('a form in another media type or charset gets 415 and an HTML error page', async (t) => {
  const { jar, at } = await atLogin(t);
  const cases: Array<[string, string, Record<string, string>]> = [
    ['JSON', '{"persona":"alice"}', { 'content-type': 'application/json' }],
    [
      'multipart',
      '--x\r\nContent-Disposition: form-data; name="persona"\r\n\r\nalice\r\n--x--\r\n',
      { 'content-type': 'multipart/form-data; boundary=x' },
    ],
    ['text', 'persona=alice', { 'content-type': 'text/plain' }],
    ['no content type', 'persona=alice', {}],
    ['an unknown charset', 'persona=alice', { 'content-type': 'application/x-www-form-urlencoded; charset=foo' }],
    ['Latin-1', 'persona=alice', { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' }],
  ];
  for (const [what, body, headers] of cases) {
    const res = await postLogin(jar, at, body, headers);
    await isErrorPage(t, res, 415, 'the form must be sent as application/x-www-form-urlencoded, in UTF-8', what);
  }
  const utf8 = await postLogin(jar, at, 'persona=alice', {
    'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
  });
  t.is(utf8.status, 303, 'UTF-8 named explicitly is fine');
});

test('a login field sent twice, as an array or nested gets 400 invalid_request', async (t) => {
  const { jar, at } = await atLogin(t);
  for (const body of [
    'username=alice&username=bob&password=alice',
    'username[]=alice&password=alice',
    'username[0]=alice&password=alice',
    'username[a][b]=alice&password=alice',
    'persona=alice&persona=bob',
  ]) {
    await isErrorPage(t, await postLogin(jar, at, body), 400, 'each form field must be sent once, as text', body);
  }
});

test('bad percent-encoding is read as text: the sign-in fails with 401 on the login page', async (t) => {
  const { jar, at } = await atLogin(t);
  const res = await postLogin(jar, at, 'username=%zz%E0%A4%A&password=%');
  const html = await res.text();
  t.is(res.status, 401);
  t.regex(html, /<h1>Sign in<\/h1>/);
  t.regex(html, /role="alert" id="login-error">Wrong username or password/);
  t.deepEqual(pageSecurityProblems(res.headers, html), []);
});

test('an unknown, expired or cookie-less interaction gets 400 invalid_request, on GET and POST', async (t) => {
  const as = await startAs(t);
  const { jar, at, uid } = await atLogin(t, as);
  const cookie = jar.header(at);
  const other = `${as.issuer}/interaction/no-such-interaction`;
  const persona = new URLSearchParams({ persona: 'alice' });

  // The interaction cookie is scoped to its own path, so a browser sends none to another uid.
  await isErrorPage(t, await fetch(other), 400, 'interaction session id cookie not found', 'unknown uid');
  await isErrorPage(
    t,
    await fetch(`${other}/login`, { method: 'POST', headers: FORM, body: persona }),
    400,
    'interaction session id cookie not found',
    'unknown uid (POST)',
  );
  // Sent there anyway, the cookie names another interaction.
  await isErrorPage(
    t,
    await fetch(other, { headers: { cookie } }),
    400,
    'interaction session mismatch',
    'cookie of another uid',
  );
  await isErrorPage(t, await fetch(at), 400, 'interaction session id cookie not found', 'no cookie');
  await isErrorPage(
    t,
    await fetch(`${at.href}/login`, { method: 'POST', headers: FORM, body: persona }),
    400,
    'interaction session id cookie not found',
    'no cookie (POST)',
  );

  // Expired: oidc-provider finds no live interaction behind the cookie.
  const interactions = as.store.adapter('Interaction');
  const payload = (await interactions.find(uid)) ?? {};
  await interactions.upsert(uid, { ...payload, exp: Math.floor(Date.now() / 1000) - 3600 }, 60);
  await isErrorPage(t, await fetchWithJar(jar, at), 400, 'interaction session not found', 'expired');
  await isErrorPage(t, await postLogin(jar, at, persona), 400, 'interaction session not found', 'expired (POST)');
});

test('the wrong method on an interaction route gets 405 with Allow, an unknown path 404, both as HTML pages', async (t) => {
  const { jar, at } = await atLogin(t);
  const cases: Array<[string, string, string]> = [
    ['GET', `${at.href}/login`, 'POST'],
    ['GET', `${at.href}/consent`, 'POST'],
    ['PUT', `${at.href}/abort`, 'POST'],
    ['POST', at.href, 'HEAD, GET'],
    ['DELETE', at.href, 'HEAD, GET'],
    ['PROPFIND', `${at.href}/login`, 'POST'],
  ];
  for (const [method, url, allow] of cases) {
    const res = await fetchWithJar(jar, url, { method, ...(method === 'GET' ? {} : { headers: FORM, body: '' }) });
    t.is(res.headers.get('allow'), allow, `${method} ${url}`);
    await isErrorPage(t, res, 405, 'this page does not accept that method', `${method} ${url}`);
  }
  for (const path of ['/login/extra', '/nothing']) {
    await isErrorPage(t, await fetchWithJar(jar, `${at.href}${path}`), 404, 'there is no such page', path);
  }
});
