/**
 * Display helpers for the flow inspector: shortened tokens, and JWTs decoded for the reader.
 *
 * TMI-BFF-01 §5 rationale (TMI-43): the app treats access tokens as opaque and reads the user from
 * bff-sessioninfo. Decoding here is only to show a learner what the backend handed over; no decision
 * of the app depends on it.
 */

const JWT = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$/;

/** `eyJhbGciOi…Xk9Q (812 chars)`: enough to tell tokens apart, too little to use one. */
export function shorten(token: string): string {
  return token.length <= 24 ? token : `${token.slice(0, 12)}…${token.slice(-6)} (${token.length} chars)`;
}

export const isJwt = (value: unknown): value is string => typeof value === 'string' && JWT.test(value);

function base64urlJson(part: string): unknown {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The header and claims of a JWT, unverified: for display only. */
export function decodeJwt(token: string): { header: unknown; claims: unknown } | undefined {
  if (!isJwt(token)) return undefined;
  const [header = '', claims = ''] = token.split('.');
  try {
    return { header: base64urlJson(header), claims: base64urlJson(claims) };
  } catch {
    return undefined;
  }
}

/** A copy of a JSON value with every token-like string shortened. */
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return isJwt(value) ? shorten(value) : value;
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        typeof v === 'string' && /(^|_)token$/.test(k) ? shorten(v) : redact(v),
      ]),
    );
  }
  return value;
}

/** Seconds since the epoch → a local time, for `exp`, `iat` and `auth_time`. */
export function time(seconds: unknown): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toLocaleTimeString() : String(seconds ?? '');
}
