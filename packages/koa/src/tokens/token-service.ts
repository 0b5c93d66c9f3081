/**
 * The default token source of bff-token: TMI-BFF-01 §4 steps 3–5 (TMI-17).
 * 1. a suitable cached token (exact resource and scope sets, outside the expiry margin) → served
 *    (token-cache.ts);
 * 2. otherwise a refresh token is spent at the AS, by the configured strategy (D9,
 *    strategies/): a refresh, or a refresh and a token exchange;
 * 3. no refresh token, or none covering the resource → backend_not_ready (TMI-27).
 *
 * Concurrency (D10): callers asking for the same (session, resources, scopes) share one flight;
 * all flights of one session run one at a time under the store's lock, so a rotating refresh token
 * is never presented twice. An AS slower than `asTimeoutMs` gets the caller a
 * `temporarily_unavailable`, while the request itself runs to completion under the lock and its
 * rotated refresh token is stored: nothing is lost (D6). The lock's lease covers the AS requests
 * themselves (`asRequestTimeoutMs`), not the caller's wait.
 *
 * What `asTimeoutMs` counts (as-clock.ts): the flight's AS requests, and its wait for the session's
 * lock (whose holder may be waiting on a slow AS, here or in another instance: a caller queued
 * behind it times out at the same bound). Reads and writes of the store under the lock are not
 * counted: a slow store after the AS has answered still serves the token.
 *
 * The grant records (sign-in, consent, sign-out, expiry) are grant-store.ts's; the methods below
 * that touch them pass through.
 *
 * Walkthrough: docs/walkthrough/03-bff-token.md.
 */
import type { KeyValueStore } from '@tmi-bff/store';
import { AuthorizationServerError, BackendNotReady, ScopeNotNarrowed } from '../errors.js';
import { FlightClock } from './as-clock.js';
import type { AuthorizationServer, GrantResult, Revocation } from './authorization-server.js';
import { cacheKey } from './cache-key.js';
import { GrantStore, grantRecord, noRefreshToken } from './grant-store.js';
import { type DownscopeContext, type Downscoper, type DownscopingStrategy, downscopers } from './strategies/index.js';
import { scopeBeyond, TokenCache } from './token-cache.js';
import type { BffSession, GrantInput, HeldToken, StoredGrant, TokenOutcome, TokenRequest } from './types.js';

export { grantKey } from './grant-store.js';
export type { DownscopingStrategy } from './strategies/index.js';

/**
 * Time the store's writes may take under the session's lock, beyond the AS requests, when the lease
 * is reckoned: 10 s.
 */
export const LEASE_SLACK_MS = 10_000;

export interface TokenServiceOptions {
  store: KeyValueStore;
  authorizationServer: AuthorizationServer;
  /** D9: how a narrower token is obtained, a name in `downscopers` (strategies/index.ts). Default: 'refresh'. */
  strategy?: DownscopingStrategy;
  /** D8: a cached token is not served within this many seconds of its expiry. Default: 30. */
  expiryMarginSeconds?: number;
  /** D6: how long a caller waits for the AS before `temporarily_unavailable`, in ms. Default: 5000. */
  asTimeoutMs?: number;
  /**
   * The hard bound of one AS request, in ms: when the `AuthorizationServer` gives up on it
   * (`OpenIdClient`'s `requestTimeoutSeconds`, 30 s by default). The session's lock is leased for two
   * of them (a refresh, then an exchange) plus `LEASE_SLACK_MS`, so it never passes to another
   * flight while a request that spends the refresh token may still be answered. Default: 30 000.
   */
  asRequestTimeoutMs?: number;
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
  /**
   * Told of each request this service makes to the AS for a session (refresh, exchange, revocation),
   * with its duration and answer: for a development view of the flow. Default: none.
   */
  onAs?: (event: AsCall) => void;
}

