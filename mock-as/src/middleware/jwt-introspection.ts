/**
 * RFC 7662 introspection of JWT access tokens. oidc-provider stores only opaque tokens and refuses
 * structured ones at its introspection endpoint (`unsupported_token_type`, after authenticating the
 * client). RFC 7662 §2.2 wants an answer instead: the claims of a valid token, `{"active":false}` for
 * anything else. We give that answer for the RFC 9068 access tokens this AS signs.
 *
 * A JWT access token cannot be revoked before it expires: after a logout or a grant revocation it
 * stays active until `exp`. That is why the demo's access tokens live minutes.
 */
import type { Context, Next } from 'koa';
import type { AccessTokenVerifier } from '../access-tokens.js';

export function introspectJwtAccessTokens(verifyAccessToken: AccessTokenVerifier) {
  return async function introspectJwtAccessToken(ctx: Context, next: Next): Promise<void> {
    await next();
    const body = ctx.body as { error?: string } | undefined;
    const token = ctx.oidc?.params?.token;
    if (ctx.oidc?.route !== 'introspection' || body?.error !== 'unsupported_token_type') return;
    if (!ctx.oidc.client || typeof token !== 'string') return;
    ctx.status = 200;
    try {
      // RFC 7662 §2.2: the token's own claims, plus active and token_type.
      ctx.body = { ...(await verifyAccessToken(token)), active: true, token_type: 'Bearer' };
    } catch {
      // Not ours, expired or tampered.
      ctx.body = { active: false };
    }
  };
}
