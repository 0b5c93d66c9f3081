/**
 * Every HTML page of the AS, requested through the real AS: each cannot be framed, runs under a strict
 * Content-Security-Policy, and tells the browser not to sniff types or send referrers.
 */
import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { CookieJar } from '../src/testing/index.js';
import {
  atLogin,
  authorize,
  clientFor,
  FORM,
  pageAt,
  pageSecurityProblems,
  parseCsp,
  REDIRECT_URI,
  startAs,
} from './_setup.js';

/** alice's ID token and AS session (in `jar`), for the logout pages. */
async function signedIn(t: ExecutionContext) {
  const as = await startAs(t);
  const config = await clientFor(as);
  const jar = new CookieJar();
  const { id_token = '' } = await authorize(config, { persona: 'alice', jar });
  return { as, config, jar, idToken: id_token };
}

test('the login page cannot be framed and runs under a strict CSP that allows its own inline style only', async (t) => {
  const { res, html } = await atLogin(t);
  t.is(res.status, 200);
  t.regex(html, /<h1>Sign in<\/h1>/);
  t.deepEqual(pageSecurityProblems(res.headers, html), []);
  t.is(res.headers.get('cache-control'), 'no-store');
});

test('the consent page cannot be framed by any origin, a same-site port included', async (t) => {
  const { jar, at, html: login } = await atLogin(t);
  t.regex(login, /<h1>Sign in<\/h1>/);
  const { res, html } = await pageAt(jar, new URL(`${at.pathname}/login`, at), {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ persona: 'alice' }),
  });
  t.is(res.status, 200);
  t.regex(html, /<h1>Allow access\?<\/h1>/);
  t.deepEqual(pageSecurityProblems(res.headers, html), []);
  t.deepEqual(parseCsp(res.headers.get('content-security-policy')).get('frame-ancestors'), ["'none'"]);
  t.is(res.headers.get('x-frame-options'), 'DENY');
});

test('the RP-initiated logout confirmation and the signed-out page carry the protective headers', async (t) => {
  const { as, config, jar, idToken } = await signedIn(t);
  const confirm = await pageAt(jar, oidc.buildEndSessionUrl(config, { id_token_hint: idToken }));
  t.is(confirm.res.status, 200);
  t.regex(confirm.html, /<h1>Sign out\?<\/h1>/);
  t.deepEqual(pageSecurityProblems(confirm.res.headers, confirm.html), []);

  const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(confirm.html)?.[1] ?? '';
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)?.[1] ?? '';
  const done = await pageAt(jar, new URL(action, as.issuer), {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ xsrf, logout: 'yes' }),
  });
  t.is(done.res.status, 200);
  t.is(done.at.pathname, '/session/end/success');
  t.regex(done.html, /<h1>Signed out<\/h1>/);
  t.deepEqual(pageSecurityProblems(done.res.headers, done.html), []);
});

test('oidc-provider error pages (renderError) carry the protective headers', async (t) => {
  const as = await startAs(t);
  for (const path of ['/auth?client_id=no-such-client', '/session/end?id_token_hint=not-a-jwt']) {
    const res = await fetch(`${as.issuer}${path}`, { headers: { accept: 'text/html' } });
    const html = await res.text();
    t.is(res.status, 400, path);
    t.regex(html, /<h1>Something went wrong<\/h1>[\s\S]*<code>invalid_(client|request)<\/code>/, path);
    t.deepEqual(pageSecurityProblems(res.headers, html), [], path);
  }
});

test('the interaction error page carries the protective headers', async (t) => {
  const as = await startAs(t);
  const res = await fetch(`${as.issuer}/interaction/no-such-interaction`);
  const html = await res.text();
  t.is(res.status, 400);
  t.regex(html, /<code>invalid_request<\/code>/);
  t.deepEqual(pageSecurityProblems(res.headers, html), []);
});

test('oidc-provider’s self-submitting forms (form_post response, logout without an AS session) allow exactly their own inline script', async (t) => {
  const { as, config, jar } = await signedIn(t);
  const formPost = await pageAt(
    jar,
    oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      response_mode: 'form_post',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    }),
  );
  t.is(formPost.res.status, 200);
  t.regex(formPost.html, new RegExp(`<form method="post" action="${REDIRECT_URI}">`));
  t.regex(formPost.html, /<script>/);
  t.deepEqual(pageSecurityProblems(formPost.res.headers, formPost.html), []);

  const noSession = await pageAt(new CookieJar(), `${as.issuer}/session/end`);
  t.is(noSession.res.status, 200);
  t.regex(noSession.html, /<script>/);
  t.deepEqual(pageSecurityProblems(noSession.res.headers, noSession.html), []);
  // 'none' is dropped where a hash is added: a source list with both is invalid (CSP3 §2.3.1).
  t.false(parseCsp(noSession.res.headers.get('content-security-policy')).get('script-src')?.includes("'none'"));
});

test('CSP form-action allows the AS and the registered redirect and post-logout origins, nothing else', async (t) => {
  // Chromium applies form-action to the redirects after a form POST too: the login form's 303 goes
  // to the AS's /auth/…, then to the client's redirect_uri.
  const { res } = await atLogin(t);
  t.deepEqual(parseCsp(res.headers.get('content-security-policy')).get('form-action'), [
    "'self'",
    new URL(REDIRECT_URI).origin,
  ]);
});
