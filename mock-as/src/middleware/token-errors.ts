/**
 * Post-processing of token endpoint errors, where oidc-provider's wording differs from the RFCs or
 * says less than a developer needs. The status and the error semantics never change.
 */
import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Accounts } from '../accounts.js';

interface ErrorBody {
  error?: string;
  error_description?: string;
}

export function tokenErrors(provider: Provider, accounts: Accounts) {
  return async function rewordTokenErrors(ctx: Context, next: Next): Promise<void> {
    await next();
    const body = ctx.body as ErrorBody | undefined;
    const params = ctx.oidc?.params;
    if (ctx.oidc?.route !== 'token' || !body?.error || !params) return;

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
    if (body.error === 'invalid_scope' && params.grant_type === 'refresh_token') {
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
