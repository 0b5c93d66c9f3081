/**
 * The grant records: what the backend keeps per session to get tokens without the user, and the
 * rules of a record's life. Sign-in starts one, consent widens it, sign-out (or a new sign-in, or
 * back-channel logout) ends it, the store's expiry drops it; a refresh token the backend stops using
 * is revoked at the AS (RFC 7009), except one superseded within the same AS session.
 *
 * Walkthrough: docs/walkthrough/04-logout.md; docs/security.md ("Revoking what the backend stops using").
 */
import type { KeyValueStore } from '@tmi-bff/store';
import { BackendNotReady } from '../errors.js';
import type { AuthorizationServer } from './authorization-server.js';
import type { GrantInput, StoredGrant } from './types.js';

export const grantKey = (sessionId: string) => `grant:${sessionId}`;

/** A new record for what sign-in (or consent) obtained; without a refresh token, it says none was issued. */
export function grantRecord(input: GrantInput, endsAt?: number): StoredGrant {
  return {
    ...(input.refreshToken ? { refresh_token: input.refreshToken } : { refresh_token_missing: 'not_issued' }),
    resources: input.resources,
    scope: input.scope,
    tokens: {},
    ...(input.asSession ? { as_session: input.asSession } : {}),
    ...(endsAt === undefined ? {} : { ends_at: endsAt }),
  };
}

/**
 * TMI-BFF-01 §4.3.2 (TMI-27), D13: backend_not_ready for a grant without a refresh token, with what
 * helps: nothing the user can do when the AS issued none at sign-in (its configuration), a new
 * sign-in when it died.
 */
export function noRefreshToken(grant: Readonly<StoredGrant> | undefined): BackendNotReady {
  if (grant?.refresh_token_missing === 'not_issued') {
    return new BackendNotReady(
      'the authorization server issued no refresh token at sign-in: the backend cannot get tokens for this session (see the backend log: auth.no_refresh_token)',
      { remediation: 'configuration' },
    );
  }
  return new BackendNotReady('this session holds no refresh token: sign in again to get one', {
    remediation: 'sign_in',
  });
}

/** RFC 7009: revokes a refresh token at the AS and logs what became of it. Never throws. */
export async function revokeRefreshToken(
  as: AuthorizationServer,
  log: (line: string) => void,
  refreshToken: string,
  why: string,
): Promise<void> {
  const outcome = await as.revokeRefreshToken(refreshToken);
  log(
    outcome.revoked
      ? `grant.revoked (${why})`
      : `grant.revocation_failed (${why}): ${outcome.reason}: ${outcome.description}${outcome.detail ? ` [${outcome.detail}]` : ''}`,
  );
}

/**
 * A grant the backend stops using; `successor` is what replaces it, if anything. Its refresh token
 * is revoked, with one exception: sign-ins in one AS session share one grant at many ASes
 * (oidc-provider, Keycloak), and revoking a refresh token there revokes the whole grant (RFC 7009
 * §2.1 allows it), the successor's refresh token with it. So a refresh token superseded within the
 * same AS session is not revoked: it ends with that grant, at sign-out or at the session's expiry.
 */
export async function retireGrant(
  as: AuthorizationServer,
  log: (line: string) => void,
  grant: Readonly<StoredGrant> | undefined,
  why: string,
  successor?: Readonly<StoredGrant>,
): Promise<void> {
  if (!grant?.refresh_token || grant.refresh_token === successor?.refresh_token) return;
  if (grant.as_session !== undefined && grant.as_session === successor?.as_session) {
    log(`grant.superseded (${why}): same AS session, so the same grant; not revoked`);
    return;
  }
  await revokeRefreshToken(as, log, grant.refresh_token, why);
}

export interface GrantStoreOptions {
  store: KeyValueStore;
  authorizationServer: AuthorizationServer;
  now: () => number;
  /** A log line that is a sentence of its own (what became of a refresh token). */
  note: (line: string) => void;
  /** The AS as seen for one session's requests (token-service.ts `onAs`). Default: `authorizationServer`. */
  asFor?: (sessionId: string) => AuthorizationServer;
}

/** The grant records in the store, one per session under `grantKey`, each expiring with its session. */
export class GrantStore {
  readonly #store: KeyValueStore;
  readonly #as: AuthorizationServer;
  readonly #now: () => number;
  readonly #note: (line: string) => void;
  readonly #asFor: (sessionId: string | undefined) => AuthorizationServer;

