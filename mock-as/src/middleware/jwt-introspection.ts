/**
 * RFC 7662 introspection of JWT access tokens. oidc-provider stores only opaque tokens and refuses
 * structured ones at its introspection endpoint (`unsupported_token_type`, after authenticating the
 * client). RFC 7662 §2.2 wants an answer instead: the claims of a valid token, `{"active":false}` for
 * anything else. We give that answer for the RFC 9068 access tokens this AS signs.
 *
 * Who may ask (RFC 7662 §4): the client the token was issued to, or the resource server of its
 * audience, authenticated as the client the seed names for that resource (`resources[].client_id`).
 * Any other client is told `{"active":false}`, as for a token it does not know.
 *
 * A token whose grant is gone (a logout, a replayed refresh token) is inactive, though its signature
 * and `exp` are still good: see `liveAccessTokenVerifier`.
 */
import type { Context, Next } from 'koa';
import type { AccessTokenClaims, AccessTokenVerifier } from '../access-tokens.js';
import type { Seed } from '../seed.js';

export function introspectJwtAccessTokens(verifyAccessToken: AccessTokenVerifier, seed: Seed) {
  const resourceServers = new Map(seed.resources.map((r) => [r.identifier, r.client_id]));
  const mayIntrospect = (clientId: string, claims: AccessTokenClaims) =>
    claims.client_id === clientId || [claims.aud].flat().some((aud) => resourceServers.get(aud) === clientId);

  return async function introspectJwtAccessToken(ctx: Context, next: Next): Promise<void> {
    await next();
    const body = ctx.body as { error?: string } | undefined;
    const token = ctx.oidc?.params?.token;
    if (ctx.oidc?.route !== 'introspection' || body?.error !== 'unsupported_token_type') return;
    const client = ctx.oidc.client;
    if (!client || typeof token !== 'string') return;
    ctx.status = 200;
    try {
      const claims = await verifyAccessToken(token);
      // RFC 7662 §2.2: the token's own claims, plus active and token_type.
      ctx.body = mayIntrospect(client.clientId, claims)
        ? { ...claims, active: true, token_type: 'Bearer' }
        : { active: false };
    } catch {
      // Not ours, expired, tampered, or its grant is gone.
      ctx.body = { active: false };
    }
  };
}
