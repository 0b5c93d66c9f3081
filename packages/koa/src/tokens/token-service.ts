/**
 * The default token source of bff-token: TMI-BFF-01 §4 steps 3–5 (TMI-17).
 * 1. a suitable cached token (exact resource and scope sets, outside the expiry margin) → served;
 * 2. otherwise a refresh token is spent at the AS (refresh, or refresh + token exchange, D9);
 * 3. no refresh token, or none covering the resource → backend_not_ready (TMI-27).
 *
 * Concurrency (D10): callers asking for the same (session, resources, scopes) share one AS request;
 * all AS requests of one session run one at a time under the store's lock, so a rotating refresh
 * token is never presented twice. An AS slower than `asTimeoutMs` gets the caller a
 * `temporarily_unavailable`, while the request itself runs to completion under the lock and its
 * rotated refresh token is stored: nothing is lost (D6).
 *
 * Walkthrough: docs/walkthrough/03-bff-token.md.
 */
import type { KeyValueStore } from '@tmi-bff/store';
import { AuthorizationServerError, BackendNotReady, ScopeNotNarrowed, TemporarilyUnavailable } from '../errors.js';
import type { AuthorizationServer, GrantResult, Revocation } from './authorization-server.js';
import { cacheKey, scopeSet } from './cache-key.js';
import { grantRecord, noRefreshToken, retireGrant, revokeRefreshToken } from './grant-records.js';
import type { BffSession, GrantInput, HeldToken, StoredGrant, TokenOutcome, TokenRequest } from './types.js';

export type DownscopingStrategy = 'refresh' | 'exchange';

export interface TokenServiceOptions {
  store: KeyValueStore;
  authorizationServer: AuthorizationServer;
  /** D9: how a narrower token is obtained. Default: 'refresh'. */
  strategy?: DownscopingStrategy;
  /** D8: a cached token is not served within this many seconds of its expiry. Default: 30. */
  expiryMarginSeconds?: number;
  /** D6: how long a caller waits for the AS before `temporarily_unavailable`, in ms. Default: 5000. */
  asTimeoutMs?: number;
  /** TMI-15: the resource used when a request names none. Default: none (the AS decides). */
  defaultResource?: string | undefined;
  /** Lifetime assumed when the AS omits `expires_in`, in seconds. Default: 60. */
  assumedLifetimeSeconds?: number;
  /** Clock, for tests. Default: Date.now. */
  now?: () => number;
  /** Told of every token obtained or served, for logs and the flow inspector. */
  onToken?: (event: { sessionId: string; request: TokenRequest; source: TokenOutcome['source'] }) => void;
  /**
   * Told when the AS misbehaves in a way the backend works around or refuses (e.g. a broader
   * token), and what became of each refresh token the backend stopped using (`grant.revoked (why)`,
   * `grant.revocation_failed (why): …`, `grant.superseded (why): …`: a sentence, with empty `data`).
   */
  log?: (event: string, data: Record<string, unknown>) => void;
}

export const grantKey = (sessionId: string) => `grant:${sessionId}`;

export class TokenService {
  readonly #store: KeyValueStore;
  readonly #as: AuthorizationServer;
  readonly #strategy: DownscopingStrategy;
  readonly #marginMs: number;
  readonly #timeoutMs: number;
  readonly #defaultResource: string | undefined;
  readonly #assumedLifetimeMs: number;
  readonly #now: () => number;
  readonly #onToken: TokenServiceOptions['onToken'];
  readonly #log: NonNullable<TokenServiceOptions['log']>;
  readonly #inflight = new Map<string, Promise<TokenOutcome>>();

  constructor(options: TokenServiceOptions) {
    this.#store = options.store;
    this.#as = options.authorizationServer;
    this.#strategy = options.strategy ?? 'refresh';
    this.#marginMs = (options.expiryMarginSeconds ?? 30) * 1000;
    this.#timeoutMs = options.asTimeoutMs ?? 5000;
    this.#defaultResource = options.defaultResource;
    this.#assumedLifetimeMs = (options.assumedLifetimeSeconds ?? 60) * 1000;
    this.#now = options.now ?? Date.now;
    this.#onToken = options.onToken;
    this.#log = options.log ?? (() => {});
  }

  get strategy(): DownscopingStrategy {
    return this.#strategy;
  }

