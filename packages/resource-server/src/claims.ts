/**
 * The claims of an RFC 9068 access token, and the JSON types the profile gives them. jose checks
 * presence, `iss`, `aud` membership and the NumericDate claims (`exp`, `iat`, `nbf`); the other
 * types are checked here, so a route can trust `AccessTokenClaims` as declared.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068.html#section-2.2
 */
import type { JWTPayload } from 'jose';
import { InvalidToken } from './errors.js';

export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  exp: number;
  aud: string | string[];
  sub: string;
  client_id: string;
  iat: number;
  jti: string;
  /** Space-delimited scope tokens (RFC 8693 §4.2). */
  scope?: string;
  auth_time?: number;
  acr?: string;
  amr?: string[];
  /** The current actor of a delegated token (RFC 8693 §4.1). */
  act?: { sub?: string; act?: unknown; [claim: string]: unknown };
}

/** RFC 9068 §2.2: the claims every access token carries. */
export const REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

// RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*NQCHAR.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

const isString = (v: unknown) => typeof v === 'string';
const isStrings = (v: unknown) => Array.isArray(v) && v.every(isString);
const isActor = (v: unknown) =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  ['undefined', 'string'].includes(typeof (v as { sub?: unknown }).sub);

/** Each claim's type check, and how its failure reads; absent optional claims are not checked. */
const TYPES: Array<[claim: string, ok: (v: unknown) => boolean, kind: string]> = [
  // RFC 9068 §2.2: sub, client_id and jti are strings; aud a string or an array of strings (RFC 7519 §4.1.3).
  ['sub', isString, 'a string'],
  ['client_id', isString, 'a string'],
  ['jti', isString, 'a string'],
  ['aud', (v) => isString(v) || isStrings(v), 'a string or an array of strings'],
  // RFC 9068 §2.2.3, RFC 8693 §4.2: scope is one space-delimited string, never an array.
  ['scope', (v) => v === '' || (isString(v) && SCOPE.test(v as string)), 'a space-delimited string'],
  // RFC 9068 §2.2.1 (OpenID Connect Core §2): auth_time a number, acr a string, amr an array of strings.
  ['auth_time', (v) => typeof v === 'number' && Number.isFinite(v), 'a number'],
  ['acr', isString, 'a string'],
  ['amr', isStrings, 'an array of strings'],
  // RFC 8693 §4.1: act is a JSON object whose members identify the actor.
  ['act', isActor, 'an object (its sub a string)'],
];

/** Narrows a verified payload to `AccessTokenClaims`, or throws `InvalidToken` naming the claim. */
export function checkClaimTypes(payload: JWTPayload): AccessTokenClaims {
  for (const [claim, ok, kind] of TYPES) {
    if (Object.hasOwn(payload, claim) && !ok(payload[claim])) {
      throw new InvalidToken(`the access token's ${claim} claim must be ${kind}`);
    }
  }
  return payload as AccessTokenClaims;
}
