/**
 * The reference for the cold paths: the AS requests bff-token wraps, POSTed straight to the mock
 * AS's token endpoint as the backend's own client (HTTP Basic, RFC 6749 §2.3.1), with a refresh
 * token of its own from a real sign-in.
 */
import { TOKEN_EXCHANGE } from '@tmi-bff/mock-as';
import { codeFlow } from '@tmi-bff/mock-as/testing';
import * as oidc from 'openid-client';

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
}

export class BareAs {
  #refreshToken: string;

  private constructor(
    readonly tokenEndpoint: string,
    readonly authorization: string,
    readonly resource: string,
    refreshToken: string,
  ) {
    this.#refreshToken = refreshToken;
  }

  /** Signs alice in with the client `world` names (BFF_CLIENT_ID…), redirecting to `redirectUri`. */
  static async signIn(issuer: string, world: Record<string, string>, redirectUri: string, resource: string) {
    const id = world.BFF_CLIENT_ID ?? '';
    const secret = world.BFF_CLIENT_SECRET ?? '';
    const config = await oidc.discovery(new URL(issuer), id, undefined, oidc.ClientSecretBasic(secret), {
      execute: [oidc.allowInsecureRequests],
    });
    const granted = await codeFlow(config, {
      redirectUri,
      scope: world.BFF_SCOPE ?? 'openid',
      resources: (world.BFF_RESOURCES ?? '').split(' ').filter(Boolean),
      tokenResource: resource,
      persona: 'alice',
    });
    const basic = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
    const endpoint = config.serverMetadata().token_endpoint ?? `${issuer}/token`;
    return new BareAs(endpoint, `Basic ${basic}`, resource, granted.refresh_token ?? '');
  }

  async #token(params: Record<string, string>): Promise<TokenResponse> {
    const res = await fetch(this.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: this.authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
    const body = (await res.json()) as TokenResponse;
    if (res.status !== 200) throw new Error(`the AS token endpoint answered ${res.status}: ${JSON.stringify(body)}`);
    return body;
  }

  /** RFC 6749 §6 with the RFC 8707 resource; a rotated refresh token replaces the old one. */
  async refresh(scope?: string): Promise<TokenResponse> {
    const body = await this.#token({
      grant_type: 'refresh_token',
      refresh_token: this.#refreshToken,
      resource: this.resource,
      ...(scope ? { scope } : {}),
    });
    if (body.refresh_token) this.#refreshToken = body.refresh_token;
    return body;
  }

  /** RFC 8693 §2.1: `subjectToken` (an access token for the resource) narrowed to `scope`. */
  exchange(subjectToken: string, scope: string): Promise<TokenResponse> {
    return this.#token({
      grant_type: TOKEN_EXCHANGE,
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: this.resource,
      scope,
    });
  }
}
