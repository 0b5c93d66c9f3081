/**
 * One error hierarchy for both endpoints, and one serializer. Handlers only throw; the error handler
 * (shared/error-handler.ts) writes the response. Codes are the draft's where it defines them
 * (TMI-BFF-01 §4.3), RFC 6749 §5.2 otherwise.
 */

export interface ErrorBody {
  error: string;
  error_description?: string;
  /** With backend_not_ready only: what can give the backend what it lacks (D13). */
  remediation?: Remediation;
}

/**
 * D13: the remediation of a backend_not_ready, an extension member of its body (docs/deviations.md):
 * - `consent`: the grant does not cover the resource or scope: the app sends the user to
 *   `/auth/consent?resource=…&scope=…&returnTo=…`;
 * - `sign_in`: the refresh token is gone (expired, revoked, reused): the app sends the user to
 *   `/auth/login?returnTo=…`;
 * - `configuration`: the AS issues no refresh token to this backend as configured (e.g. no
 *   `offline_access` in its sign-in scope): no user action helps; the backend's log names the setting.
 */
export type Remediation = 'consent' | 'sign_in' | 'configuration';

export class TmiBffError extends Error {
  /** The wire code. */
  readonly error: string;
  /** HTTP status: 400 for every failure of the endpoints (TMI-BFF-01 §4.3, D6). */
  readonly status: number;
  /** Whether the code and description may be sent (Koa convention: status < 500). */
  readonly expose: boolean;
  /** Safe for the wire. */
  readonly error_description: string | undefined;
  /** For logs only, never serialized. */
  readonly error_detail: string | undefined;

  constructor(
    error: string,
    error_description?: string,
    options: { status?: number; detail?: string; cause?: unknown } = {},
  ) {
    super(error_description ? `${error}: ${error_description}` : error, { cause: options.cause });
    this.name = new.target.name;
    this.error = error;
    this.status = options.status ?? 400;
    this.expose = this.status < 500;
    this.error_description = error_description;
    this.error_detail = options.detail;
  }
}

/**
 * TMI-BFF-01 §4.3.1 (TMI-26): no valid authenticated session; also every CSRF refusal (D4).
 * @see https://datatracker.ietf.org/doc/html/draft-bertocci-oauth2-tmi-bff-01#section-4.3.1
 */
export class InvalidSession extends TmiBffError {
  constructor(description = 'no valid session: sign in first', options?: { detail?: string }) {
    super('invalid_session', description, options);
  }
}

/**
 * TMI-BFF-01 §4.3.2 (TMI-27): the backend lacks the artifacts to get a suitable token without
 * the user (no refresh token, or none covering the resource).
 * @see https://datatracker.ietf.org/doc/html/draft-bertocci-oauth2-tmi-bff-01#section-4.3.2
 */
export class BackendNotReady extends TmiBffError {
  readonly remediation: Remediation | undefined;

  constructor(description: string, options?: { detail?: string; remediation?: Remediation }) {
    super('backend_not_ready', description, options);
    this.remediation = options?.remediation;
  }
}

/**
 * TMI-BFF-01 §4.3.3 (TMI-28): the authorization server refused; its `error` and
 * `error_description` are relayed verbatim.
 * @see https://www.rfc-editor.org/rfc/rfc6749.html#section-5.2
 */
export class AuthorizationServerError extends TmiBffError {
  constructor(error: string, error_description: string | undefined, options?: { detail?: string; cause?: unknown }) {
    super(error, error_description, options);
  }
}

/**
 * TMI-BFF-01 §8.3 (TMI-24): the AS answered a narrowing request with a broader token (it ignores
 * `scope` on refresh, or widens it). That token is not handed out as if it were narrowed:
 * `invalid_scope` (RFC 6749 §5.2), naming what the AS added. See docs/deviations.md.
 */
export class ScopeNotNarrowed extends TmiBffError {
  constructor(requested: string[], added: string[]) {
    super(
      'invalid_scope',
      `the authorization server did not narrow the token to "${requested.join(' ')}" (it added "${added.join(' ')}"); a broader token is not handed out`,
    );
  }
}

/** RFC 6749 §5.2 `invalid_request` (an extension code for TMI-BFF, D3): e.g. a repeated `scope`. */
export class InvalidRequest extends TmiBffError {
  constructor(description: string) {
    super('invalid_request', description);
  }
}

/** D2: a method the endpoint does not serve: 405 with an `Allow` header. */
export class MethodNotAllowed extends TmiBffError {
  readonly allow: string[];
  constructor(allow: string[]) {
    super('invalid_request', `use ${allow.join(' or ')}`, { status: 405 });
    this.allow = allow;
  }
}

/**
 * D6 / TMI-29 (extension code): the authorization server is unreachable, too slow, or answered
 * something that is not OAuth. The session and its refresh token are kept.
 */
export class TemporarilyUnavailable extends TmiBffError {
  constructor(
    description = 'the authorization server did not answer in time; try again shortly',
    options?: { detail?: string; cause?: unknown },
  ) {
    super('temporarily_unavailable', description, options);
  }
}

/** A bug or an unexpected failure: 500, and nothing of it goes on the wire. */
export class ServerError extends TmiBffError {
  constructor(detail: string, cause?: unknown) {
    super('server_error', undefined, { status: 500, detail, cause });
  }
}

/** The one serializer: exposed errors as they are, anything else as a generic `server_error`. */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof TmiBffError && err.expose) {
    return {
      error: err.error,
      ...(err.error_description === undefined ? {} : { error_description: err.error_description }),
      ...(err instanceof BackendNotReady && err.remediation ? { remediation: err.remediation } : {}),
    };
  }
  return { error: 'server_error', error_description: 'the backend failed unexpectedly; see its log' };
}

/** The codes of the store's errors that mean "not now", not "broken" (@tmi-bff/store errors.ts), and what the client is told. */
const STORE_NOT_NOW = new Map([
  ['TMI_BFF_STORE_UNAVAILABLE', 'the session store did not answer; try again shortly'],
  ['TMI_BFF_STORE_LEASE_LOST', 'the session store did not answer; try again shortly'],
  ['TMI_BFF_STORE_WRITE_FAILED', 'the session store could not save; try again shortly'],
]);

/**
 * Any thrown value as a TmiBffError (unknown ones become ServerError). D6: a session store that
 * cannot be reached (Redis down) or cannot write (disk full, folder read-only) is
 * `temporarily_unavailable`, as an AS that cannot be: nothing stored is lost, and the same request
 * works once it is back.
 */
export function asTmiBffError(err: unknown): TmiBffError {
  if (err instanceof TmiBffError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const notNow = typeof code === 'string' ? STORE_NOT_NOW.get(code) : undefined;
  if (notNow) {
    return new TemporarilyUnavailable(notNow, {
      detail: `store: ${(err as Error).message}`,
      cause: err,
    });
  }
  return new ServerError(err instanceof Error ? (err.stack ?? err.message) : String(err), err);
}
