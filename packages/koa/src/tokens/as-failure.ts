/**
 * D6: what went wrong when the authorization server gave no usable OAuth answer, said as what it is.
 * A refused connection, a timeout, an HTML error page, metadata that lacks an endpoint and an issuer
 * that does not match are different faults with different remedies; each gets its own reason (for
 * logs) and its own sentence (for `error_description` and error pages).
 */
import { TemporarilyUnavailable } from '../errors.js';

export type AsFailureReason =
  /** No connection: refused, reset, name not found. */
  | 'unreachable'
  /** Connected, but no answer within the time limit. */
  | 'timeout'
  /** It answered, but not with JSON, or with an HTTP status that carries no OAuth error. */
  | 'bad_response'
  /** Its metadata does not advertise the endpoint this operation needs. */
  | 'unsupported'
  /** Its metadata names another issuer, or is not valid metadata. */
  | 'bad_metadata';

export interface AsFailure {
  reason: AsFailureReason;
  /** Safe for the wire and for pages: says what happened and what to do. */
  description: string;
  /** For logs: the underlying error. */
  detail: string;
}

/** oauth4webapi's error codes, as openid-client passes them on. */
const CODES = {
  missingMetadata: 'OAUTH_MISSING_SERVER_METADATA',
  invalidMetadata: 'OAUTH_INVALID_SERVER_METADATA',
  notJson: 'OAUTH_RESPONSE_IS_NOT_JSON',
  notConform: 'OAUTH_RESPONSE_IS_NOT_CONFORM',
  parse: 'OAUTH_PARSE_ERROR',
  invalid: 'OAUTH_INVALID_RESPONSE',
  attribute: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
} as const;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EPIPE']);

type Cause = { code?: unknown; name?: unknown; attribute?: unknown };

/** `err` and its causes, five deep at most. */
function* causes(err: unknown): Generator<Cause> {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    yield e as Cause;
  }
}

/** undici's own time limits: the AS answered too slowly, it was not unreachable. */
const UNDICI_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function networkCode(err: unknown): string | undefined {
  for (const { code } of causes(err)) {
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR_'))) return code;
  }
  return undefined;
}

/** A time limit reached, anywhere in the chain: checked before `networkCode`, which takes any undici code. */
function isTimeout(err: unknown): boolean {
  for (const { code, name } of causes(err)) {
    if (
      code === 'OAUTH_TIMEOUT' ||
      name === 'TimeoutError' ||
      (typeof code === 'string' && UNDICI_TIMEOUTS.has(code))
    ) {
      return true;
    }
  }
  return false;
}

/** The member an openid-client error names (missing, or not the expected value), on it or a cause. */
function attributeOf(err: unknown): string | undefined {
  for (const { attribute } of causes(err)) if (typeof attribute === 'string') return attribute;
  return /"as\.([a-z_]+)"/.exec(err instanceof Error ? err.message : '')?.[1];
}

/** The HTTP status and content type of the answer an openid-client error carries, if any. */
function answered(err: unknown): string {
  const response = (err as { cause?: unknown }).cause;
  if (response instanceof Response) {
    return `HTTP ${response.status}, ${response.headers.get('content-type') || 'no content type'}`;
  }
  return 'an unexpected answer';
}

/**
 * Classifies whatever openid-client (or fetch) threw when talking to the AS; for the
 * `TemporarilyUnavailable` of OpenIdClient, the fault it stands for.
 */
export function describeAsFailure(err: unknown, issuer?: string): AsFailure {
  if (err instanceof TemporarilyUnavailable && err.cause !== undefined) return describeAsFailure(err.cause, issuer);
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const code = (err as { code?: unknown })?.code;
  const who = issuer ? `the authorization server (${issuer})` : 'the authorization server';
  if (isTimeout(err)) {
    return { reason: 'timeout', detail, description: `${who} did not answer in time; try again shortly` };
  }
  const network = networkCode(err);
  // Its answer began (a body was being read) when the connection ended: it was reached, but cut off.
  if (network && (code === CODES.parse || code === CODES.notJson || code === CODES.invalid)) {
    return {
      reason: 'bad_response',
      detail: `${detail} (${network})`,
      description: `${who} broke off its answer before the end; try again shortly`,
    };
  }
  if (network) {
    return {
      reason: 'unreachable',
      detail: `${detail} (${network})`,
      description: `${who} could not be reached; try again shortly`,
    };
  }
  // The issuer of discovery is the configuration's fault; any other member that is not the expected
  // value (userinfo's `sub`, OIDC Core §5.3.2) is an answer that must not be used.
  const compared = code === CODES.attribute ? attributeOf(err) : undefined;
  if (compared !== undefined && compared !== 'issuer') {
    return {
      reason: 'bad_response',
      detail,
      description: `${who} answered with an unexpected ${compared} value`,
    };
  }
  switch (code) {
    case CODES.missingMetadata: {
      const attribute = attributeOf(err);
      return {
        reason: 'unsupported',
        detail,
        description: `${who} does not advertise ${typeof attribute === 'string' ? attribute : 'the endpoint this needs'} in its metadata`,
      };
    }
    case CODES.notJson:
      return {
        reason: 'bad_response',
        detail,
        description: `${who} answered something that is not OAuth JSON (${answered(err)}); try again shortly`,
      };
    case CODES.notConform:
      return {
        reason: 'bad_response',
        detail,
        description: `${who} answered ${answered(err)} without an OAuth error; try again shortly`,
      };
    case CODES.parse:
    case CODES.invalid:
      return {
        reason: 'bad_response',
        detail,
        description: `${who} answered with a malformed response; try again shortly`,
      };
    case CODES.attribute:
    case CODES.invalidMetadata:
      return {
        reason: 'bad_metadata',
        detail,
        description: `the metadata of ${who} does not match: check that the configured issuer is its exact issuer identifier`,
      };
  }
  if (/issuer does not match/.test(detail)) {
    return {
      reason: 'bad_metadata',
      detail,
      description: `the metadata of ${who} names another issuer: configure its exact issuer identifier`,
    };
  }
  return { reason: 'bad_response', detail, description: `${who} failed unexpectedly; try again shortly` };
}
