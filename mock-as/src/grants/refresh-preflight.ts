/**
 * Checks a refresh request BEFORE its refresh token is rotated.
 *
 * oidc-provider rotates (consumes) the presented refresh token and saves its successor before it
 * resolves the requested `resource`. A request naming a resource the grant does not cover therefore
 * failed with `invalid_target` *after* burning the token, and the next use of it revoked the grant.
 * A client that made one bad request would lose its user's grant. oidc-provider calls
 * `rotateRefreshToken(ctx)` right before it consumes the token, with the token, grant and account
 * loaded, so we validate there and throw the same errors with nothing spent.
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

export type ResourceCheck = (ctx: KoaContextWithOIDC, indicator: string) => Promise<unknown>;

export async function preflightRefresh(ctx: KoaContextWithOIDC, checkResource: ResourceCheck): Promise<void> {
  const token = ctx.oidc.entities.RefreshToken;
  if (!token) return;
  const resource = ctx.oidc.params?.resource;
  const granted = token.resourceIndicators as Set<string>;
  if (typeof resource === 'string') {
    // RFC 8707 §2.2: the resource must be within what the grant covers.
    if (!granted.has(resource)) throw new errors.InvalidTarget('resource is not covered by this grant');
    await checkResource(ctx, resource);
    return;
  }
  const scopes = String(ctx.oidc.params?.scope ?? token.scope ?? '').split(' ');
  if (!scopes.includes('openid') && granted.size > 1) {
    throw new errors.InvalidTarget('this grant covers several resources: name one with the resource parameter');
  }
}
