/**
 * The SDK's errors. Branch on `err.code`, never on the message: the codes are stable.
 * TMI-BFF-01 §4.3 (TMI-44): what an app does next depends on the code.
 */

/** Stable error codes. */
export const ERROR_CODES = Object.freeze({
  /** No valid session (TMI-BFF-01 §4.3.1): navigate to the backend's sign-in. */
  INVALID_SESSION: 'TMI_BFF_INVALID_SESSION',
  /** The backend cannot get this token without the user (§4.3.2): `err.remediation` says what helps. */
  BACKEND_NOT_READY: 'TMI_BFF_BACKEND_NOT_READY',
  /** The authorization server refused (§4.3.3); `error` holds its code. */
  AUTHORIZATION_SERVER_ERROR: 'TMI_BFF_AUTHORIZATION_SERVER_ERROR',
  /** The backend could not reach the authorization server (extension): try again shortly. */
  TEMPORARILY_UNAVAILABLE: 'TMI_BFF_TEMPORARILY_UNAVAILABLE',
  /** The request was malformed, e.g. a repeated scope (extension). */
  INVALID_REQUEST: 'TMI_BFF_INVALID_REQUEST',
  /**
   * A resource server rejected the token (401 `invalid_token`) even after a fresh one was fetched.
   * An API that cannot check tokens (503) is not this: `fetch()` returns its response.
   */
  TOKEN_REJECTED: 'TMI_BFF_TOKEN_REJECTED',
  /** The network request failed (offline, DNS, CORS, aborted). */
  TRANSPORT_ERROR: 'TMI_BFF_TRANSPORT_ERROR',
  /** The backend answered something that is not the draft's format. */
  PROTOCOL_ERROR: 'TMI_BFF_PROTOCOL_ERROR',
} as const);

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

const CODE_OF: Record<string, ErrorCode> = {
  invalid_session: ERROR_CODES.INVALID_SESSION,
  backend_not_ready: ERROR_CODES.BACKEND_NOT_READY,
  temporarily_unavailable: ERROR_CODES.TEMPORARILY_UNAVAILABLE,
  invalid_request: ERROR_CODES.INVALID_REQUEST,
};

export class BffError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * D13: with backend_not_ready, what can give the backend what it lacks: `consent` (send the user to the
 * backend's consent route for the resource and scope), `sign_in` (to its sign-in), `configuration`
 * (nothing the user can do: the backend's configuration gets it no refresh token).
 */
export type Remediation = 'consent' | 'sign_in' | 'configuration';

const REMEDIATIONS = new Set<unknown>(['consent', 'sign_in', 'configuration']);

/** The backend (or a resource server) answered with an error body. */
export class BffResponseError extends BffError {
  readonly status: number;
  /** The wire code, e.g. `backend_not_ready`, or the authorization server's own. */
  readonly error: string;
  readonly error_description: string | undefined;
  /** With backend_not_ready from a backend that says it (D13); otherwise undefined. */
  readonly remediation: Remediation | undefined;
  declare readonly response: Response;

  constructor(
    status: number,
    body: { error: string; error_description?: string | undefined; remediation?: unknown },
    response: Response,
    code?: ErrorCode,
  ) {
    const resolved = code ?? CODE_OF[body.error] ?? ERROR_CODES.AUTHORIZATION_SERVER_ERROR;
    super(resolved, body.error_description ? `${body.error}: ${body.error_description}` : body.error);
    this.status = status;
    this.error = body.error;
    this.error_description = body.error_description;
    this.remediation = REMEDIATIONS.has(body.remediation) ? (body.remediation as Remediation) : undefined;
    Object.defineProperty(this, 'response', { value: response, enumerable: false });
  }
}

/** The answer does not conform to the draft. */
export class BffProtocolError extends BffError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES.PROTOCOL_ERROR, message, options);
  }
}

/** The request never got an answer. */
export class BffTransportError extends BffError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES.TRANSPORT_ERROR, message, options);
  }
}
