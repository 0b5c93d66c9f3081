/**
 * Static mode: a built single-page app (`--static ./dist`, `BFF_SPA_DIR`) served from the backend's
 * own origin (TMI-BFF-01 §1.1, TMI-01), so the session cookie is first-party.
 *
 * - files of the folder, nested folders included; dot files and paths that leave the folder are refused;
 * - caching: a file whose name carries a content hash (`index-4f9a2c1b.js`) is cached for a year,
 *   `immutable`; anything else is revalidated (`no-cache`); `index.html` is never stored;
 * - history fallback: a GET or HEAD that asks for HTML and matches no file gets `index.html`, so a
 *   client-side route survives a reload; a missing file with an extension (an asset) is a 404.
 *
 * Walkthrough: docs/walkthrough/07-own-frontend.md.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Context, Next } from 'koa';
import send from 'koa-send';
import { PageError } from './pages.js';
import { HEAD_MARKER } from './spa.js';

export interface StaticOptions {
  /** Folder of the built app, with its `index.html`. */
  dir: string;
  /** Put at `<!-- tmi-bff:head -->` in `index.html`, where the app has that marker (the D1 meta tags). */
  head?: string | undefined;
}

/**
 * `name-<hash>.ext` or `name.<hash>.ext`, as bundlers (Vite, Rollup, esbuild, webpack) write them: eight
 * or more characters with a digit or a capital letter (so `app-settings.json` is no hash).
 */
const HASHED = /[.-](?=[\w-]*[0-9A-Z])[\w-]{8,}(\.[a-z0-9]+)+$/;
const YEAR = 365 * 24 * 3600;

/** A browser navigation (or anything asking for HTML by name), not a script, style or image load. */
const wantsHtml = (ctx: Context) => /\btext\/html\b/.test(ctx.get('accept'));
const hasExtension = (path: string) => /\.[^/]+$/.test(basename(path));

export function staticFrontend(options: StaticOptions) {
  async function sendIndex(ctx: Context): Promise<void> {
    let html: string;
    try {
      html = await readFile(join(options.dir, 'index.html'), 'utf8');
    } catch {
      throw new PageError(
        404,
        'The app is not built',
        `There is no index.html in ${options.dir}. Build the app first, or point --static (BFF_SPA_DIR) at its output folder.`,
      );
    }
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    // The app decides its own policy; only framing by other sites is refused, as on every page here.
    ctx.set('Content-Security-Policy', "frame-ancestors 'none'");
    // Not no-referrer: sign-in returns to the page named by Referer, and a sign-out form needs its Origin.
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.body = options.head ? html.replace(HEAD_MARKER, options.head) : html;
  }

  return async function serveStaticFrontend(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/' || ctx.path === '/index.html') return sendIndex(ctx);
    let served: string | undefined;
    try {
      // koa-send decodes the path and refuses one that leaves the root (403) or holds a NUL (400).
      served = await send(ctx, ctx.path, {
        root: options.dir,
        setHeaders: (res, path) =>
          res.setHeader(
            'Cache-Control',
            HASHED.test(basename(path)) ? `public, max-age=${YEAR}, immutable` : 'no-cache',
          ),
      });
    } catch (err) {
      const status = (err as { status?: number }).status ?? 500;
      if (status !== 404) throw new PageError(status === 500 ? 500 : 404, 'Not found', 'There is no such file.');
    }
    if (served) {
      if (basename(served) === 'index.html') return sendIndex(ctx);
      return;
    }
    // The history fallback: a client-side route. A missing asset stays a 404, never the app's HTML.
    if (wantsHtml(ctx) && !hasExtension(ctx.path)) return sendIndex(ctx);
    throw new PageError(404, 'Not found', 'There is no such file.');
  };
}
