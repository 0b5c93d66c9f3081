/**
 * The few HTML pages the backend renders itself: errors (thrown as `SignInError`, oauth/errors.ts),
 * and home when the sample SPA is not served. Each is sent by `sendPage`, under `PAGE_POLICY`: no
 * script at all, its one inline style allowed by hash, and never in a frame.
 */
import { createHash } from 'node:crypto';
import type { Context, Next } from 'koa';
import { AUTH_PATHS } from './paths.js';

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE =
  ':root{color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.5}main{max-width:40rem;margin:2rem auto;padding:0 1rem}code{font-size:.9em}';

/**
 * The Content-Security-Policy of the backend's own pages: no script, the one inline style by hash, no
 * frames, forms to this origin and `formTargets` only. Chromium applies `form-action` to the
 * redirects after a form POST too: a page with the sign-out form must allow the AS, where it ends.
 */
export function pagePolicy(formTargets: string[] = []): string {
  return [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
    `form-action 'self' ${formTargets.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The policy of the pages without a form (errors). */
export const PAGE_POLICY = pagePolicy();

/** Writes one of these pages: HTML, never cached. The security headers come from `pageSecurity`. */
export function sendPage(ctx: Context, status: number, html: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
}

function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${head}
<title>${escapeHtml(title)} · tmi-bff</title>
<style>${STYLE}</style>
</head>
<body><main>
<h1>${escapeHtml(title)}</h1>
${body}
</main></body>
</html>`;
}

export function errorPage(title: string, detail: string): string {
  return page(
    title,
    '',
    `<p role="alert">${escapeHtml(detail)}</p><p><a href="${AUTH_PATHS.login}">Sign in again</a> · <a href="/">Home</a></p>`,
  );
}

/** D1: the home page advertises the endpoint paths in `<meta>` tags. */
export function homePage(metaTags: string, signedInAs: string | undefined, spaMissing = false): string {
  const who = signedInAs
    ? `<p>Signed in as <strong>${escapeHtml(signedInAs)}</strong>.</p>
<form method="post" action="${AUTH_PATHS.logout}"><button type="submit">Sign out</button></form>`
    : `<p><a href="${AUTH_PATHS.login}">Sign in</a></p>`;
  return page(
    'tmi-bff reference backend',
    metaTags,
    `${
      spaMissing
        ? '<p role="status">The sample SPA is not built yet. Run <code>npm run dev</code> (it builds it), or <code>npm run build -w @tmi-bff/sample-spa</code>, then reload.</p>'
        : ''
    }
${who}
<p>Endpoints (send the <code>TMI-BFF-CSRF: 1</code> header):</p>
<ul><li><code>GET /.well-known/bff-sessioninfo</code></li><li><code>GET /.well-known/bff-token?resource=…&amp;scope=…</code></li></ul>`,
  );
}

/**
 * A failure shown to the user as a page: `title` and `detail` are shown (say what to do next);
 * `log` only goes to the log. Sign-in's own failures are `SignInError`s (oauth/errors.ts).
 */
export class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly log?: string,
  ) {
    super(`${title}: ${detail}`);
    this.name = new.target.name;
  }
}

/** The store's error codes that mean "not now" (@tmi-bff/store errors.ts), and what the page says. */
const STORE_NOT_NOW = new Map([
  ['TMI_BFF_STORE_UNAVAILABLE', 'The service cannot reach its session store right now.'],
  ['TMI_BFF_STORE_LEASE_LOST', 'The service cannot reach its session store right now.'],
  ['TMI_BFF_STORE_WRITE_FAILED', 'The service cannot save to its session store right now.'],
]);

/** First on every page route: a `PageError` becomes its page; anything else a generic one, logged. */
export function renderErrorPages(event: string, log: (line: string) => void) {
  return async function renderErrorPage(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const known = err instanceof PageError;
      log(`${event} ${known ? (err.log ?? err.message) : ((err as Error).stack ?? String(err))}`);
      // D6: a store that does not answer (Redis down) or cannot write (disk full) is "not now": 503,
      // nothing stored was lost.
      const notNow = known ? undefined : STORE_NOT_NOW.get(String((err as { code?: unknown } | undefined)?.code));
      const shown = known
        ? err
        : notNow
          ? new PageError(503, 'Try again in a moment', notNow)
          : new PageError(500, 'Something went wrong', 'The request failed; try again.');
      sendPage(ctx, shown.status, errorPage(shown.title, shown.detail));
    }
  };
}
