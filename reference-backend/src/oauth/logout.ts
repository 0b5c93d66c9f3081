/**
 * Sign-out: revoke the refresh token at the AS (RFC 7009), forget the session and its tokens, then
 * RP-initiated logout at the AS. A POST from the app's own pages only (the same CSRF rule as the
 * endpoints, minus the custom header a form cannot send).
 *
 * Walkthrough: docs/walkthrough/04-logout.md.
 */
import { CSRF_HEADER, describeAsFailure, type OpenIdClient, requireSameOrigin } from '@tmi-bff/koa';
import type { Context, Middleware, Next } from 'koa';
import type { BackendConfig } from '../config.js';
import type { FlowEvents } from '../flow-events.js';
import { AUTH_PATHS } from '../paths.js';
import type { GrantLifecycle } from '../session/grant-lifecycle.js';
import { currentSession } from '../session/session.js';
import { SignInError } from './errors.js';
import { refererPath, safeReturnTo } from './return-to.js';

export interface LogoutDeps {
  config: BackendConfig;
  client: OpenIdClient;
  grants: GrantLifecycle;
  /** Mock mode only: the flow inspector's events (flow-events.ts). */
  flow?: FlowEvents | undefined;
}

export function logoutRoute({ config, client, grants, flow }: LogoutDeps): Middleware[] {
  return [
    // D4: a form cannot send the custom header; Origin (exact match) and Sec-Fetch-Site stand in for it.
    requireSameOrigin({
      header: CSRF_HEADER,
      origin: config.origin,
      form: true,
      refuse: (why) =>
        new SignInError(
          403,
          'Sign-out refused',
          'Sign out from the application page itself.',
          `auth.logout refused: ${why}`,
        ),
    }),
    // Mock mode: the sign-out, after the revocation it caused, for the session's inspector.
    async function showSignOut(ctx: Context, next: Next) {
      const session = flow && currentSession(ctx);
      const started = performance.now();
      await next();
      if (!session) return;
      // The AS's end-session URL may carry the ID token (id_token_hint): only its endpoint and parameter names.
      const to = URL.canParse(ctx.response.get('location')) ? new URL(ctx.response.get('location')) : undefined;
      flow?.publish(
        session.id,
        'sign-out',
        {
          session: 'ended: its grant forgotten, its refresh token revoked (RFC 7009)',
          ...(to
            ? { end_session_endpoint: `${to.origin}${to.pathname}`, parameters: [...to.searchParams.keys()] }
            : {}),
        },
        Math.round(performance.now() - started),
      );
    },
    // #region walkthrough:logout
    async function endSession(ctx: Context, next: Next) {
      const session = currentSession(ctx);
      if (session) {
        if (config.idTokenHint) ctx.state.idToken = await grants.idToken(session.id);
        await grants.end(session.id, 'signed out');
      }
      ctx.session = null;
      await next();
    },
    // #endregion
    async function redirectToEndSession(ctx: Context) {
      ctx.status = 303;
      // Back to the page the user signed out from (`?returnTo=` on the form's action, else Referer).
      const returnTo = safeReturnTo(
        ctx.query.returnTo ?? refererPath(ctx.get('referer'), config.origin),
        config.origin,
      );
      // OIDC RP-Initiated Logout §3: the AS returns to a registered URI only, with `state` as given;
      // `/` is registered as such, any other path goes through /auth/signed-out.
      const back =
        returnTo === '/'
          ? { post_logout_redirect_uri: `${config.origin}/` }
          : { post_logout_redirect_uri: `${config.origin}${AUTH_PATHS.signedOut}`, state: returnTo };
      let endSession: URL;
      try {
        // OIDC RP-Initiated Logout 1.0 §2: `client_id` names the client when no `id_token_hint` is
        // sent. The hint is the ID token itself, and this redirect goes through the browser: sent only
        // when BFF_LOGOUT_ID_TOKEN_HINT asks for it (an AS that requires it).
        const idToken = ctx.state.idToken as string | undefined;
        endSession = await client.endSessionUrl({
          ...back,
          ...(idToken ? { id_token_hint: idToken } : { client_id: config.client.id }),
        });
      } catch (err) {
        // The local session is gone all the same; say why the AS's own sign-out was skipped.
        const failure = describeAsFailure(err, config.issuer);
        config.log?.(`auth.logout: no RP-initiated logout (${failure.reason}): ${failure.description}`);
        ctx.redirect(returnTo);
        return;
      }
      ctx.redirect(endSession.href);
    },
  ];
}

/**
 * GET /auth/signed-out?state=/path: the end of RP-initiated logout, on to the page the user signed
 * out from. `state` comes back through the browser, so it is validated again (RFC 9700 §4.11).
 */
export function signedOutRoute(config: Pick<BackendConfig, 'origin'>): Middleware[] {
  return [
    async function returnToPage(ctx: Context) {
      ctx.status = 303;
      ctx.redirect(safeReturnTo(ctx.query.state, config.origin));
    },
  ];
}
