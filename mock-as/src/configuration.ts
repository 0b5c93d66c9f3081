/**
 * The oidc-provider configuration, built from the seed. Every value that differs from oidc-provider's
 * default says so ("defaults to …"), as in oidc-provider's own example configuration.
 *
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#configuration-options
 */
import type { JWK } from 'jose';
import { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Accounts } from './accounts.js';
import type { Lifetimes } from './config.js';
import { preflightRefresh } from './grants/refresh-preflight.js';
import { ACT_CLAIMS } from './grants/token-exchange.js';
import { errorPage, loggedOutPage, logoutPage } from './interactions/views.js';
import { CLIENT_ASSERTION_ALGS, CLIENT_AUTH_METHODS, type Seed } from './seed.js';

export interface ConfigurationInput {
  seed: Seed;
  accounts: Accounts;
  signingKeys: JWK[];
  cookieKeys: string[];
  lifetimes: Lifetimes;
  adapter: NonNullable<Configuration['adapter']>;
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** fetch without oidc-provider's special-use address dispatcher, for loopback targets only. */
function loopbackFetch(url: string | URL | Request, options?: RequestInit): Promise<Response> {
  const { hostname } = new URL(url instanceof Request ? url.url : url);
  if (!options || !LOOPBACK_HOSTS.has(hostname)) return globalThis.fetch(url, options);
  const { dispatcher: _protected, ...rest } = options as RequestInit & { dispatcher?: unknown };
  return globalThis.fetch(url, rest);
}

export function buildConfiguration(input: ConfigurationInput): Configuration {
  const { seed, accounts, lifetimes } = input;
  const resources = new Map(seed.resources.map((r) => [r.identifier, r]));

  async function getResourceServerInfo(ctx: KoaContextWithOIDC, indicator: string) {
    const resource = resources.get(indicator);
    if (!resource) throw new errors.InvalidTarget(`unknown resource "${indicator}"`);
    // RFC 9068 §3: every scope of a token must make sense for its audience. A token request that
    // names a resource and a scope of another resource is refused, rather than answered with an
    // empty-scope token.
    const asked = ctx.oidc.route === 'token' ? String(ctx.oidc.params?.scope ?? '') : '';
    const foreign = asked.split(' ').filter((s) => s && !OIDC_SCOPES.has(s) && !(s in resource.scopes));
    if (foreign.length) {
      throw new errors.InvalidScope(`scope not defined for ${indicator}: ${foreign.join(' ')}`, foreign.join(' '));
    }
    // RFC 9068 §3: a token for a resource carries at least one scope of it. A code or refresh whose
    // scope (asked, or else granted) holds none is refused, rather than answered with a scope-less JWT.
    const { AuthorizationCode, RefreshToken, Grant } = ctx.oidc.entities;
    const source = AuthorizationCode ?? RefreshToken;
    if (ctx.oidc.route === 'token' && source && Grant) {
      const granted = new Set(String(Grant.getResourceScope(indicator) ?? '').split(' '));
      const scopes = (asked || String(source.scope ?? '')).split(' ');
      if (!scopes.some((s) => s in resource.scopes && granted.has(s))) {
        throw new errors.InvalidScope(
          `no scope of ${indicator} was requested or granted`,
          Object.keys(resource.scopes).join(' '),
        );
      }
    }
    return {
      scope: Object.keys(resource.scopes).join(' '),
      audience: indicator,
      accessTokenTTL: resource.access_token_ttl,
      accessTokenFormat: 'jwt' as const, // RFC 9068 JWT access tokens, typ at+jwt
      jwt: { sign: { alg: 'RS256' as const } },
    };
  }

  return {
    adapter: input.adapter, // defaults to an in-memory LRU capped at 1000 entries
    clients: seed.clients as Configuration['clients'],
    // RFC 7591 §2, OIDC Core §9: the methods a client may register (seed.ts CLIENT_AUTH_METHODS), the
    // same at the token, introspection and revocation endpoints. Defaults to client_secret_basic,
    // client_secret_jwt, client_secret_post, private_key_jwt and none.
    clientAuthMethods: [...CLIENT_AUTH_METHODS],
    // RFC 7523 §3: the algorithms of private_key_jwt assertions. Defaults to the same plus HS256, which
    // only client_secret_jwt would use.
    enabledJWA: { clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS] },
    findAccount: accounts.findAccount,
    jwks: { keys: input.signingKeys as NonNullable<Configuration['jwks']>['keys'] }, // defaults to a well-known dev key
    cookies: { keys: input.cookieKeys }, // defaults to unsigned cookies
    claims: {
      // defaults to { acr, auth_time, iss, openid: ['sub'], sid }
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    scopes: [...OIDC_SCOPES], // defaults to ['openid', 'offline_access']
    responseTypes: ['code'], // defaults to code, id_token, 'code id_token', none: no implicit here (RFC 9700 §2.1.2)
    // RFC 9700 §2.1.1: PKCE for every client, S256 only. Defaults to public clients only.
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 accepts
    // Refresh tokens whenever the client may use the grant and the account policy allows them,
    // without the offline_access + prompt=consent round trip oidc-provider asks for by default.
    async issueRefreshToken(_ctx, client, code) {
      return (
        client.grantTypeAllowed('refresh_token') &&
        code.accountId !== undefined &&
        accounts.mayHaveRefreshTokens(code.accountId)
      );
    },
    // RFC 9700 §4.14.2: rotate on every use; oidc-provider revokes the whole grant when a used one comes back.
    // Defaults to public clients only, or after 70 % of the lifetime. The preflight refuses a bad
    // request before the token is spent (see refresh-preflight.ts).
    async rotateRefreshToken(ctx) {
      await preflightRefresh(ctx, getResourceServerInfo);
      return true;
    },
    expiresWithSession: async () => false, // defaults to tokens without offline_access dying with the AS session
    clientBasedCORS: () => false, // defaults to allowing any origin: our clients are all server-side
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
      AuthorizationCode: lifetimes.AuthorizationCode,
      IdToken: lifetimes.IdToken,
      Interaction: lifetimes.Interaction,
      RefreshToken: lifetimes.RefreshToken,
      Grant: lifetimes.RefreshToken,
      Session: lifetimes.RefreshToken,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // OIDC Core §3.1.2.1, RFC 6749 §4.1.3: redirect_uri is required at /auth and at /token, even for a
    // client with a single registered one. Defaults to true (it may be omitted).
    allowOmittingSingleRegisteredRedirectUri: false,
    // Private claim grant_id: the grant a JWT access token belongs to. oidc-provider does not store JWT
    // access tokens, so this is how token exchange and introspection see that the grant was revoked
    // (a logout, a replayed refresh token). Defaults to no extra claims.
    async extraTokenClaims(_ctx, token) {
      const act = ACT_CLAIMS.get(token);
      const grantId = 'grantId' in token ? token.grantId : undefined;
      return { ...(act ? { act } : {}), ...(grantId ? { grant_id: grantId } : {}) };
    },
    features: {
      devInteractions: { enabled: false }, // defaults to on: we ship our own login and consent pages
      // OIDC Core §5.5: clients may ask for claims, e.g. the ID token's `sid` (which AS session a
      // sign-in rode on). Defaults to off.
      claimsParameter: { enabled: true },
      introspection: {
        enabled: true, // defaults to off
        // RFC 7662 §4: a stored (opaque) token is described to its own client only; others get
        // {"active":false}. JWT access tokens: middleware/jwt-introspection.ts. Defaults to any client.
        allowedPolicy: async (_ctx, client, token) =>
          client.clientAuthMethod !== 'none' && token.clientId === client.clientId,
      },
      revocation: {
        enabled: true, // defaults to off
        // RFC 7009 §2.1: a client revokes only its own tokens, and is told when it tries otherwise.
        async allowedPolicy(_ctx, client, token) {
          if (token.clientId === client.clientId) return true;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      // OpenID Connect Back-Channel Logout 1.0: when an AS session ends, each client that registered
      // a backchannel_logout_uri is sent a logout token. Defaults to off.
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = logoutPage(form, ctx.oidc.client?.clientName);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = loggedOutPage();
        },
      },
      resourceIndicators: {
        enabled: true, // defaults to off
        getResourceServerInfo,
      },
    },
    // Defaults to fetch through a dispatcher that refuses special-use addresses (SSRF protection),
    // loopback included. This AS is for local development and its clients are the seed's: it may
    // post logout tokens to a backend on loopback; any other address keeps the protection.
    fetch: loopbackFetch,
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(out.error, out.error_description);
    },
  };
}
