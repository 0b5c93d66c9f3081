/**
 * The one place that speaks to the AS through openid-client: discovery, the authorization code
 * flow's two ends (the request URL, the code grant), userinfo, RP-initiated logout, and the grants
 * that need no user (refresh, token exchange, revocation). Callers get plain objects and the
 * endpoints' errors; they never import openid-client.
 *
 * Failures: an OAuth error answer → `AuthorizationServerError` (relayed, TMI-28); no usable answer
 * → `TemporarilyUnavailable` (D6) whose `cause` is the underlying error (`describeAsFailure` names it).
 */
import * as oidc from 'openid-client';
import { AuthorizationServerError, TemporarilyUnavailable } from '../errors.js';
import { describeAsFailure } from './as-failure.js';
import {
  ACCESS_TOKEN_TYPE,
  type AuthorizationServer,
  type AuthorizationServerMetadata,
  type GrantResult,
  type Revocation,
  TOKEN_EXCHANGE_GRANT,
} from './authorization-server.js';
import type { ClientAuth } from './client-auth.js';

export interface OpenIdClientOptions {
  /** The issuer identifier; discovery happens on first use and is retried after a failure. */
  issuer: string;
  clientId: string;
  /** How the client authenticates at the AS (`clientAuthFor`, client-auth.ts). */
  clientAuth: ClientAuth;
  /** Hard limit for one HTTP request to the AS, in seconds. Default: 30. */
  requestTimeoutSeconds?: number;
  /** Allow http:// (loopback development). Default: false. */
  allowInsecureRequests?: boolean;
}

/**
 * The secrets of one authorization request, kept server-side until its callback
 * (RFC 9700 §2.1.1: PKCE with S256, plus `state` and `nonce`).
 */
export interface AuthorizationRequest {
  state: string;
  nonce: string;
  /** RFC 7636 §4.1: kept; only its S256 challenge is sent. */
  codeVerifier: string;
  /** RFC 7636 §4.2: `BASE64URL(SHA256(codeVerifier))`, sent as `code_challenge`. */
  codeChallenge: string;
}

/** The code grant's answer: the tokens, and the ID token's claims, validated. */
export interface CodeGrantResult extends GrantResult {
  /** OIDC Core §3.1.3.7: the validated ID token's claims (empty without an ID token). */
  claims: Record<string, unknown>;
}

/**
 * The RFC 6749 §5.2 error body of an answer oauth4webapi did not read as one: it reads a 4xx's
 * only, so a 5xx's `{ "error": "temporarily_unavailable" }` arrives as a status that is not conform.
 */
async function oauthErrorOf(err: unknown): Promise<{ error: string; error_description?: string } | undefined> {
  if ((err as { code?: unknown })?.code !== 'OAUTH_RESPONSE_IS_NOT_CONFORM') return undefined;
  const response = (err as { cause?: unknown }).cause;
  if (!(response instanceof Response) || response.status < 400 || response.bodyUsed) return undefined;
  if (!/^application\/json/i.test(response.headers.get('content-type') ?? '')) return undefined;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: unknown; error_description?: unknown } | undefined;
  if (typeof body?.error !== 'string' || body.error.length === 0) return undefined;
  return {
    error: body.error,
    ...(typeof body.error_description === 'string' ? { error_description: body.error_description } : {}),
  };
}

/** Maps whatever openid-client threw to the endpoints' errors; each kind of fault keeps its own words. */
export async function toEndpointError(err: unknown): Promise<AuthorizationServerError | TemporarilyUnavailable> {
  if (err instanceof AuthorizationServerError || err instanceof TemporarilyUnavailable) return err;
  // RFC 6749 §5.2 at the token endpoint; §4.1.2.1 in the authorization response.
  if (err instanceof oidc.ResponseBodyError || err instanceof oidc.AuthorizationResponseError) {
    return new AuthorizationServerError(err.error, err.error_description, { cause: err });
  }
  // TMI-BFF-01 §4.3.3 (TMI-28): the AS's OAuth error is relayed whatever the HTTP status it came with.
  const relayed = await oauthErrorOf(err);
  if (relayed) return new AuthorizationServerError(relayed.error, relayed.error_description, { cause: err });
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    // e.g. 401 invalid_client: the body still holds the RFC 6749 §5.2 error.
    const body = (await err.response.json().catch(() => undefined)) as
      | { error?: unknown; error_description?: unknown }
      | undefined;
    const error = typeof body?.error === 'string' ? body.error : err.cause[0]?.parameters.error;
    if (error) {
      const description = typeof body?.error_description === 'string' ? body.error_description : undefined;
      return new AuthorizationServerError(error, description, { cause: err });
    }
  }
  const failure = describeAsFailure(err);
  return new TemporarilyUnavailable(failure.description, {
    detail: `${failure.reason}: ${failure.detail}`,
    cause: err,
  });
}

