/**
 * How the backend authenticates itself to the AS's token, revocation and userinfo-adjacent endpoints
 * as a confidential client (TMI-04): one small function per method, chosen once from configuration,
 * in the shape of oauth4webapi's and openid-client's `ClientAuth`.
 *
 *   const clientAuth = await clientAuthFor({ authMethod: 'private_key_jwt', privateKey: { key: pem } });
 *   new OpenIdClient({ issuer, clientId, clientAuth });
 *
 * @see [RFC 6749 §2.3.1: client password](https://www.rfc-editor.org/rfc/rfc6749.html#section-2.3.1)
 * @see [RFC 7523 §2.2: JWTs for client authentication](https://www.rfc-editor.org/rfc/rfc7523.html#section-2.2)
 * @see [OIDC Core §9: client authentication](https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication)
 */
import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { importJWK, importPKCS8, type JWK } from 'jose';
import * as oidc from 'openid-client';

/** RFC 7591 §2 `token_endpoint_auth_method` values this package implements. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** The methods, in the order they are documented. */
export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
];

/**
 * Applies client authentication to one request to the AS: adds the `Authorization` header or body
 * parameters. `method` says which, for logs and for comparing with the AS's metadata
 * (`token_endpoint_auth_methods_supported`, RFC 8414 §2).
 */
export type ClientAuth = ((...args: Parameters<oidc.ClientAuth>) => void | Promise<void>) & {
  readonly method: ClientAuthMethod;
};

/** The private key of `private_key_jwt`: PEM (PKCS#8) or JWK JSON text. */
export interface ClientPrivateKey {
  key: string;
  /** JWS `kid`. Default: the JWK's `kid`; none for PEM. */
  kid?: string | undefined;
  /** JWS `alg`. Default: from the key: RSA → RS256, EC P-256 → ES256, Ed25519 → EdDSA. */
  alg?: string | undefined;
}

/** What `clientAuthFor` picks from: the `client` part of a backend's configuration. */
export interface ClientAuthSettings {
  /** Default: 'client_secret_basic'. */
  authMethod?: ClientAuthMethod | undefined;
  secret?: string | undefined;
  privateKey?: ClientPrivateKey | undefined;
}

const coded = (message: string, code: 'ERR_INVALID_ARG_VALUE' | 'ERR_INVALID_ARG_TYPE', cause?: unknown) =>
  Object.assign(new TypeError(message, cause === undefined ? {} : { cause }), { code });

const tagged = (method: ClientAuthMethod, auth: oidc.ClientAuth): ClientAuth => Object.assign(auth, { method });

function requireSecret(secret: string | undefined, method: ClientAuthMethod): string {
  if (typeof secret !== 'string' || secret === '') {
    throw coded(`${method} needs the client secret: set BFF_CLIENT_SECRET`, 'ERR_INVALID_ARG_VALUE');
  }
  return secret;
}

/** RFC 6749 §2.3.1: `client_id` and secret in HTTP Basic (the method the RFC requires ASes to support). */
export function clientSecretBasic(secret: string): ClientAuth {
  return tagged('client_secret_basic', oidc.ClientSecretBasic(requireSecret(secret, 'client_secret_basic')));
}

/** RFC 6749 §2.3.1: `client_id` and `client_secret` in the form body. */
export function clientSecretPost(secret: string): ClientAuth {
  return tagged('client_secret_post', oidc.ClientSecretPost(requireSecret(secret, 'client_secret_post')));
}

/** The JWS algorithm a key signs with when none is configured. */
function defaultAlg(key: KeyObject): string | undefined {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'ec':
      return { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }[
        String(key.asymmetricKeyDetails?.namedCurve)
      ];
    case 'ed25519':
      return 'EdDSA';
    default:
      return undefined;
  }
}

const unusable = (why: string, cause?: unknown) =>
  coded(
    `BFF_CLIENT_KEY_FILE: ${why}; private_key_jwt needs a private RSA, EC (P-256, P-384, P-521) or Ed25519 key as PEM (PKCS#8) or JWK`,
    'ERR_INVALID_ARG_VALUE',
    cause,
  );

