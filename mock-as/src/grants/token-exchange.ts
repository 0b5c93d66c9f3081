/**
 * RFC 8693 token exchange, as a custom oidc-provider grant. Our profile (docs/mock-as.md,
 * "Token exchange profile"):
 * - the subject token must be a JWT access token this AS issued: signature, `iss`, `typ` and `exp`
 *   are checked, and its grant (private claim `grant_id`) must still exist: a grant revoked by reuse
 *   detection or a logout takes its access tokens' exchanges with it. Anything else is
 *   `invalid_request` (RFC 8693 §2.2.2). The issued token belongs to the same grant;
 * - one target per request (`resource` or `audience`), defaulting to the subject token's audience;
 *   the seed's rules must allow (client, subject audience → target), else `invalid_target`;
 * - the requested scope must be a subset of the subject token's scope and defined by the target,
 *   else `invalid_scope`;
 * - the issued token never outlives the subject token, and records the exchanging client in a
 *   nested `act` claim (RFC 8693 §4.1);
 * - only clients named by a rule may exchange, else `unauthorized_client`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693.html
 */
import { errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import {
  type AccessTokenClaims,
  AccessTokenInvalid,
  type AccessTokenVerifier,
  type ActClaim,
} from '../access-tokens.js';
import type { Accounts } from '../accounts.js';
import { type Seed, type SeedResource, TOKEN_EXCHANGE } from '../seed.js';

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** The parameters RFC 8693 §2.1 defines; `resource` and `audience` may repeat. */
export const TOKEN_EXCHANGE_PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'resource',
  'audience',
  'scope',
] as const;
export const TOKEN_EXCHANGE_DUPLICABLE = ['resource', 'audience'] as const;

/** `act` claims of the tokens this grant mints, read by `extraTokenClaims`. */
export const ACT_CLAIMS = new WeakMap<object, ActClaim>();

export interface TokenExchangeOptions {
  provider: Provider;
  seed: Seed;
  accounts: Accounts;
  verifyAccessToken: AccessTokenVerifier;
}

const split = (scope: string | undefined) => new Set((scope ?? '').split(' ').filter(Boolean));

/** Builds the grant handler to pass to `provider.registerGrantType(TOKEN_EXCHANGE, …)`. */
export function tokenExchangeGrant(opts: TokenExchangeOptions) {
  const { provider, seed, accounts } = opts;
  const resources = new Map(seed.resources.map((r) => [r.identifier, r]));

  async function verifySubjectToken(token: string): Promise<AccessTokenClaims> {
    try {
      return await opts.verifyAccessToken(token);
    } catch (err) {
      // RFC 8693 §2.2.2: an invalid subject_token is invalid_request.
      if (err instanceof AccessTokenInvalid) throw new errors.InvalidRequest(`subject_token ${err.message}`);
      throw err;
    }
  }

  function selectTarget(ctx: KoaContextWithOIDC, subject: AccessTokenClaims): SeedResource {
    const params = ctx.oidc.params as Record<string, string | string[] | undefined>;
    const asked = [params.resource, params.audience].flat().filter((v): v is string => !!v);
    const targets = [...new Set(asked.length ? asked : [subject.aud].flat())];
    if (targets.length !== 1) {
      throw new errors.InvalidTarget('exactly one target (resource or audience) per request: a token has one audience');
    }
    const target = resources.get(targets[0] as string);
    if (!target) throw new errors.InvalidTarget(`unknown target "${targets[0]}"`);
    return target;
  }

  return async function tokenExchange(ctx: KoaContextWithOIDC): Promise<void> {
    const client = ctx.oidc.client;
    if (!client) throw new errors.InvalidClient('client authentication is required');
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const rules = seed.token_exchange.rules.filter((r) => r.client === client.clientId);
    if (rules.length === 0) throw new errors.UnauthorizedClient('this client may not use token exchange');

    // RFC 8693 §2.1: subject_token and subject_token_type are REQUIRED.
    if (!params.subject_token) throw new errors.InvalidRequest('missing required parameter subject_token');
    if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    // RFC 8693 §2.1: actor_token_type MUST NOT be sent without actor_token. This profile takes neither:
    // the actor is always the authenticated client.
    if (params.actor_token || params.actor_token_type) {
      throw new errors.InvalidRequest('actor_token is not supported: the actor is the authenticated client');
    }
    if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }

    const subject = await verifySubjectToken(params.subject_token);
    // RFC 8693 §2.2.2: a subject token for an account this AS does not know is not valid: invalid_request.
    if (!(await accounts.findAccount(ctx, subject.sub))) {
      throw new errors.InvalidRequest('subject_token names an unknown account');
    }

    const target = selectTarget(ctx, subject);
    const audiences = [subject.aud].flat();
    const allowed = rules.some(
      (r) => r.targets.includes(target.identifier) && audiences.some((a) => r.subject_token_audiences.includes(a)),
    );
    if (!allowed) {
      throw new errors.InvalidTarget(
        `client "${client.clientId}" may not exchange a token for ${audiences.join(' ')} into one for ${target.identifier}`,
      );
    }

    const held = split(subject.scope);
    const defined = new Set(Object.keys(target.scopes));
    const requested = params.scope ? split(params.scope) : new Set([...held].filter((s) => defined.has(s)));
    const escalation = [...requested].filter((s) => !held.has(s));
    // Downscoping only: RFC 8693 §5 leaves policy to the AS; ours never widens a token.
    if (escalation.length)
      throw new errors.InvalidScope('subject_token does not hold the requested scope', escalation.join(' '));
    const undefinedHere = [...requested].filter((s) => !defined.has(s));
    if (undefinedHere.length) {
      throw new errors.InvalidScope(`scope not defined for ${target.identifier}`, undefinedHere.join(' '));
    }
    if (requested.size === 0) throw new errors.InvalidScope(`subject_token holds no scope of ${target.identifier}`, '');

    // The issued token expires no later than the subject token.
    const remaining = subject.exp - Math.floor(Date.now() / 1000);
    if (remaining < 1) throw new errors.InvalidRequest('subject_token is expired');
    const ttl = Math.min(target.access_token_ttl, remaining);

    const at = new provider.AccessToken({
      accountId: subject.sub,
      client,
      gty: TOKEN_EXCHANGE,
      grantId: subject.grant_id,
      scope: [...requested].join(' '),
    } as ConstructorParameters<typeof provider.AccessToken>[0]);
    at.resourceServer = new provider.ResourceServer(target.identifier, {
      scope: [...defined].join(' '),
      audience: target.identifier,
      accessTokenFormat: 'jwt',
      accessTokenTTL: ttl,
      jwt: { sign: { alg: 'RS256' } },
    });
    // RFC 8693 §4.1: the exchanging client is the current actor; earlier actors nest inside.
    ACT_CLAIMS.set(at, { sub: client.clientId, ...(subject.act ? { act: subject.act } : {}) });

    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();

    // RFC 8693 §2.2.1: the response members.
    ctx.body = {
      access_token: accessToken,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: at.expiration,
      scope: at.scope,
    };
  };
}