/** A lazily discovered openid-client configuration, shared by the sign-in routes and the token logic. */
export class OpenIdClient implements AuthorizationServer {
  readonly #options: OpenIdClientOptions;
  #config: Promise<oidc.Configuration> | undefined;

  constructor(options: OpenIdClientOptions) {
    this.#options = options;
  }

  /** The client authentication method in use (for logs and the startup check). */
  get clientAuthMethod(): ClientAuth['method'] {
    return this.#options.clientAuth.method;
  }

  /**
   * The discovered openid-client configuration, for tests that call the AS directly. A failed
   * discovery is retried on the next call.
   */
  configuration(): Promise<oidc.Configuration> {
    if (!this.#config) {
      const { issuer, clientId, clientAuth, allowInsecureRequests, requestTimeoutSeconds } = this.#options;
      const timeout = requestTimeoutSeconds ?? 30;
      this.#config = oidc
        .discovery(new URL(issuer), clientId, undefined, clientAuth, {
          timeout,
          ...(allowInsecureRequests ? { execute: [oidc.allowInsecureRequests] } : {}),
        })
        .then((config) => {
          config.timeout = timeout;
          return config;
        });
      this.#config.catch(() => {
        this.#config = undefined;
      });
    }
    return this.#config;
  }

  /** The AS's metadata; a failed discovery throws what openid-client threw (see describeAsFailure). */
  async metadata(): Promise<AuthorizationServerMetadata> {
    return (await this.configuration()).serverMetadata();
  }

  async #call<T>(fn: (config: oidc.Configuration) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.configuration());
    } catch (err) {
      throw await toEndpointError(err);
    }
  }

  /** Fresh `state`, `nonce` and PKCE pair for one authorization request. */
  static async newAuthorizationRequest(): Promise<AuthorizationRequest> {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    return {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier,
      codeChallenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    };
  }

  /**
   * RFC 6749 §4.1.1: the authorization endpoint URL with `params` (repeated names, such as RFC 8707
   * `resource`, as a URLSearchParams). `client_id` and `response_type=code` are added.
   */
  authorizationUrl(params: URLSearchParams | Record<string, string>): Promise<URL> {
    return this.#call(async (config) => oidc.buildAuthorizationUrl(config, params));
  }

  /**
   * RFC 6749 §4.1.3: redeems the code of the authorization response at `currentUrl` (the callback
   * URL as received), checking `state` (RFC 9700 §4.7), the PKCE verifier and the ID token's `nonce`.
   */
  codeGrant(
    currentUrl: URL,
    checks: Pick<AuthorizationRequest, 'codeVerifier' | 'state' | 'nonce'>,
  ): Promise<CodeGrantResult> {
    return this.#call(async (config) => {
      const result = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
      });
      return {
        access_token: result.access_token,
        refresh_token: result.refresh_token,
        expires_in: result.expires_in,
        scope: result.scope,
        id_token: result.id_token,
        claims: { ...(result.claims() ?? {}) },
      };
    });
  }

  /** OIDC Core §5.3: the userinfo claims for `sub` (§5.3.2: a response about another subject is refused). */
  userinfo(accessToken: string, sub: string): Promise<Record<string, unknown>> {
    return this.#call(async (config) => ({ ...(await oidc.fetchUserInfo(config, accessToken, sub)) }));
  }

  /**
   * OIDC RP-Initiated Logout 1.0 §2: the AS's end-session URL with `params`. An AS whose metadata has
   * no `end_session_endpoint` throws `TemporarilyUnavailable` (reason `unsupported`, see describeAsFailure).
   */
  endSessionUrl(params: Record<string, string>): Promise<URL> {
    return this.#call(async (config) => oidc.buildEndSessionUrl(config, params));
  }

  refresh(refreshToken: string, request: { resources: string[]; scope?: string | undefined }): Promise<GrantResult> {
    const params = new URLSearchParams();
    for (const resource of request.resources) params.append('resource', resource);
    if (request.scope) params.set('scope', request.scope);
    return this.#call((config) => oidc.refreshTokenGrant(config, refreshToken, params));
  }

  exchange(subjectToken: string, request: { resource: string; scope: string }): Promise<GrantResult> {
    return this.#call((config) =>
      oidc.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, {
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN_TYPE,
        requested_token_type: ACCESS_TOKEN_TYPE,
        resource: request.resource,
        scope: request.scope,
      }),
    );
  }

  async revokeRefreshToken(refreshToken: string): Promise<Revocation> {
    try {
      await this.#call((config) => oidc.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' }));
      return { revoked: true };
    } catch (err) {
      if (err instanceof AuthorizationServerError) {
        return { revoked: false, reason: 'refused', description: `${err.error}: ${err.error_description ?? ''}` };
      }
      // A TemporarilyUnavailable (toEndpointError) is described as the fault it stands for.
      const failure = describeAsFailure(err);
      return { revoked: false, reason: failure.reason, description: failure.description, detail: failure.detail };
    }
  }
}
