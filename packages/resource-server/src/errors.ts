/**
 * One error hierarchy for the resource server, and one serializer. Middleware and routes only
 * throw; `handleResourceServerErrors` (error-handler.ts) writes the answer. Codes are RFC 6750 §3.1's,
 * plus RFC 6749's `temporarily_unavailable` when the authorization server cannot be reached.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750.html#section-3
 */

export interface ErrorBody {
  error: string;
  error_description?: string;
}

export interface ResourceServerErrorOptions {
  /** HTTP status. */
  status: number;
  /** Scope needed for the request (RFC 6750 §3 `scope` param). */
  scope?: string | undefined;
  /** Response headers that come with the error (Koa's `err.headers` convention). */
  headers?: Record<string, string>;
  /** Whether the code and description may be sent. Default: `status < 500` (Koa convention). */
  expose?: boolean;
  /** For logs only, never serialized. */
  detail?: string | undefined;
  cause?: unknown;
}

export class ResourceServerError extends Error {
  /** The wire code; `undefined` only for the bare challenge of a request without credentials. */
  readonly error: string | undefined;
  readonly status: number;
  /** Whether the code and description may be sent. */
  readonly expose: boolean;
  /** Safe for the wire. */
  readonly error_description: string | undefined;
  /** For logs only, never serialized. */
  readonly error_detail: string | undefined;
  /** The scope the request needs, when that is the problem. */
  readonly scope: string | undefined;
  /** Headers to send with the answer: the `WWW-Authenticate` challenge, `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(error: string | undefined, error_description: string | undefined, options: ResourceServerErrorOptions) {
    super(error_description ?? error ?? 'authentication required', { cause: options.cause });
    this.name = new.target.name;
    this.error = error;
    this.status = options.status;
    this.expose = options.expose ?? options.status < 500;
    this.error_description = error_description;
    this.error_detail = options.detail;
    this.scope = options.scope;
    this.headers = { ...options.headers };
  }
}

// RFC 6750 §3: error, error_description and scope values exclude '"' and '\' (and anything outside
// printable ASCII), so they can be quoted-strings without escapes; drop what does not fit.
const quote = (s: string) => `"${s.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '')}"`;

/**
 * The `WWW-Authenticate` value of RFC 6750 §3: `Bearer` alone when the request had no credentials
 * (§3.1: no error information then), else `Bearer error="…", error_description="…", scope="…"`.
 */
function bearerChallenge(error?: string, description?: string, scope?: string): Record<string, string> {
  const params = [
    ...(error ? [`error=${quote(error)}`] : []),
    ...(description ? [`error_description=${quote(description)}`] : []),
    ...(scope ? [`scope=${quote(scope)}`] : []),
  ];
  return { 'WWW-Authenticate': params.length ? `Bearer ${params.join(', ')}` : 'Bearer' };
}

/**
 * RFC 6750 §3.1: the request has no credentials at all: 401 with a bare `Bearer` challenge and no
 * error code (the client may not know it needs a token).
 * @see https://www.rfc-editor.org/rfc/rfc6750.html#section-3.1
 */
export class CredentialsRequired extends ResourceServerError {
  constructor() {
    super(undefined, undefined, { status: 401, headers: bearerChallenge() });
  }
}

/**
 * RFC 6750 §3.1 `invalid_request` (400): the request is malformed, e.g. an `Authorization` header
 * that is not `Bearer <token>`.
 * @see https://www.rfc-editor.org/rfc/rfc6750.html#section-3.1
 */
export class InvalidRequest extends ResourceServerError {
  constructor(description: string) {
    super('invalid_request', description, { status: 400, headers: bearerChallenge('invalid_request', description) });
  }
}

/**
 * RFC 6750 §3.1 `invalid_token` (401): expired, revoked, malformed or otherwise invalid; every
 * failed check of RFC 9068 §4 ends here.
 * @see https://www.rfc-editor.org/rfc/rfc6750.html#section-3.1
 */
export class InvalidToken extends ResourceServerError {
  constructor(description: string, options: { detail?: string; cause?: unknown } = {}) {
    super('invalid_token', description, {
      status: 401,
      headers: bearerChallenge('invalid_token', description),
      ...options,
    });
  }
}

/**
 * RFC 6750 §3.1 `insufficient_scope` (403): the token is valid but lacks what the route needs;
 * `scope` names it. RFC 9068 §4 step 7.
 * @see https://www.rfc-editor.org/rfc/rfc6750.html#section-3.1
 */
export class InsufficientScope extends ResourceServerError {
  constructor(description: string, scope: string) {
    super('insufficient_scope', description, {
      status: 403,
      scope,
      headers: bearerChallenge('insufficient_scope', description, scope),
    });
  }
}

/** Seconds a client should wait after a `TemporarilyUnavailable` (its `Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

/**
 * 503 `temporarily_unavailable` (the code of RFC 6749 §4.1.2.1, for the same condition): the
 * authorization server's metadata or keys could not be fetched, so no token can be checked. The
 * token is not at fault, so there is no Bearer challenge. The description is a fixed sentence,
 * safe to send although the status is 5xx; what failed goes to `error_detail`.
 * @see https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1.2.1
 * @see https://www.rfc-editor.org/rfc/rfc9110.html#section-10.2.3
 */
export class TemporarilyUnavailable extends ResourceServerError {
  constructor(detail: string, cause?: unknown) {
    super('temporarily_unavailable', "the authorization server's keys could not be fetched; try again shortly", {
      status: 503,
      expose: true,
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      detail,
      cause,
    });
  }
}

/**
 * The one serializer: an exposed error as `{ error, error_description? }` (`{}` for the bare
 * challenge), anything else as a generic `server_error`.
 */
export function toErrorBody(err: unknown): ErrorBody | Record<string, never> {
  if (err instanceof ResourceServerError && err.expose) {
    if (err.error === undefined) return {};
    return err.error_description === undefined
      ? { error: err.error }
      : { error: err.error, error_description: err.error_description };
  }
  return { error: 'server_error', error_description: 'the resource server failed unexpectedly; see its log' };
}