  /** Seconds left on a token, never less than 1 (TMI-19: the remaining lifetime). */
  expiresIn(token: HeldToken): number {
    return Math.max(1, Math.floor((token.expires_at - this.#now()) / 1000));
  }

  /**
   * Sign-in: the grant record of a new session, ending with it after `ttlMs`. A missing refresh
   * token is recorded as `not_issued` (the AS's configuration), so bff-token can say what helps.
   */
  async startGrant(sessionId: string, input: GrantInput, ttlMs: number): Promise<void> {
    await this.#store.withLock(grantKey(sessionId), () =>
      this.#put(grantKey(sessionId), grantRecord(input, this.#endsAt(ttlMs))),
    );
  }

  /**
   * Consent (D13): the session's grant grows to what `input` asked for. An AS may issue no new
   * refresh token with consent: the previous one then still serves. A replaced refresh token is
   * retired (`retireGrant`, grant-records.ts). Returns the AS session the record now carries.
   */
  async widenGrant(sessionId: string, input: GrantInput, ttlMs: number): Promise<{ asSession?: string }> {
    const key = grantKey(sessionId);
    const { previous, grown } = await this.#store.withLock(key, async () => {
      const previous = await this.#store.get<StoredGrant>(key);
      const grown = grantRecord(
        {
          ...input,
          refreshToken: input.refreshToken ?? previous?.refresh_token,
          asSession: input.asSession ?? previous?.as_session,
        },
        this.#endsAt(ttlMs),
      );
      await this.#put(key, grown);
      return { previous, grown };
    });
    await this.#retire(previous, 'replaced by consent', grown);
    return grown.as_session ? { asSession: grown.as_session } : {};
  }

