/**
 * Client authentication as strict authorization servers do it: a client authenticates with the one
 * method it is registered for (seed: `clients[].token_endpoint_auth_method`), at the token,
 * introspection and revocation endpoints alike, and discovery says which methods there are.
 *
 * oidc-provider checks the method itself for private_key_jwt, but takes a client secret from either
 * place (the Authorization header or the body) for a client of either secret method. Here the
 * secret must come from the place the client registered.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749.html#section-2.3.1
 * @see https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication
 */
import type { Context, Next } from 'koa';
import Provider, { errors } from 'oidc-provider';

type Client = InstanceType<Provider['Client']>;

/** The secret's place for each secret method, in words a developer acts on. */
const SECRET_PLACE: Record<string, string> = {
  client_secret_basic: 'send client_id and client_secret in an HTTP Basic Authorization header, not in the body',
  client_secret_post: 'send client_id and client_secret in the request body, not in an Authorization header',
};

/**
 * OIDC Core §9: the secret is accepted only where the client's registered method puts it. Wraps
 * `Client#compareClientSecret`, the one place where oidc-provider checks a presented secret, with the
 * request at hand (`Provider.ctx`). oidc-provider refuses a request that carries both a header and a
 * body secret, so a Basic header means client_secret_basic and its absence client_secret_post.
 */
export function requireRegisteredSecretMethod(provider: Provider): void {
  const { prototype } = provider.Client;
  const compare = prototype.compareClientSecret;
  prototype.compareClientSecret = function compareClientSecretWhereRegistered(this: Client, actual: string) {
    const used = Provider.ctx?.get('authorization') ? 'client_secret_basic' : 'client_secret_post';
    const registered = this.clientAuthMethod ?? 'client_secret_basic';
    if (used !== registered) {
      const err = new errors.InvalidClientAuth(`client authenticated with ${used}, registered for ${registered}`);
      // RFC 6749 §5.2: error_description is printable ASCII without " and \.
      err.error_description = `client ${this.clientId} is registered for ${registered}: ${SECRET_PLACE[registered]}`;
      throw err;
    }
    return compare.call(this, actual);
  };
}

/**
 * RFC 8414 §2: the introspection and revocation endpoints authenticate clients as the token endpoint
 * does; discovery says so (oidc-provider lists only the token endpoint's methods). Without it, RFC 8414
 * has a client assume client_secret_basic there.
 */
export function advertiseEndpointAuthMethods() {
  return async function listEndpointAuthMethods(ctx: Context, next: Next): Promise<void> {
    await next();
    if (ctx.oidc?.route !== 'discovery' || ctx.status !== 200) return;
    const body = ctx.body as Record<string, unknown>;
    const methods = body.token_endpoint_auth_methods_supported;
    const algs = body.token_endpoint_auth_signing_alg_values_supported;
    for (const endpoint of ['introspection', 'revocation']) {
      if (body[`${endpoint}_endpoint`] === undefined) continue;
      body[`${endpoint}_endpoint_auth_methods_supported`] = methods;
      body[`${endpoint}_endpoint_auth_signing_alg_values_supported`] = algs;
    }
  };
}
