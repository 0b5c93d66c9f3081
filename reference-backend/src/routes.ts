/**
 * THE route table: every path of the reference backend in one screen.
 *
 * | route name        | method | path                               | what                                  |
 * |-------------------|--------|------------------------------------|---------------------------------------|
 * | bff.token         | GET, POST | /.well-known/bff-token          | TMI-BFF-01 §4 (@tmi-bff/koa, ahead of this router) |
 * | bff.sessioninfo   | GET    | /.well-known/bff-sessioninfo       | TMI-BFF-01 §5 (@tmi-bff/koa, ahead of this router) |
 * | auth.login        | GET    | /auth/login?returnTo=              | start sign-in (code + PKCE)           |
 * | auth.callback     | GET    | /auth/callback                     | the AS redirects back here            |
 * | auth.consent      | GET    | /auth/consent?resource=&scope=     | D13 remediation of backend_not_ready  |
 * | auth.logout       | POST   | /auth/logout?returnTo=             | revoke, forget, RP-initiated logout   |
 * | auth.signed-out   | GET    | /auth/signed-out?state=            | after the AS's sign-out, back to the page |
 * | auth.backchannel-logout | POST | /auth/backchannel-logout   | the AS ends sessions (OIDC BCL 1.0)   |
 * | home              | GET    | /                                  | the sample SPA, with the D1 meta tags |
 * | spa.assets        | GET    | /assets/:file                      | the SPA's bundle                      |
 * | spa.docs          | GET    | /docs/*path (.md)                  | the walkthrough, linked from the SPA  |
 * | mock.*            | GET, POST | /_mock/*                        | scenario knobs, mock mode only (admin.ts) |
 */
import Router from '@koa/router';
import type { BffSession, TmiBff } from '@tmi-bff/koa';
import type { Context, Middleware } from 'koa';
import type { AdminRoute } from './admin.js';
import { homePage, pagePolicy, renderErrorPages } from './pages.js';
import { AUTH_PATHS } from './paths.js';
import type { SpaRoutes } from './spa.js';

export interface RouteHandlers {
  bff: TmiBff;
  /** Sign-in, consent and the AS's redirect back (oauth/login.ts, consent.ts, callback.ts). */
  login: Middleware[];
  consent: Middleware[];
  callback: Middleware[];
  logout: Middleware[];
  /** After RP-initiated logout: on to the page the user signed out from (oauth/logout.ts). */
  signedOut: Middleware[];
  /** Server to server, from the AS: no session cookie, no CSRF defence (oauth/backchannel-logout.ts). */
  backchannelLogout: Middleware[];
  /** The request's session, while its grant record exists. */
  session: (ctx: Context) => Promise<BffSession | undefined>;
  spa: SpaRoutes | undefined;
  log: (line: string) => void;
  /** The AS's origin: the home page's sign-out form ends there. */
  asOrigin: string;
  /** The development-only scenario knobs: in mock mode only, else none and every /_mock path is 404. */
  admin?: AdminRoute[] | undefined;
}

export function routes({
  bff,
  login,
  consent,
  callback,
  logout,
  signedOut,
  backchannelLogout,
  session,
  spa,
  log,
  asOrigin,
  admin,
}: RouteHandlers): Router {
  const router = new Router();
  const homePolicy = pagePolicy([asOrigin]);
  router.get('auth.login', AUTH_PATHS.login, renderErrorPages('auth.login.error', log), ...login);
  router.get('auth.callback', AUTH_PATHS.callback, renderErrorPages('auth.callback.error', log), ...callback);
  router.get('auth.consent', AUTH_PATHS.consent, renderErrorPages('auth.consent.error', log), ...consent);
  router.post('auth.logout', AUTH_PATHS.logout, renderErrorPages('auth.logout.error', log), ...logout);
  router.get('auth.signed-out', AUTH_PATHS.signedOut, ...signedOut);
  router.all('auth.backchannel-logout', AUTH_PATHS.backchannelLogout, ...backchannelLogout);
  router.get('home', '/', renderErrorPages('home.error', log), async function showHome(ctx) {
    if (await spa?.index(ctx)) return;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    // Not no-referrer: the page's sign-out form would then carry `Origin: null`, which is refused.
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('Content-Security-Policy', homePolicy);
    const claims = (await session(ctx))?.claims;
    ctx.body = homePage(bff.metaTags(), claims ? String(claims.name ?? claims.sub) : undefined, spa !== undefined);
  });
  if (spa) {
    router.get('spa.assets', '/assets/:file', spa.assets);
    router.get('spa.docs', '/docs/*path', spa.docs);
  }
  for (const knob of admin ?? []) router.all(knob.name, knob.path, ...knob.stack);
  // bff.token and bff.sessioninfo are not in this router: app.ts mounts `bff.middleware()` ahead of
  // it, a path switch over stacks composed once, so the hit path does no routing work per request.
  return router;
}