  constructor(options: GrantStoreOptions) {
    this.#store = options.store;
    this.#as = options.authorizationServer;
    this.#now = options.now;
    this.#note = options.note;
    const { asFor } = options;
    this.#asFor = (sessionId) => (asFor && sessionId !== undefined ? asFor(sessionId) : this.#as);
  }

  /** The session's record, or undefined. Read-only, and not copied: to change it, take `copy`. */
  get(sessionId: string): Promise<Readonly<StoredGrant> | undefined> {
    return this.#store.get<StoredGrant>(grantKey(sessionId));
  }

  /** A copy of the session's record to change and `put` back, or undefined. */
  async copy(sessionId: string): Promise<StoredGrant | undefined> {
    const grant = await this.get(sessionId);
    return grant && structuredClone(grant);
  }

  /** Writes a record, keeping the expiry it was saved with (the session's end). */
  put(sessionId: string, grant: StoredGrant): Promise<void> {
    const ttlMs = grant.ends_at === undefined ? undefined : Math.max(1, grant.ends_at - this.#now());
    return this.#store.set(grantKey(sessionId), grant, ttlMs);
  }

  /** Runs `fn` holding the session's lock (`KeyValueStore.withLock`), for at most `leaseMs`. */
  withLock<T>(sessionId: string, fn: () => Promise<T>, leaseMs?: number): Promise<T> {
    return this.#store.withLock(grantKey(sessionId), fn, leaseMs === undefined ? undefined : { leaseMs });
  }

  /** Under the session's lock: reads the record, lets `change` edit it, saves it. Undefined without a record. */
  update<T>(sessionId: string, change: (grant: StoredGrant) => T): Promise<T | undefined> {
    return this.withLock(sessionId, async () => {
      const grant = await this.copy(sessionId);
      if (!grant) return undefined;
      const result = change(grant);
      await this.put(sessionId, grant);
      return result;
    });
  }

  /** Sign-in: the record of a new session, ending with it after `ttlMs`. */
  start(sessionId: string, input: GrantInput, ttlMs: number): Promise<void> {
    return this.withLock(sessionId, () => this.put(sessionId, grantRecord(input, this.#now() + ttlMs)));
  }

  /** Consent (D13): the record grows to `input`; a refresh token or AS session it lacks is kept. */
  async widen(sessionId: string, input: GrantInput, ttlMs: number): Promise<{ asSession?: string }> {
    const { previous, grown } = await this.withLock(sessionId, async () => {
      const previous = await this.get(sessionId);
      const grown = grantRecord(
        {
          ...input,
          refreshToken: input.refreshToken ?? previous?.refresh_token,
          asSession: input.asSession ?? previous?.as_session,
        },
        this.#now() + ttlMs,
      );
      await this.put(sessionId, grown);
      return { previous, grown };
    });
    await this.retire(previous, 'replaced by consent', grown, sessionId);
    return grown.as_session ? { asSession: grown.as_session } : {};
  }

  /** The record is deleted, then retired in favour of `successor`'s. Undefined when there was none. */
  async end(
    sessionId: string,
    end: { why: string; successor?: string | undefined },
  ): Promise<{ asSession?: string } | undefined> {
    const grant = await this.withLock(sessionId, async () => {
      const found = await this.get(sessionId);
      if (found) await this.#store.delete(grantKey(sessionId));
      return found;
    });
    if (!grant) return undefined;
    const successor = end.successor ? await this.get(end.successor) : undefined;
    await this.retire(grant, end.why, successor, sessionId);
    return grant.as_session ? { asSession: grant.as_session } : {};
  }

  /** A record the store dropped at its expiry: revoked, unless `carriedElsewhere` says a newer session carries its AS session. */
  async expired(record: unknown, carriedElsewhere: (asSession: string) => Promise<boolean>): Promise<void> {
    const grant = record as StoredGrant | undefined;
    if (typeof grant?.refresh_token !== 'string') return;
    if (grant.as_session && (await carriedElsewhere(grant.as_session))) {
      this.#note('grant.superseded (session expired): a newer session carries the same AS session; not revoked');
      return;
    }
    await revokeRefreshToken(this.#as, this.#note, grant.refresh_token, 'session expired');
  }

  /** A grant the backend stops using (of `sessionId`, when known), replaced by `successor` if anything (`retireGrant`). */
  retire(
    grant: Readonly<StoredGrant> | undefined,
    why: string,
    successor?: Readonly<StoredGrant>,
    sessionId?: string,
  ): Promise<void> {
    return retireGrant(this.#asFor(sessionId), this.#note, grant, why, successor);
  }
}
