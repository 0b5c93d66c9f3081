/**
 * Post-processing of token, introspection and revocation errors, where oidc-provider's wording differs from the RFCs or
 * says less than a developer needs. The status and the error semantics never change.
 */
import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Accounts } from '../accounts.js';

interface ErrorBody {
  error?: string;
  error_description?: string;
}

const CLIENT_AUTH_ROUTES = new Set(['token', 'introspection', 'revocation']);

export function tokenErrors(provider: Provider, accounts: Accounts) {
  return async function rewordTokenErrors(ctx: Context, next: Next): Promise<void> {
    await next();
    const body = ctx.body as ErrorBody | undefined;
    const params = ctx.oidc?.params;
    if (!CLIENT_AUTH_ROUTES.has(String(ctx.oidc?.route)) || !body?.error || !params) return;

    // RFC 6749 §5.2: a request with no client authentication at all is invalid_client, 401
    // (oidc-provider says invalid_request, 400).
    if (body.error === 'invalid_request' && body.error_description === 'no client authentication mechanism provided') {
      ctx.status = 401;
      body.error = 'invalid_client';
      body.error_description =
        'client authentication is required, with the method the client is registered for: client_secret_basic, client_secret_post or private_key_jwt';
    }

    // RFC 9110 §15.5.2, RFC 6749 §5.2: a 401 names the authentication scheme to use; the one the client
    // tried, or Basic when it tried none.
    if (ctx.status === 401) {
      if (!ctx.response.get('WWW-Authenticate')) ctx.set('WWW-Authenticate', `Basic realm="${ctx.oidc?.issuer}"`);
      return;
    }

    // RFC 6749 §5.2: a client that may not use a grant type gets unauthorized_client
    // (oidc-provider says invalid_request).
    if (
      body.error === 'invalid_request' &&
      body.error_description === 'requested grant type is not allowed for this client'
    ) {
      body.error = 'unauthorized_client';
      return;
    }

    // The account policy (seed: users[].policy.denied_scopes) keeps some scopes out of every grant,
    // so a refresh asking for one fails with invalid_scope; say why.
    if (body.error === 'invalid_scope' && ctx.oidc?.route === 'token' && params.grant_type === 'refresh_token') {
      const token = await provider.RefreshToken.find(String(params.refresh_token ?? ''), { ignoreExpiration: true });
      const denied = accounts.deniedScopes(token?.accountId);
      const refused = String(params.scope ?? '')
        .split(' ')
        .filter((s) => denied.has(s));
      if (refused.length)
        body.error_description = `the account policy of this user does not allow: ${refused.join(' ')}`;
    }
  };
}
