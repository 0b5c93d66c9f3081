/**
 * D8: the token cache. Each session's grant record holds its access tokens by `cacheKey` (sorted
 * resource set, sorted scope set). Only an exact key match is served, and only outside the expiry
 * margin; a token answers the request it was obtained for and, under its own key, a request for
 * exactly its actual scope. A token broader than its request is never served for it (TMI-BFF-01
 * §8.3, TMI-24).
 */
import type { GrantResult } from './authorization-server.js';
import { cacheKey, scopeSet } from './cache-key.js';
import type { HeldToken, StoredGrant, TokenRequest } from './types.js';

export interface TokenCacheOptions {
  /** Clock. */
  now: () => number;
  /** D8: a token is not served within this many ms of its expiry. */
  marginMs: number;
  /** Lifetime assumed when the AS omits `expires_in`, in ms. */
  assumedLifetimeMs: number;
}

export class TokenCache {
  readonly #now: () => number;
  readonly #marginMs: number;
  readonly #assumedLifetimeMs: number;

  constructor(options: TokenCacheOptions) {
    this.#now = options.now;
    this.#marginMs = options.marginMs;
    this.#assumedLifetimeMs = options.assumedLifetimeMs;
  }

  /** D8: only an exact key match, and only outside the expiry margin. */
  lookup(grant: Readonly<StoredGrant> | undefined, key: string): HeldToken | undefined {
    const token = grant?.tokens[key];
    return token && this.#fresh(token) ? token : undefined;
  }

  /**
   * A token held for exactly `resource` whose scope covers every one of `scopes`, outside the
   * expiry margin: the subject token of a D9 exchange.
   */
  covering(grant: Readonly<StoredGrant>, resource: string, scopes: readonly string[]): HeldToken | undefined {
    return Object.values(grant.tokens).find(
      (t) =>
        t.resources.length === 1 &&
        t.resources[0] === resource &&
        this.#fresh(t) &&
        scopes.every((s) => t.scope.split(' ').includes(s)),
    );
  }

  /**
   * D8: a token answers the request it was obtained for (`requestKey`: the same `cacheKey` the
   * lookup uses) and, when its actual scope differs, a request for exactly that scope too. Expired
   * tokens leave the record on the way.
   */
  remember(grant: StoredGrant, token: HeldToken, requestKey: string | undefined): void {
    const now = this.#now();
    for (const [k, t] of Object.entries(grant.tokens)) if (t.expires_at <= now) delete grant.tokens[k];
    if (requestKey) grant.tokens[requestKey] = token;
    grant.tokens[cacheKey(token.resources, scopeSet(token.scope))] = token;
  }

  /** Every cached token of the grant expires now (a development knob). Returns how many it held. */
  expireAll(grant: StoredGrant): number {
    const held = Object.values(grant.tokens);
    for (const token of held) token.expires_at = Math.min(token.expires_at, this.#now());
    return held.length;
  }

  /** The cache's clock, epoch ms: strategies note when a request leaves for the AS. */
  now(): number {
    return this.#now();
  }

  /**
   * The token an AS answer gives, for `request`; `fallbackScope` when the request named none. Its
   * lifetime counts from `askedAt`, when the request left for the AS, not from the answer's arrival:
   * TMI-BFF-01 §4.2 (TMI-19), expires_in never promises more than the AS gave.
   */
  held(
    result: GrantResult,
    request: Pick<TokenRequest, 'resources' | 'scopes'>,
    fallbackScope: string,
    askedAt: number,
  ): HeldToken {
    const lifetimeMs = result.expires_in !== undefined ? result.expires_in * 1000 : this.#assumedLifetimeMs;
    return {
      access_token: result.access_token,
      // RFC 6749 §5.1: an omitted scope is the requested one.
      scope: scopeSet(result.scope ?? (request.scopes.join(' ') || fallbackScope)).join(' '),
      resources: request.resources,
      expires_at: askedAt + lifetimeMs,
    };
  }

  #fresh(token: HeldToken): boolean {
    return token.expires_at - this.#now() > this.#marginMs;
  }
}

/**
 * TMI-BFF-01 §8.3 (TMI-24): scopes of `token` the request did not ask for (none when it asked for
 * no scope in particular).
 */
export function scopeBeyond(token: HeldToken, scopes: readonly string[]): string[] {
  if (scopes.length === 0) return [];
  const asked = new Set(scopes);
  return scopeSet(token.scope).filter((s) => !asked.has(s));
}