/** Reads PEM or JWK text into a key object, and the JWK's own `kid` and `alg`. */
function parseKey(text: string): { keyObject: KeyObject; jwk?: JWK } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let jwk: JWK;
    try {
      jwk = JSON.parse(trimmed) as JWK;
    } catch (err) {
      throw unusable('the key is neither PEM nor valid JWK JSON', err);
    }
    if (typeof jwk.d !== 'string') throw unusable('the JWK is a public key (it has no "d")');
    try {
      return { keyObject: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }), jwk };
    } catch (err) {
      throw unusable(`the JWK could not be read (${(err as Error).message})`, err);
    }
  }
  if (!trimmed.includes('-----BEGIN PRIVATE KEY-----')) {
    throw unusable(
      trimmed.includes('-----BEGIN')
        ? 'the PEM is not a PKCS#8 private key ("BEGIN PRIVATE KEY")'
        : 'the key is neither PEM nor JWK JSON',
    );
  }
  try {
    return { keyObject: createPrivateKey({ key: trimmed, format: 'pem' }) };
  } catch (err) {
    throw unusable(`the PEM could not be read (${(err as Error).message})`, err);
  }
}

/**
 * RFC 7523 §2.2: a client assertion JWT signed with the client's private key; the AS holds the
 * public key (its registered `jwks` or `jwks_uri`).
 */
export async function privateKeyJwt(
  key: string,
  options: { kid?: string | undefined; alg?: string | undefined } = {},
): Promise<ClientAuth> {
  if (typeof key !== 'string' || key.trim() === '') throw unusable('no key was given');
  const { keyObject, jwk } = parseKey(key);
  const alg = options.alg ?? jwk?.alg ?? defaultAlg(keyObject);
  if (!alg) {
    // WebCrypto imports RSA keys as rsaEncryption only: an id-RSASSA-PSS key cannot be used at all.
    throw unusable(
      keyObject.asymmetricKeyType === 'rsa-pss'
        ? 'an RSA-PSS key (id-RSASSA-PSS) cannot be imported; a plain RSA key signs PS256 with BFF_CLIENT_KEY_ALG=PS256'
        : `a ${keyObject.asymmetricKeyType} key cannot sign a client assertion`,
    );
  }
  const kid = options.kid ?? jwk?.kid;
  let cryptoKey: oidc.CryptoKey;
  try {
    // WebCrypto names Ed25519 itself; `EdDSA` stays the JWS `alg` the assertion carries (RFC 8037 §3.1).
    const importAlg = alg === 'EdDSA' ? 'Ed25519' : alg;
    const imported = jwk
      ? await importJWK({ ...jwk, alg: importAlg }, importAlg)
      : await importPKCS8(keyObject.export({ format: 'pem', type: 'pkcs8' }).toString(), importAlg);
    if (imported instanceof Uint8Array || imported.type !== 'private') throw new TypeError('not a private key');
    cryptoKey = imported;
  } catch (err) {
    throw coded(
      `BFF_CLIENT_KEY_ALG: the key in BFF_CLIENT_KEY_FILE (${keyObject.asymmetricKeyType}) cannot sign with "${alg}" (${(err as Error).message}); unset BFF_CLIENT_KEY_ALG to use the key's default`,
      'ERR_INVALID_ARG_VALUE',
      err,
    );
  }
  const auth = oidc.PrivateKeyJwt(
    { key: cryptoKey, ...(kid ? { kid } : {}) },
    alg === 'EdDSA'
      ? {
          [oidc.modifyAssertion]: (header) => {
            header.alg = 'EdDSA';
          },
        }
      : {},
  );
  return tagged('private_key_jwt', auth);
}

/**
 * The client authentication a configuration asks for. Throws a `TypeError` naming the setting when
 * the method lacks what it needs.
 */
export async function clientAuthFor(settings: ClientAuthSettings): Promise<ClientAuth> {
  const method = settings.authMethod ?? 'client_secret_basic';
  switch (method) {
    case 'client_secret_basic':
      return clientSecretBasic(requireSecret(settings.secret, method));
    case 'client_secret_post':
      return clientSecretPost(requireSecret(settings.secret, method));
    case 'private_key_jwt':
      if (!settings.privateKey?.key) {
        throw coded('private_key_jwt needs the client private key: set BFF_CLIENT_KEY_FILE', 'ERR_INVALID_ARG_VALUE');
      }
      return privateKeyJwt(settings.privateKey.key, settings.privateKey);
    default:
      throw coded(
        `BFF_CLIENT_AUTH: unknown client authentication method "${String(method)}"; use one of ${CLIENT_AUTH_METHODS.join(', ')}`,
        'ERR_INVALID_ARG_VALUE',
      );
  }
}
