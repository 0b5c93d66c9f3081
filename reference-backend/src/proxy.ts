/**
 * Proxy mode: the user's own frontend dev server (Vite, webpack, …) behind the backend, so the app
 * and the BFF share one origin (TMI-BFF-01 §1.1, TMI-01) and the session cookie is first-party.
 * Every request that is not one of the backend's own routes is forwarded, WebSocket upgrades (hot
 * module reload) included; answers stream through with their own headers.
 *
 * The forwarding is http-proxy-3's, not hand-written piping: a maintained rewrite of http-proxy
 * that already handles hop-by-hop headers, chunked and streamed bodies, aborted requests on
 * either side, redirects' Location, and the WebSocket handshake. Version 1.x, because 2.x needs
 * Node 22 and this project supports Node 20.
 *
 * Walkthrough: docs/walkthrough/07-own-frontend.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import type { Context, Next } from 'koa';
import type { BackendConfig } from './config.js';
import { PageError, renderErrorPages } from './pages.js';
import { AUTH_PREFIX } from './paths.js';
import { cookieNames } from './session/session.js';
import { staticFrontend } from './static.js';

export interface ProxyOptions {
  /** The dev server's URL, e.g. http://localhost:5173. */
  target: string;
  /** The app's public origin (the backend's own). */
  origin: string;
  /** Cookies of the backend (the session, the login transaction): not the dev server's business. */
  ownCookies: string[];
}

export interface FrontendProxy {
  /** Forwards the request; resolves once the answer is complete, throws a `PageError` 502 if the dev server is down. */
  web(ctx: Context): Promise<void>;
  /** Forwards a WebSocket upgrade (hot module reload). */
  ws(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

/** Drops the backend's own cookies from a `Cookie` header. */
function withoutCookies(header: string | undefined, names: string[]): string | undefined {
  if (!header) return header;
  const kept = header
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c && !names.includes(c.slice(0, c.indexOf('=')).replace(/\.sig$/, '')));
  return kept.length ? kept.join('; ') : undefined;
}

export function frontendProxy(options: ProxyOptions): FrontendProxy {
  const target = new URL(options.target);
  const proxy = createProxyServer({
    target: target.origin,
    // Dev servers check Host (Vite's allowedHosts, webpack's allowedHosts): they see their own.
    changeOrigin: true,
    // A redirect of the dev server points back at the app's origin, not at the dev server.
    autoRewrite: true,
    xfwd: true,
  });

  /** What the dev server sees: its own origin in `Origin` (its CORS and WebSocket checks accept it), no BFF cookies. */
  function rewrite(req: IncomingMessage): void {
    if (req.headers.origin === options.origin) req.headers.origin = target.origin;
    const cookie = withoutCookies(req.headers.cookie, options.ownCookies);
    if (cookie === undefined) delete req.headers.cookie;
    else req.headers.cookie = cookie;
  }

  // A browser that drops a proxied connection (a reload closing the HMR WebSocket) resets it: there
  // is nothing to answer, only the socket to close. Without a listener http-proxy-3 throws the error.
  proxy.on('error', (_err, _req, client) => {
    if (client && 'destroy' in client) client.destroy();
  });

  // The app decides its own Content-Security-Policy; only framing by other sites is refused, as on
  // every page of this origin (X-Frame-Options is ignored where the app's CSP has frame-ancestors).
  proxy.on('proxyRes', (proxyRes) => {
    if (String(proxyRes.headers['content-type'] ?? '').includes('text/html') && !proxyRes.headers['x-frame-options']) {
      proxyRes.headers['x-frame-options'] = 'DENY';
    }
  });

  return {
    web(ctx) {
      const { req, res } = ctx;
      rewrite(req);
      ctx.respond = false;
      return new Promise<void>((resolve, reject) => {
        res.once('close', () => resolve());
        proxy.web(req, res as ServerResponse, {}, (err: Error & { code?: string }) => {
          if (res.headersSent) {
            res.destroy();
            resolve();
            return;
          }
          ctx.respond = true;
          reject(
            new PageError(
              502,
              'The frontend dev server did not answer',
              `Nothing answered at ${target.origin} (${err.code ?? err.message}). Start your dev server there, or point the mock BFF at it with --frontend <url> (BFF_FRONTEND).`,
              `frontend.proxy ${ctx.method} ${ctx.path} -> ${target.origin}: ${err.code ?? err.message}`,
            ),
          );
        });
      });
    },
    ws(req, socket, head) {
      rewrite(req);
      proxy.ws(req, socket, head, {}, () => socket.destroy());
    },
    close() {
      proxy.close();
    },
  };
}

// #region walkthrough:own-paths
/** The backend's own paths, never forwarded: the BFF endpoints, sign-in and sign-out, the dev-only admin API. */
export function isOwnPath(path: string, endpointPaths: string[]): boolean {
  return (
    endpointPaths.includes(path) || path.startsWith(AUTH_PREFIX) || path.startsWith('/_mock/') || path === '/_mock'
  );
}
// #endregion

/**
 * The user's app in front of the backend: `serve` answers every path that is not the backend's own
 * (mounted before the router), `upgrade` takes the server's WebSocket upgrades.
 */
export function frontendRoutes(
  config: Pick<BackendConfig, 'frontend' | 'origin'>,
  endpointPaths: string[],
  metaTags: string,
  log: (line: string) => void,
) {
  const { frontend } = config;
  if (!frontend) return undefined;
  const proxy =
    'proxy' in frontend
      ? frontendProxy({
          target: frontend.proxy,
          origin: config.origin,
          ownCookies: Object.values(cookieNames(config.origin)),
        })
      : undefined;
  const answer =
    'static' in frontend
      ? staticFrontend({ dir: frontend.static, head: metaTags })
      : (ctx: Context) => (proxy as FrontendProxy).web(ctx);
  const pageErrors = renderErrorPages('frontend.error', log);
  return {
    serve: async function serveFrontend(ctx: Context, next: Next): Promise<void> {
      if (isOwnPath(ctx.path, endpointPaths)) return next();
      await pageErrors(ctx, () => answer(ctx, next));
    },
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      const path = new URL(req.url ?? '/', config.origin).pathname;
      if (proxy && !isOwnPath(path, endpointPaths)) proxy.ws(req, socket, head);
      else socket.destroy();
    },
    close: () => proxy?.close(),
  };
}
