/**
 * The authorization server's signing keys (RFC 9068 §4 step 5): `jwks_uri` from its metadata, then
 * jose's remote JWK Set (cached, fetched again for an unknown `kid`). Whatever fails while fetching
 * them is an outage (`TemporarilyUnavailable`, 503), never a verdict on the token, and a failed
 * discovery is not kept: the next request discovers again.
 */
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import { TemporarilyUnavailable } from './errors.js';

export interface KeySource {
  issuer: string;
  jwksUri: string | undefined;
  /** Milliseconds each request to the AS may take. */
  timeoutDuration: number;
}

/** Key selection failures that are the token's fault (its `kid` or `alg`), not the AS's. */
const TOKEN_FAULTS = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSENotSupported];

const why = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

async function discoverJwksUri({ issuer, timeoutDuration }: KeySource): Promise<URL> {
  const where = `${issuer}/.well-known/openid-configuration`;
  let metadata: { issuer?: unknown; jwks_uri?: unknown } | undefined;
  try {
    const res = await fetch(where, { signal: AbortSignal.timeout(timeoutDuration) });
    if (res.status !== 200) throw new Error(`answered ${res.status}`);
    metadata = (await res.json()) as typeof metadata;
  } catch (err) {
    throw new TemporarilyUnavailable(`AS metadata ${where}: ${why(err)}`, err);
  }
  // RFC 8414 §3.3: metadata whose issuer is not the one asked for MUST NOT be used.
  if (metadata?.issuer !== issuer) {
    throw new TemporarilyUnavailable(`AS metadata ${where} names the issuer ${String(metadata?.issuer)}`);
  }
  // RFC 8414 §2: jwks_uri is the URL of the authorization server's JWK Set document.
  const uri = metadata?.jwks_uri;
  if (typeof uri !== 'string' || !URL.canParse(uri)) {
    throw new TemporarilyUnavailable(`AS metadata ${where} has no valid jwks_uri`);
  }
  return new URL(uri);
}

/** A jose key resolver for `jwtVerify` that throws `TemporarilyUnavailable` when the keys are out of reach. */
export function remoteKeys(source: KeySource): JWTVerifyGetKey {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  function jwks(): Promise<JWTVerifyGetKey> {
    if (!keys) {
      const found = (source.jwksUri ? Promise.resolve(new URL(source.jwksUri)) : discoverJwksUri(source)).then((uri) =>
        createRemoteJWKSet(uri, { timeoutDuration: source.timeoutDuration }),
      );
      found.catch(() => {
        if (keys === found) keys = undefined;
      });
      keys = found;
    }
    return keys;
  }
  return async function resolveKey(header, token) {
    const get = await jwks();
    try {
      return await get(header, token);
    } catch (err) {
      if (TOKEN_FAULTS.some((fault) => err instanceof fault)) throw err;
      // jose's JWKSTimeout, a network TypeError, a non-200 answer, a malformed JWK Set: an outage.
      throw new TemporarilyUnavailable(`AS JWK Set: ${why(err)}`, err);
    }
  };
}
