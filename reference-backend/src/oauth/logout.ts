/**
 * Sign-out: revoke the refresh token at the AS (RFC 7009), forget the session and its tokens, then
 * RP-initiated logout at the AS. A POST from the app's own pages only (the same CSRF rule as the
 * endpoints, minus the custom header a form cannot send).
 *
 * Walkthrough: docs/walkthrough/04-logout.md.
 */
import type { OpenIdClient, TokenService } from '@tmi-bff/koa';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import type { BackendConfig } from '../config.js';
import { errorPage } from '../pages.js';
import { currentSession } from '../session/session.js';

export interface LogoutDeps {
  config: BackendConfig;
  client: OpenIdClient;
  tokens: TokenService;
}

export function logoutRoute({ config, client, tokens }: LogoutDeps) {
  return async function logout(ctx: Context): Promise<void> {
    const origin = ctx.get('origin');
    const site = ctx.get('sec-fetch-site');
    if (
      (origin && origin !== config.origin) ||
      (site && site !== 'same-origin' && site !== 'none') ||
      (!origin && !site)
    ) {
      ctx.status = 403;
      ctx.type = 'html';
      ctx.body = errorPage('Sign-out refused', 'Sign out from the application page itself.');
      return;
    }
    // #region walkthrough:logout
    const session = currentSession(ctx);
    const idToken = ctx.session?.id_token;
    if (session) {
      const grant = await tokens.getGrant(session.id);
      if (grant?.refresh_token) {
        const revoked = await client.revokeRefreshToken(grant.refresh_token);
        config.log?.(`auth.logout: refresh token ${revoked ? 'revoked' : 'NOT revoked (AS unreachable)'}`);
      }
      await tokens.deleteGrant(session.id);
    }
    ctx.session = null;
    // #endregion
    ctx.status = 303;
    try {
      const configuration = await client.configuration();
      ctx.redirect(
        oidc.buildEndSessionUrl(configuration, {
          post_logout_redirect_uri: `${config.origin}/`,
          ...(idToken ? { id_token_hint: idToken } : { client_id: config.client.id }),
        }).href,
      );
    } catch {
      // The AS is unreachable: the local session is gone all the same.
      ctx.redirect('/');
    }
  };
}
