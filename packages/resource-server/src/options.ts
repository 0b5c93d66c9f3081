/**
 * The options of `requireAccessToken`, each with its default, checked once at construction: unknown
 * keys and wrong types throw a coded `TypeError` (ERR_INVALID_ARG_VALUE / ERR_INVALID_ARG_TYPE).
 */

export interface ValidatorOptions {
  /** The AS's issuer identifier; `iss` must equal it exactly (RFC 9068 §4 step 3). Required. */
  issuer: string;
  /** This resource server's identifier; `aud` must contain it (RFC 9068 §4 step 4). Required. */
  audience: string;
  /** Where the AS's keys are. Default: `jwks_uri` from `<issuer>/.well-known/openid-configuration`. */
  jwksUri?: string | undefined;
  /** Seconds of clock skew allowed on `exp` and `nbf`. Default: 5. */
  clockTolerance?: number | undefined;
  /** Milliseconds a request for the AS's metadata or keys may take before it is an outage (503). Default: 5000. */
  timeoutDuration?: number | undefined;
}

export interface ResolvedOptions {
  issuer: string;
  audience: string;
  jwksUri: string | undefined;
  clockTolerance: number;
  timeoutDuration: number;
}

export const DEFAULTS = Object.freeze({ clockTolerance: 5, timeoutDuration: 5000 });

const KNOWN = new Set(['issuer', 'audience', 'jwksUri', 'clockTolerance', 'timeoutDuration']);

function coded(message: string, code: 'ERR_INVALID_ARG_VALUE' | 'ERR_INVALID_ARG_TYPE'): TypeError {
  return Object.assign(new TypeError(message), { code });
}

function url(name: string, value: unknown): string {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    throw coded(`options.${name} must be an absolute URL`, 'ERR_INVALID_ARG_VALUE');
  }
  return value;
}

function count(name: string, value: unknown, fallback: number, check = Number.isFinite): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !check(value) || value < 0) {
    throw coded(
      `options.${name} must be a number, 0 or more${check === Number.isInteger ? ' (whole)' : ''}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  return value;
}

export function resolveOptions(options: ValidatorOptions): ResolvedOptions {
  if (!options || typeof options !== 'object') throw coded('options must be an object', 'ERR_INVALID_ARG_TYPE');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw coded(`unknown option "${key}"`, 'ERR_INVALID_ARG_VALUE');
  }
  if (typeof options.audience !== 'string' || !options.audience) {
    throw coded('options.audience must be this resource server’s identifier', 'ERR_INVALID_ARG_TYPE');
  }
  return {
    issuer: url('issuer', options.issuer),
    audience: options.audience,
    jwksUri: options.jwksUri === undefined ? undefined : url('jwksUri', options.jwksUri),
    clockTolerance: count('clockTolerance', options.clockTolerance, DEFAULTS.clockTolerance),
    // jose takes whole milliseconds only.
    timeoutDuration: count('timeoutDuration', options.timeoutDuration, DEFAULTS.timeoutDuration, Number.isInteger),
  };
}