/** One request to the AS on a session's behalf, as `onAs` is told of it. */
export interface AsCall {
  sessionId: string;
  kind: 'refresh' | 'exchange' | 'revocation';
  /** What was asked: RFC 8707 resources and the scope, where the request names them. */
  request: { resources?: string[]; scope?: string | undefined };
  durationMs: number;
  /** The AS's answer: a token response, a revocation's outcome, or the error thrown. */
  answer: { result: GrantResult } | { revocation: Revocation } | { error: unknown };
}

/** A token request with its defaults applied, and its cache key (D8). */
interface Prepared {
  request: TokenRequest;
  key: string;
}

export class TokenService {
  readonly #as: AuthorizationServer;
  readonly #grants: GrantStore;
  readonly #cache: TokenCache;
  readonly #strategy: DownscopingStrategy;
  readonly #downscoper: Downscoper;
  readonly #timeoutMs: number;
  readonly #leaseMs: number;
  readonly #defaultResource: string | undefined;
  readonly #now: () => number;
  readonly #onToken: TokenServiceOptions['onToken'];
  readonly #log: NonNullable<TokenServiceOptions['log']>;
  readonly #onAs: TokenServiceOptions['onAs'];
  readonly #inflight = new Map<string, { outcome: Promise<TokenOutcome>; clock: FlightClock }>();
  /** One read of a session's grant per request: the session check and the token lookup share it. */
  readonly #prepared = new WeakMap<TokenRequest, Prepared>();
  readonly #readIn = new WeakMap<object, { sessionId: string; grant: Promise<Readonly<StoredGrant> | undefined> }>();

