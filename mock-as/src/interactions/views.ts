/**
 * Server-rendered HTML for the login, consent, logout and error pages: plain forms that a person, a
 * browser test or a `fetch` script can drive. Every interpolated value goes through `escape`.
 */
import { createHash } from 'node:crypto';
import type { SeedUser } from '../seed.js';

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
:root{color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.5}
body{margin:0;padding:1rem;display:flex;justify-content:center}
main{width:100%;max-width:28rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
.dev{font-size:.8rem;padding:.25rem .5rem;border-radius:.25rem;background:#fde68a;color:#1f2937;display:inline-block}
.personas{display:grid;gap:.5rem;margin:0 0 1.5rem;padding:0;list-style:none}
button,input{font:inherit}
button{padding:.6rem 1rem;border-radius:.4rem;border:1px solid #6b7280;background:#1d4ed8;color:#fff;cursor:pointer;width:100%;text-align:left}
button.secondary{background:transparent;color:inherit}
button small{display:block;opacity:.85}
label{display:block;margin:.5rem 0 .2rem}
input{width:100%;box-sizing:border-box;padding:.5rem;border-radius:.4rem;border:1px solid #6b7280}
.error{border-left:4px solid #b91c1c;padding:.5rem .75rem;background:#fee2e2;color:#7f1d1d}
.denied{text-decoration:line-through;opacity:.7}
fieldset{border:1px solid #9ca3af;border-radius:.4rem;margin:0 0 1rem}
.actions{display:grid;gap:.5rem;grid-template-columns:1fr 1fr;margin-top:1rem}
code{font-size:.85em}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
`;

/** The CSP source that allows the pages' one inline <style> element, and nothing else (CSP3 §2.3.1 hash-source). */
export const INLINE_STYLE_SOURCE = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · tmi-bff mock AS</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<span class="dev">Development authorization server: every password here is public</span>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
}

export interface LoginView {
  uid: string;
  clientName: string;
  users: SeedUser[];
  personaPicker: boolean;
  username?: string;
  error?: string;
}

export function loginPage(v: LoginView): string {
  const action = `/interaction/${escapeHtml(v.uid)}/login`;
  const error = v.error ? `<p class="error" role="alert" id="login-error">${escapeHtml(v.error)}</p>` : '';
  const personas = v.personaPicker
    ? `<h2>Sign in as a persona</h2>
<form method="post" action="${action}">
<ul class="personas">
${v.users
  .map(
    (u) =>
      `<li><button type="submit" name="persona" value="${escapeHtml(u.username)}">${escapeHtml(
        (u.claims.name as string | undefined) ?? u.username,
      )} <small>${escapeHtml(u.username)}${u.persona ? ` · ${escapeHtml(u.persona)}` : ''}</small></button></li>`,
  )
  .join('\n')}
</ul>
</form>`
    : '';
  return page(
    'Sign in',
    `<p><strong>${escapeHtml(v.clientName)}</strong> asks you to sign in.</p>
${error}
${personas}
<h2>Or with a username and password</h2>
<form method="post" action="${action}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required value="${escapeHtml(v.username ?? '')}"${
      v.error ? ' aria-describedby="login-error" autofocus' : ''
    }>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">Sign in</button></div>
</form>
<form method="post" action="/interaction/${escapeHtml(v.uid)}/abort"><div class="actions"><button class="secondary" type="submit">Cancel</button></div></form>`,
  );
}

export interface ConsentView {
  uid: string;
  clientName: string;
  username: string;
  openidScopes: string[];
  resources: Array<{
    identifier: string;
    name: string;
    scopes: Array<{ scope: string; description: string; denied: boolean }>;
  }>;
}

const OIDC_SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'Your name and username',
  email: 'Your email address',
  offline_access: 'Keep access while you are away',
};

export function consentPage(v: ConsentView): string {
  const openid = v.openidScopes.length
    ? `<fieldset><legend>Your identity</legend><ul>${v.openidScopes
        .map((s) => `<li><code>${escapeHtml(s)}</code> ${escapeHtml(OIDC_SCOPE_TEXT[s] ?? '')}</li>`)
        .join('')}</ul></fieldset>`
    : '';
  const resources = v.resources
    .map(
      (r) =>
        `<fieldset><legend>${escapeHtml(r.name)} <code>${escapeHtml(r.identifier)}</code></legend><ul>${r.scopes
          .map((s) =>
            s.denied
              ? `<li><span class="denied"><code>${escapeHtml(s.scope)}</code> ${escapeHtml(s.description)}</span> — not allowed for your account</li>`
              : `<li><code>${escapeHtml(s.scope)}</code> ${escapeHtml(s.description)}</li>`,
          )
          .join('')}</ul></fieldset>`,
    )
    .join('\n');
  return page(
    'Allow access?',
    `<p><strong>${escapeHtml(v.clientName)}</strong> asks for access as <strong>${escapeHtml(v.username)}</strong>:</p>
${openid}
${resources}
<div class="actions">
<form method="post" action="/interaction/${escapeHtml(v.uid)}/consent"><button type="submit" autofocus>Allow</button></form>
<form method="post" action="/interaction/${escapeHtml(v.uid)}/abort"><button class="secondary" type="submit">Deny</button></form>
</div>`,
  );
}

export function errorPage(error: string, description?: string): string {
  return page(
    'Something went wrong',
    `<p class="error" role="alert"><code>${escapeHtml(error)}</code>${description ? `: ${escapeHtml(description)}` : ''}</p>
<p>Start again from the application. If this keeps happening, <code>npm run reset</code> clears the AS data.</p>`,
  );
}

/** RP-initiated logout confirmation; `form` is oidc-provider's hidden form (it carries the xsrf token). */
export function logoutPage(form: string, clientName: string | undefined): string {
  return page(
    'Sign out?',
    `${form}
<p>${clientName ? `<strong>${escapeHtml(clientName)}</strong> asks to sign you out` : 'Sign out'} of the authorization server.</p>
<div class="actions">
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>
</div>`,
  );
}

export function loggedOutPage(): string {
  return page('Signed out', '<p>You are signed out of the authorization server.</p>');
}
