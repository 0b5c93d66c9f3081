/**
 * The backend's side of the authorization server: the grants that need no user (refresh, token
 * exchange) and revocation, as a confidential client (TMI-04). `openIdClientAuthorizationServer` is
 * the default implementation, on openid-client. Failures come out as the endpoints' errors:
 * an OAuth error answer → `AuthorizationServerError` (relayed, TMI-28); no usable answer →
 * `TemporarilyUnavailable` (D6).
 */
import * as oidc from 'openid-client';
import { AuthorizationServerError, TemporarilyUnavailable } from '../errors.js';
import { type AsFailure, describeAsFailure } from './as-failure.js';
import type { ClientAuth } from './client-auth.js';

/*
 * The RFC 8693 URNs, for every client of the AS (this package, and the demo APIs' exchange chain).
 * The mock AS keeps its own (mock-as/src/seed.ts, grants/token-exchange.ts): it stands alone and
 * must not depend on this package, nor this package on it.
 */
/** RFC 8693 §3 token type URI. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** RFC 8693 §2.1 grant type. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** The AS's metadata (RFC 8414, OpenID Connect Discovery 1.0 §3), as discovery returned it. */
export type AuthorizationServerMetadata = Readonly<oidc.ServerMetadata>;

/** A token endpoint answer, reduced to what the backend uses. */
export interface GrantResult {
  access_token: string;
  refresh_token?: string | undefined;
  expires_in?: number | undefined;
  scope?: string | undefined;
  id_token?: string | undefined;
}

export interface AuthorizationServer {
  /** RFC 6749 §6 refresh, with RFC 8707 `resource` values and an optional narrower `scope`. */
  refresh(refreshToken: string, request: { resources: string[]; scope?: string | undefined }): Promise<GrantResult>;
  /** RFC 8693 token exchange of an access token for one resource and scope. */
  exchange(subjectToken: string, request: { resource: string; scope: string }): Promise<GrantResult>;
  /** RFC 7009 revocation of a refresh token. Never throws: the outcome says why it did not happen. */
  revokeRefreshToken(refreshToken: string): Promise<Revocation>;
}

/**
 * What became of a revocation (RFC 7009 §2.2: the AS answers 200 for any token). `refused`: the
 * AS answered with an OAuth error; otherwise `reason` is why no answer came (D6).
 */
export type Revocation =
  | { revoked: true }
  | { revoked: false; reason: AsFailure['reason'] | 'refused'; description: string; detail?: string };

export interface OpenIdClientOptions {
  /** The issuer identifier; discovery happens on first use and is retried after a failure. */
  issuer: string;
  clientId: string;
  /** How the backend authenticates at the AS (`clientAuthFor`, client-auth.ts). */
  clientAuth: ClientAuth;
  /** Hard limit for one HTTP request to the AS, in seconds. Default: 30. */
  requestTimeoutSeconds?: number;
  /** Allow http:// (loopback development). Default: false. */
  allowInsecureRequests?: boolean;
}

/** Maps whatever openid-client threw to the endpoints' errors; each kind of fault keeps its own words. */
export async function toEndpointError(err: unknown): Promise<AuthorizationServerError | TemporarilyUnavailable> {
  if (err instanceof AuthorizationServerError || err instanceof TemporarilyUnavailable) return err;
  if (err instanceof oidc.ResponseBodyError) {
    return new AuthorizationServerError(err.error, err.error_description, { cause: err });
  }
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

/** A lazily discovered openid-client configuration, shared by the login routes and the token logic. */
export class OpenIdClient implements AuthorizationServer {
  readonly #options: OpenIdClientOptions;
  #config: Promise<oidc.Configuration> | undefined;

  constructor(options: OpenIdClientOptions) {
    this.#options = options;
  }

  /** The discovered configuration. A failed discovery is retried on the next call. */
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
      const failure = describeAsFailure((err as { cause?: unknown }).cause ?? err);
      return { revoked: false, reason: failure.reason, description: failure.description, detail: failure.detail };
    }
  }
}
