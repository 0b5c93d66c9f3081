/**
 * The sample SPA, served from the backend's own origin: the draft's topology (TMI-BFF-01 §1.1,
 * TMI-01: one application, one origin), where the session cookie is first-party and the BFF
 * endpoints need no CORS.
 *
 * - `/` is the SPA's `index.html` with the D1 meta tags and the app's settings put into its head,
 *   under a Content-Security-Policy that allows scripts from this origin only;
 * - `/assets/<file>` are the files of the bundle;
 * - `/docs/<path>.md` are the walkthrough chapters the app links to, as plain text for its docs
 *   view; a browser that opens one as a page is sent to the app's `/?doc=<path>`, which renders it.
 *
 * Walkthrough: docs/walkthrough/06-sample-spa.md.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context, Middleware } from 'koa';
import send from 'koa-send';

export interface SpaConfig {
  /** Folder of the built SPA: `index.html` and `assets/`. */
  dir: string;
  /** JSON the app reads from `<script type="application/json" id="tmi-bff-settings">`. */
  settings?: unknown;
  /** Folder of the docs the app links to (served as text under /docs/). Default: none. */
  docsDir?: string | undefined;
}

/** Where the head of `index.html` receives the meta tags and the settings. */
export const HEAD_MARKER = '<!-- tmi-bff:head -->';

/** The meta tag that hands the page its style nonce (read by sample-spa/src/docs-render.ts). */
export const STYLE_NONCE_META = 'tmi-bff-style-nonce';

/**
 * What the docs view's diagrams need on top of the page's policy: mermaid draws each diagram with
 * one `<style>` element, allowed by this answer's nonce, and with style attributes. Scripts stay
 * 'self' only, so nothing in a diagram can run.
 */
export function diagramStyles(nonce: string): string {
  return `style-src-elem 'self' 'nonce-${nonce}'; style-src-attr 'unsafe-inline'`;
}

/** JSON that is safe inside a `<script>` element: no `<`, `>`, `&` or line separators as such. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value ?? null).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * The page's policy: scripts and styles from this origin only; network calls to this origin and the
 * APIs the app calls with its tokens; forms to this origin and the AS (sign-out redirects there).
 */
export function contentSecurityPolicy(connect: string[], formAction: string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${connect.join(' ')}`.trim(),
    `form-action 'self' ${formAction.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export interface SpaRoutes {
  /** Answers with `index.html`; false when the SPA is not built. */
  index(ctx: Context): Promise<boolean>;
  assets: Middleware;
  docs: Middleware;
}

export function spaRoutes(config: SpaConfig, head: string, csp: string): SpaRoutes {
  const inject = `${head}\n<script type="application/json" id="tmi-bff-settings">${scriptJson(config.settings)}</script>`;
  return {
    async index(ctx) {
      let html: string;
      try {
        html = await readFile(join(config.dir, 'index.html'), 'utf8');
      } catch {
        return false;
      }
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      const nonce = randomBytes(16).toString('base64');
      ctx.set('Content-Security-Policy', `${csp}; ${diagramStyles(nonce)}`);
      ctx.set('X-Content-Type-Options', 'nosniff');
      // Not no-referrer: that makes the browser send `Origin: null` on the sign-out form, which is refused.
      ctx.set('Referrer-Policy', 'same-origin');
      ctx.body = html.replace(HEAD_MARKER, `${inject}\n<meta name="${STYLE_NONCE_META}" content="${nonce}">`);
      return true;
    },
    async assets(ctx) {
      // One file name, no folders (the route parameter cannot hold a `/`); koa-send refuses `..`.
      const served = await send(ctx, String(ctx.params.file), {
        root: join(config.dir, 'assets'),
        setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
      }).catch(() => undefined);
      if (served) ctx.set('X-Content-Type-Options', 'nosniff');
    },
    async docs(ctx) {
      const path = String(ctx.params.path ?? '');
      if (!config.docsDir || !path.endsWith('.md')) return;
      // A chapter opened as a page (a new tab, a bookmark): the app shows it rendered, in its docs view.
      ctx.vary('Sec-Fetch-Dest');
      if (ctx.get('sec-fetch-dest') === 'document') {
        ctx.status = 303;
        ctx.redirect(`/?${new URLSearchParams({ doc: path })}`);
        return;
      }
      const served = await send(ctx, path, { root: config.docsDir }).catch(() => undefined);
      if (!served) return;
      // Shown as text in the browser rather than offered as a download.
      ctx.type = 'text/plain; charset=utf-8';
      ctx.set('X-Content-Type-Options', 'nosniff');
    },
  };
}
