/** The few HTML pages the backend renders itself: errors, and home when the sample SPA is not served. */

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${head}
<title>${escapeHtml(title)} · tmi-bff</title>
<style>:root{color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.5}main{max-width:40rem;margin:2rem auto;padding:0 1rem}code{font-size:.9em}</style>
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
    `<p role="alert">${escapeHtml(detail)}</p><p><a href="/auth/login">Sign in again</a> · <a href="/">Home</a></p>`,
  );
}

/** D1: the home page advertises the endpoint paths in `<meta>` tags. */
export function homePage(metaTags: string, signedInAs: string | undefined, spaMissing = false): string {
  const who = signedInAs
    ? `<p>Signed in as <strong>${escapeHtml(signedInAs)}</strong>.</p>
<form method="post" action="/auth/logout"><button type="submit">Sign out</button></form>`
    : '<p><a href="/auth/login">Sign in</a></p>';
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