  /**
   * The session's grant ends (sign-out, a new sign-in, back-channel logout): the record is deleted,
   * then its refresh token revoked at the AS (RFC 7009), unless the grant of `successor` (the
   * session that replaces it) carries the same AS session. Returns what the ended record said of
   * its AS session, or undefined when there was no record.
   */
  async endGrant(
    sessionId: string,
    end: { why: string; successor?: string | undefined },
  ): Promise<{ asSession?: string } | undefined> {
    const key = grantKey(sessionId);
    const grant = await this.#store.withLock(key, async () => {
      const found = await this.#store.get<StoredGrant>(key);
      if (found) await this.#store.delete(key);
      return found;
    });
    if (!grant) return undefined;
    const successor = end.successor ? await this.getGrant(end.successor) : undefined;
    await this.#retire(grant, end.why, successor);
    return grant.as_session ? { asSession: grant.as_session } : {};
  }

  /**
   * A grant obtained but not kept (a callback that changes nothing) is revoked, unless it is the
   * grant the session `keptBy` already holds.
   */
  async discardGrant(input: GrantInput, why: string, keptBy?: string): Promise<void> {
    const kept = keptBy ? await this.getGrant(keptBy) : undefined;
    await this.#retire(grantRecord(input), why, kept);
  }

  /**
   * The store dropped an expired grant record (`onExpired` of the store): its session ended, and
   * its refresh token is revoked, unless `carriedElsewhere` says a newer session carries the same
   * AS session (and so, at many ASes, the same grant).
   */
  async grantExpired(record: unknown, carriedElsewhere: (asSession: string) => Promise<boolean>): Promise<void> {
    const grant = record as StoredGrant | undefined;
    if (typeof grant?.refresh_token !== 'string') return;
    if (grant.as_session && (await carriedElsewhere(grant.as_session))) {
      this.#note('grant.superseded (session expired): a newer session carries the same AS session; not revoked');
      return;
    }
    await revokeRefreshToken(this.#as, (line) => this.#note(line), grant.refresh_token, 'session expired');
  }

  /** Whether the session has a grant record (a session without one has ended). */
  async hasGrant(sessionId: string): Promise<boolean> {
    return (await this.getGrant(sessionId)) !== undefined;
  }

  /**
   * Why no token can be had for this session without the user, whatever the request (no refresh
   * token: never issued, or died), as bff-token would answer it; undefined while one is held.
   * bff-sessioninfo shows it, so the app learns before it asks (D13).
   */
  async unavailable(sessionId: string): Promise<BackendNotReady | undefined> {
    const grant = await this.getGrant(sessionId);
    return grant && !grant.refresh_token ? noRefreshToken(grant) : undefined;
  }

  /** The AS session a session's grant rode on, if known. */
  async asSessionOf(sessionId: string): Promise<string | undefined> {
    return (await this.getGrant(sessionId))?.as_session;
  }

  /** The grant record of a session, read-only (for inspection and tests; write through the methods above). */
  getGrant(sessionId: string): Promise<Readonly<StoredGrant> | undefined> {
    return this.#store.get<StoredGrant>(grantKey(sessionId));
  }

  /** Development knob: every cached access token of the session expires now. Returns how many, or undefined without a grant. */
  async expireCachedTokens(sessionId: string): Promise<number | undefined> {
    const key = grantKey(sessionId);
    return this.#store.withLock(key, async () => {
      const grant = await this.#store.get<StoredGrant>(key);
      if (!grant) return undefined;
      const held = Object.values(grant.tokens);
      for (const token of held) token.expires_at = Math.min(token.expires_at, this.#now());
      await this.#put(key, grant);
      return held.length;
    });
  }

  /** Development knob: the grant record now ends in `ttlMs` (with its session). False without a grant. */
  async setGrantLifetime(sessionId: string, ttlMs: number): Promise<boolean> {
    const key = grantKey(sessionId);
    return this.#store.withLock(key, async () => {
      const grant = await this.#store.get<StoredGrant>(key);
      if (!grant) return false;
      grant.ends_at = this.#now() + Math.max(1, ttlMs);
      await this.#put(key, grant);
      return true;
    });
  }

  /**
   * Development knob: RFC 7009 revocation of the session's refresh token at the AS, keeping it
   * here, so the next refresh meets the AS's `invalid_grant`. Undefined when there is none.
   */
  async revokeAtAs(sessionId: string): Promise<Revocation | undefined> {
    const refreshToken = (await this.getGrant(sessionId))?.refresh_token;
    return refreshToken ? this.#as.revokeRefreshToken(refreshToken) : undefined;
  }

  /** Writes a grant record, keeping the expiry it was saved with (the session's end). */
  #put(storeKey: string, grant: StoredGrant): Promise<void> {
    const ttlMs = grant.ends_at === undefined ? undefined : Math.max(1, grant.ends_at - this.#now());
    return this.#store.set(storeKey, grant, ttlMs);
  }

  #endsAt(ttlMs: number): number {
    return this.#now() + ttlMs;
  }

  /** A log line that is a sentence of its own. */
  #note(line: string): void {
    this.#log(line, {});
  }

  /** A grant the backend stops using, replaced by `successor` if anything (grant-records.ts). */
  #retire(grant: StoredGrant | undefined, why: string, successor?: StoredGrant): Promise<void> {
    return retireGrant(this.#as, (line) => this.#note(line), grant, why, successor);
  }

  /** TMI-BFF-01 §4 (TMI-17): a token for the request, from the cache or from the AS. */
  // #region walkthrough:get-token
  async getToken(session: BffSession, input: TokenRequest): Promise<TokenOutcome> {
    const request = this.#withDefaults(input);
    const key = cacheKey(request.resources, request.scopes);
    if (!request.fresh) {
      const hit = this.#cached(await this.getGrant(session.id), key);
      if (hit) return this.#told(session, request, { token: hit, source: 'cache' });
    }
    const flightKey = `${session.id}\n${key}\n${request.fresh}`;
    let flight = this.#inflight.get(flightKey);
    if (!flight) {
      flight = this.#obtain(session, request, key).finally(() => this.#inflight.delete(flightKey));
      this.#inflight.set(flightKey, flight);
    }
    return this.#told(session, request, await this.#withinTimeout(flight));
  }
  // #endregion

  #told(session: BffSession, request: TokenRequest, outcome: TokenOutcome): TokenOutcome {
    this.#onToken?.({ sessionId: session.id, request, source: outcome.source });
    return outcome;
  }

  #withDefaults(request: TokenRequest): TokenRequest {
    if (request.resources.length > 0 || !this.#defaultResource) return request;
    return { ...request, resources: [this.#defaultResource] };
  }

  /** D8: only an exact key match, and only outside the expiry margin. */
  #cached(grant: StoredGrant | undefined, key: string): HeldToken | undefined {
    const token = grant?.tokens[key];
    return token && token.expires_at - this.#now() > this.#marginMs ? token : undefined;
  }

  /** D6: the caller waits at most `asTimeoutMs`; the flight itself goes on and is stored. */
  #withinTimeout(flight: Promise<TokenOutcome>): Promise<TokenOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      const detail = `timeout: no answer from the AS within ${this.#timeoutMs} ms (asTimeoutMs); it goes on and is kept`;
      timer = setTimeout(() => reject(new TemporarilyUnavailable(undefined, { detail })), this.#timeoutMs);
      timer.unref();
    });
    flight.catch(() => {}); // settled later, possibly after the caller gave up
    return Promise.race([flight, late]).finally(() => clearTimeout(timer));
  }

  // #region walkthrough:obtain
  #obtain(session: BffSession, request: TokenRequest, key: string): Promise<TokenOutcome> {
    const storeKey = grantKey(session.id);
    return this.#store.withLock(storeKey, async () => {
      // Read again under the lock: another request may have refreshed meanwhile.
      const grant = await this.#store.get<StoredGrant>(storeKey);
      if (!request.fresh) {
        const hit = this.#cached(grant, key);
        if (hit) return { token: hit, source: 'cache' as const };
      }
      // TMI-BFF-01 §4.3.2 (TMI-27): no artifact to get a token without the user.
      if (!grant?.refresh_token) throw noRefreshToken(grant);
      const uncovered = request.resources.filter((r) => !grant.resources.includes(r));
      if (uncovered.length > 0) {
        throw new BackendNotReady(
          `the sign-in did not ask for ${uncovered.join(' ')}: the user must consent to it first`,
          { remediation: 'consent' },
        );
      }
      const outcome =
        this.#strategy === 'exchange' && request.scopes.length > 0 && request.resources.length === 1
          ? await this.#exchange(storeKey, grant, request)
          : await this.#refresh(storeKey, grant, request);
      const broader = this.#beyondRequest(outcome.token, request);
      this.#remember(grant, outcome.token, broader.length > 0 ? undefined : key);
      await this.#put(storeKey, grant);
      if (broader.length > 0) {
        // TMI-BFF-01 §8.3 (TMI-24): never a token with more scope than asked for, even from the AS.
        this.#log('tokens.scope_not_narrowed', {
          resources: request.resources,
          requested: request.scopes.join(' '),
          issued: outcome.token.scope,
          strategy: outcome.source,
        });
        throw new ScopeNotNarrowed(request.scopes, broader);
      }
      return outcome;
    });
  }
  // #endregion

  #held(result: GrantResult, request: Pick<TokenRequest, 'resources' | 'scopes'>, fallbackScope: string): HeldToken {
    const lifetimeMs = result.expires_in !== undefined ? result.expires_in * 1000 : this.#assumedLifetimeMs;
    return {
      access_token: result.access_token,
      // RFC 6749 §5.1: an omitted scope is the requested one.
      scope: scopeSet(result.scope ?? (request.scopes.join(' ') || fallbackScope)).join(' '),
      resources: request.resources,
      expires_at: this.#now() + lifetimeMs,
    };
  }

  /** Scopes of `token` the request did not ask for (none when it asked for no scope in particular). */
  #beyondRequest(token: HeldToken, request: TokenRequest): string[] {
    if (request.scopes.length === 0) return [];
    const asked = new Set(request.scopes);
    return scopeSet(token.scope).filter((s) => !asked.has(s));
  }

  /**
   * D8: a token answers the request it was obtained for (`requestKey`: the same `cacheKey` the
   * lookup uses) and, when its actual scope differs, a request for exactly that scope too.
   */
  #remember(grant: StoredGrant, token: HeldToken, requestKey: string | undefined): void {
    const now = this.#now();
    for (const [k, t] of Object.entries(grant.tokens)) if (t.expires_at <= now) delete grant.tokens[k];
    if (requestKey) grant.tokens[requestKey] = token;
    grant.tokens[cacheKey(token.resources, scopeSet(token.scope))] = token;
  }

  /** D9 'refresh': RFC 6749 §6 with RFC 8707 resources and the (narrower) scope. */
  async #refresh(storeKey: string, grant: StoredGrant, request: TokenRequest): Promise<TokenOutcome> {
    const refreshToken = grant.refresh_token ?? '';
    let result: GrantResult;
    try {
      result = await this.#as.refresh(refreshToken, {
        resources: request.resources,
        scope: request.scopes.join(' ') || undefined,
      });
    } catch (err) {
      // invalid_grant: the refresh token is dead (expired, revoked, reused). Forget it, so the next
      // request answers backend_not_ready instead of asking the AS again.
      if (err instanceof AuthorizationServerError && err.error === 'invalid_grant') {
        delete grant.refresh_token;
        grant.refresh_token_missing = 'invalid_grant';
        await this.#put(storeKey, grant);
      }
      throw err;
    }
    // RFC 9700 §4.14.2: the AS rotated the refresh token; keep the new one before anything else.
    if (result.refresh_token) {
      grant.refresh_token = result.refresh_token;
      await this.#put(storeKey, grant);
    }
    return { token: this.#held(result, request, grant.scope), source: 'refresh' };
  }

  /** D9 'exchange': RFC 8693 exchange of a broader token held for the same resource. */
  async #exchange(storeKey: string, grant: StoredGrant, request: TokenRequest): Promise<TokenOutcome> {
    const wanted = new Set(request.scopes);
    const now = this.#now();
    let broad = Object.values(grant.tokens).find(
      (t) =>
        t.resources.length === 1 &&
        t.resources[0] === request.resources[0] &&
        t.expires_at - now > this.#marginMs &&
        [...wanted].every((s) => t.scope.split(' ').includes(s)),
    );
    if (!broad) {
      const full = await this.#refresh(storeKey, grant, { ...request, scopes: [] });
      broad = full.token;
      this.#remember(grant, broad, cacheKey(request.resources, []));
    }
    if (scopeSet(broad.scope).join(' ') === request.scopes.join(' ')) return { token: broad, source: 'refresh' };
    const result = await this.#as.exchange(broad.access_token, {
      resource: request.resources[0] ?? '',
      scope: request.scopes.join(' '),
    });
    return { token: this.#held(result, request, request.scopes.join(' ')), source: 'exchange' };
  }
}