  constructor(options: TokenServiceOptions) {
    this.#as = options.authorizationServer;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#grants = new GrantStore({
      store: options.store,
      authorizationServer: this.#as,
      now: this.#now,
      note: (line) => this.#log(line, {}),
      asFor: (sessionId) => this.#asFor(sessionId),
    });
    this.#cache = new TokenCache({
      now: this.#now,
      marginMs: (options.expiryMarginSeconds ?? 30) * 1000,
      assumedLifetimeMs: (options.assumedLifetimeSeconds ?? 60) * 1000,
    });
    this.#strategy = options.strategy ?? 'refresh';
    if (!Object.hasOwn(downscopers, this.#strategy)) {
      const names = Object.keys(downscopers).join('", "');
      throw Object.assign(
        new TypeError(`options.strategy must be one of "${names}", not ${JSON.stringify(this.#strategy)}`),
        {
          code: 'ERR_INVALID_ARG_VALUE',
        },
      );
    }
    this.#downscoper = downscopers[this.#strategy];
    this.#timeoutMs = options.asTimeoutMs ?? 5000;
    this.#leaseMs = 2 * (options.asRequestTimeoutMs ?? 30_000) + LEASE_SLACK_MS;
    this.#defaultResource = options.defaultResource;
    this.#onToken = options.onToken;
    this.#onAs = options.onAs;
  }

  /** The AS, with each request on `sessionId`'s behalf timed and told to `onAs` (when set). */
  #asFor(sessionId: string): AuthorizationServer {
    const as = this.#as;
    const onAs = this.#onAs;
    if (!onAs) return as;
    const now = () => performance.now();
    async function observed<T>(kind: AsCall['kind'], request: AsCall['request'], call: () => Promise<T>) {
      const started = now();
      const tell = (answer: AsCall['answer']) =>
        onAs?.({ sessionId, kind, request, durationMs: Math.max(0, now() - started), answer });
      try {
        const result = await call();
        tell(kind === 'revocation' ? { revocation: result as Revocation } : { result: result as GrantResult });
        return result;
      } catch (error) {
        tell({ error });
        throw error;
      }
    }
    return {
      refresh: (refreshToken, request) => observed('refresh', request, () => as.refresh(refreshToken, request)),
      exchange: (subjectToken, request) =>
        observed('exchange', { resources: [request.resource], scope: request.scope }, () =>
          as.exchange(subjectToken, request),
        ),
      revokeRefreshToken: (refreshToken) => observed('revocation', {}, () => as.revokeRefreshToken(refreshToken)),
    };
  }

  get strategy(): DownscopingStrategy {
    return this.#strategy;
  }

  /** Seconds left on a token, never less than 1 (TMI-19: the remaining lifetime). */
  expiresIn(token: HeldToken): number {
    return Math.max(1, Math.floor((token.expires_at - this.#now()) / 1000));
  }

  /**
   * TMI-BFF-01 §4 (TMI-17): a token for the request, from the cache or from the AS. `within` (the
   * request's context) lets the grant read by the session check serve the cache lookup too.
   */
  // #region walkthrough:get-token
  async getToken(session: BffSession, input: TokenRequest, within?: object): Promise<TokenOutcome> {
    const { request, key } = this.#prepare(input);
    if (!request.fresh) {
      const hit = this.#cache.lookup(await this.#read(session.id, within), key);
      if (hit) return this.#told(session, request, { token: hit, source: 'cache' });
    }
    const flightKey = `${session.id}\n${key}\n${request.fresh}`;
    let flight = this.#inflight.get(flightKey);
    if (!flight) {
      const clock = new FlightClock();
      const outcome = this.#obtain(session, request, key, clock).finally(() => this.#inflight.delete(flightKey));
      flight = { outcome, clock };
      this.#inflight.set(flightKey, flight);
    }
    return this.#told(session, request, await this.#withinTimeout(flight));
  }
  // #endregion

  // #region walkthrough:obtain
  #obtain(session: BffSession, request: TokenRequest, key: string, clock: FlightClock): Promise<TokenOutcome> {
    // D6: waiting for the lock counts (its holder may be waiting on a slow AS); the store work under it does not.
    clock.run();
    const flight = async (): Promise<TokenOutcome> => {
      clock.pause();
      // Read again under the lock: another request may have refreshed meanwhile.
      const grant = await this.#grants.copy(session.id);
      if (!request.fresh) {
        const hit = this.#cache.lookup(grant, key);
        if (hit) return { token: hit, source: 'cache' };
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
      // D9: the strategy asks the AS. A rotated refresh token is saved before the AS is asked again,
      // or with the token below, or before an error goes out: whichever comes first (see `#context`).
      const context = this.#context(session, grant, clock);
      let obtained: Awaited<ReturnType<Downscoper['obtain']>>;
      try {
        obtained = await this.#downscoper.obtain(request, context);
      } catch (err) {
        await context.saveRotated();
        throw err;
      }
      const { token, source } = obtained;
      for (const also of obtained.alsoObtained ?? []) this.#cache.remember(grant, also.token, also.requestKey);
      const broader = scopeBeyond(token, request.scopes);
      this.#cache.remember(grant, token, broader.length > 0 ? undefined : key);
      await this.#grants.put(session.id, grant);
      if (broader.length > 0) {
        // TMI-BFF-01 §8.3 (TMI-24): never a token with more scope than asked for, even from the AS.
        this.#log('tokens.scope_not_narrowed', {
          resources: request.resources,
          requested: request.scopes.join(' '),
          issued: token.scope,
          strategy: source,
        });
        throw new ScopeNotNarrowed(request.scopes, broader);
      }
      return { token, source };
    };
    return this.#grants.withLock(session.id, flight, this.#leaseMs);
  }
  // #endregion

  /**
   * What a strategy works with: the grant read-only, and the one way to spend its refresh token.
   * Every AS request runs with the flight's clock running (D6).
   *
   * RFC 9700 §4.14.2: a rotated refresh token is the only one that still works, so it is on disk
   * before the AS is asked anything else (which could hang or fail) and before the caller hears
   * back. Saving it with the flight's one save instead of right away costs a refresh one store write,
   * not two, and is as safe: nothing but local work runs in between (`saveRotated`).
   */
  #context(
    session: BffSession,
    grant: StoredGrant,
    clock: FlightClock,
  ): DownscopeContext & {
    saveRotated(): Promise<void>;
  } {
    const as = this.#asFor(session.id);
    let unsaved = false;
    const saveRotated = async () => {
      if (!unsaved) return;
      unsaved = false;
      await this.#grants.put(session.id, grant);
    };
    return {
      grant,
      as: {
        exchange: async (subjectToken, request) => {
          await saveRotated();
          return clock.timed(() => as.exchange(subjectToken, request));
        },
      },
      cache: this.#cache,
      spendRefreshToken: async (request) => {
        await saveRotated();
        const result = await this.#spendRefreshToken(session.id, grant, request, clock);
        unsaved = result.refresh_token !== undefined;
        return result;
      },
      saveRotated,
    };
  }

  /**
   * RFC 6749 §6. A dead refresh token is forgotten and saved at once; a rotated one is kept in the
   * grant, to be saved by the caller before anything else reaches the AS (`#context`).
   */
  async #spendRefreshToken(
    sessionId: string,
    grant: StoredGrant,
    request: { resources: string[]; scope?: string | undefined },
    clock: FlightClock,
  ): Promise<GrantResult> {
    let result: GrantResult;
    try {
      result = await clock.timed(() => this.#asFor(sessionId).refresh(grant.refresh_token ?? '', request));
    } catch (err) {
      // invalid_grant: the refresh token is dead (expired, revoked, reused). Forget it, so the next
      // request answers backend_not_ready instead of asking the AS again.
      if (err instanceof AuthorizationServerError && err.error === 'invalid_grant') {
        delete grant.refresh_token;
        grant.refresh_token_missing = 'invalid_grant';
        await this.#grants.put(sessionId, grant);
      }
      throw err;
    }
    // RFC 9700 §4.14.2: the AS rotated the refresh token; the new one replaces the spent one.
    if (result.refresh_token) grant.refresh_token = result.refresh_token;
    return result;
  }

  #told(session: BffSession, request: TokenRequest, outcome: TokenOutcome): TokenOutcome {
    this.#onToken?.({ sessionId: session.id, request, source: outcome.source });
    return outcome;
  }

  /**
   * The request with its defaults, and its cache key. A frozen request (bff-token parses each query
   * string once, frozen) keeps both: a repeated request computes neither again.
   */
  #prepare(input: TokenRequest): Prepared {
    const known = this.#prepared.get(input);
    if (known) return known;
    const request = this.#withDefaults(input);
    const prepared = { request, key: cacheKey(request.resources, request.scopes) };
    if (Object.isFrozen(input)) this.#prepared.set(input, prepared);
    return prepared;
  }

  #withDefaults(request: TokenRequest): TokenRequest {
    if (request.resources.length > 0 || !this.#defaultResource) return request;
    return { ...request, resources: [this.#defaultResource] };
  }

  /**
   * D6: the caller waits for the AS at most `asTimeoutMs` (the flight's clock, as-clock.ts); the
   * flight itself goes on and is stored.
   */
  async #withinTimeout(flight: { outcome: Promise<TokenOutcome>; clock: FlightClock }): Promise<TokenOutcome> {
    flight.outcome.catch(() => {}); // settled later, possibly after the caller gave up
    const mine = flight.clock.join(this.#timeoutMs);
    try {
      return await Promise.race([flight.outcome, mine.expired]);
    } finally {
      flight.clock.leave(mine);
    }
  }

  // The grant records (grant-store.ts).

  /**
   * Sign-in: the grant record of a new session, ending with it after `ttlMs`. A missing refresh
   * token is recorded as `not_issued` (the AS's configuration), so bff-token can say what helps.
   */
  startGrant(sessionId: string, input: GrantInput, ttlMs: number): Promise<void> {
    return this.#grants.start(sessionId, input, ttlMs);
  }

  /**
   * Consent (D13): the session's grant grows to what `input` asked for. An AS may issue no new
   * refresh token with consent: the previous one then still serves. A replaced refresh token is
   * retired (`retireGrant`). Returns the AS session the record now carries.
   */
  widenGrant(sessionId: string, input: GrantInput, ttlMs: number): Promise<{ asSession?: string }> {
    return this.#grants.widen(sessionId, input, ttlMs);
  }

  /**
   * The session's grant ends (sign-out, a new sign-in, back-channel logout): the record is deleted,
   * then its refresh token revoked at the AS (RFC 7009), unless the grant of `successor` (the
   * session that replaces it) carries the same AS session. Returns what the ended record said of
   * its AS session, or undefined when there was no record.
   */
  endGrant(sessionId: string, end: { why: string; successor?: string | undefined }) {
    return this.#grants.end(sessionId, end);
  }

  /**
   * A grant obtained but not kept (a callback that changes nothing) is revoked, unless it is the
   * grant the session `keptBy` already holds.
   */
  async discardGrant(input: GrantInput, why: string, keptBy?: string): Promise<void> {
    const kept = keptBy ? await this.#grants.get(keptBy) : undefined;
    await this.#grants.retire(grantRecord(input), why, kept);
  }

  /**
   * The store dropped an expired grant record (`onExpired` of the store): its session ended, and
   * its refresh token is revoked, unless `carriedElsewhere` says a newer session carries the same
   * AS session (and so, at many ASes, the same grant).
   */
  grantExpired(record: unknown, carriedElsewhere: (asSession: string) => Promise<boolean>): Promise<void> {
    return this.#grants.expired(record, carriedElsewhere);
  }

  /**
   * Whether the session has a grant record (a session without one has ended). With `within` (a
   * request's context), the record read is kept for that request's other reads (getToken,
   * unavailable): one store read per request. Only for requests that do not change the grant.
   */
  async hasGrant(sessionId: string, within?: object): Promise<boolean> {
    return (await this.#read(sessionId, within)) !== undefined;
  }

  /** The grant, read once per `within` (a request's context); frozen, shared by that request's reads. */
  #read(sessionId: string, within: object | undefined): Promise<Readonly<StoredGrant> | undefined> {
    if (!within) return this.#grants.get(sessionId);
    const kept = this.#readIn.get(within);
    if (kept?.sessionId === sessionId) return kept.grant;
    const grant = this.#grants.get(sessionId);
    this.#readIn.set(within, { sessionId, grant });
    return grant;
  }

  /**
   * Why no token can be had for this session without the user, whatever the request (no refresh
   * token: never issued, or died), as bff-token would answer it; undefined while one is held.
   * bff-sessioninfo shows it, so the app learns before it asks (D13).
   */
  async unavailable(sessionId: string, within?: object): Promise<BackendNotReady | undefined> {
    const grant = await this.#read(sessionId, within);
    return grant && !grant.refresh_token ? noRefreshToken(grant) : undefined;
  }

  /** The AS session a session's grant rode on, if known. */
  async asSessionOf(sessionId: string): Promise<string | undefined> {
    return (await this.getGrant(sessionId))?.as_session;
  }

  /** The grant record of a session, read-only (for inspection and tests; write through the methods above). */
  getGrant(sessionId: string): Promise<Readonly<StoredGrant> | undefined> {
    return this.#grants.get(sessionId);
  }

  /** Development knob: every cached access token of the session expires now. Returns how many, or undefined without a grant. */
  expireCachedTokens(sessionId: string): Promise<number | undefined> {
    return this.#grants.update(sessionId, (grant) => this.#cache.expireAll(grant));
  }

  /** Development knob: the grant record now ends in `ttlMs` (with its session). False without a grant. */
  async setGrantLifetime(sessionId: string, ttlMs: number): Promise<boolean> {
    const changed = await this.#grants.update(sessionId, (grant) => {
      grant.ends_at = this.#now() + Math.max(1, ttlMs);
      return true;
    });
    return changed ?? false;
  }

  /**
   * Development knob: RFC 7009 revocation of the session's refresh token at the AS, keeping it
   * here, so the next refresh meets the AS's `invalid_grant`. Undefined when there is none.
   */
  async revokeAtAs(sessionId: string): Promise<Revocation | undefined> {
    const refreshToken = (await this.getGrant(sessionId))?.refresh_token;
    return refreshToken ? this.#asFor(sessionId).revokeRefreshToken(refreshToken) : undefined;
  }
}
