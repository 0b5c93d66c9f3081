/**
 * Client authentication (TMI-04): each method puts the client's credentials where its spec says,
 * and a configuration that lacks what its method needs is refused naming the setting.
 */
import type { KeyObject } from 'node:crypto';
import test from 'ava';
import {
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importSPKI,
  jwtVerify,
} from 'jose';
import {
  CLIENT_AUTH_METHODS,
  type ClientAuth,
  clientAuthFor,
  clientSecretBasic,
  clientSecretPost,
  privateKeyJwt,
} from '../src/index.js';

const AS = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
const CLIENT = { client_id: 'bff client' };

/** Applies a method to an empty token request, as openid-client does. */
async function apply(auth: ClientAuth): Promise<{ body: URLSearchParams; headers: Headers }> {
  const body = new URLSearchParams({ grant_type: 'refresh_token' });
  const headers = new Headers();
  await auth(AS, CLIENT, body, headers);
  return { body, headers };
}

test('RFC 6749 §2.3.1: client_secret_basic sends the form-encoded id and secret in HTTP Basic', async (t) => {
  const auth = clientSecretBasic('s3cret:+/');
  t.is(auth.method, 'client_secret_basic');
  const { body, headers } = await apply(auth);
  const decoded = Buffer.from(String(headers.get('authorization')).replace(/^Basic /, ''), 'base64').toString();
  t.is(decoded, 'bff+client:s3cret%3A%2B%2F');
  t.false(body.has('client_secret'));
});

test('RFC 6749 §2.3.1: client_secret_post sends client_id and client_secret in the body', async (t) => {
  const auth = clientSecretPost('s3cret');
  t.is(auth.method, 'client_secret_post');
  const { body, headers } = await apply(auth);
  t.is(body.get('client_id'), 'bff client');
  t.is(body.get('client_secret'), 's3cret');
  t.false(headers.has('authorization'));
});

test('RFC 7523 §2.2: private_key_jwt signs an assertion for the AS with an RSA PEM key (RS256 by default)', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const auth = await privateKeyJwt(await exportPKCS8(privateKey), { kid: 'k1' });
  t.is(auth.method, 'private_key_jwt');
  const { body, headers } = await apply(auth);
  t.false(headers.has('authorization'));
  t.is(body.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  const assertion = String(body.get('client_assertion'));
  t.like(decodeProtectedHeader(assertion), { alg: 'RS256', kid: 'k1' });
  const { payload } = await jwtVerify(assertion, await importSPKI(await exportSPKI(publicKey), 'RS256'));
  // RFC 7523 §3: iss and sub are the client_id; aud identifies the AS.
  t.is(payload.iss, 'bff client');
  t.is(payload.sub, 'bff client');
  t.truthy(payload.jti);
  t.true([payload.aud].flat().some((aud) => aud === AS.issuer || aud === AS.token_endpoint));
});

test("private_key_jwt takes a JWK: ES256 for an EC P-256 key, and the JWK's kid", async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'ec-1' };
  const { body } = await apply(await privateKeyJwt(JSON.stringify(jwk)));
  const assertion = String(body.get('client_assertion'));
  t.like(decodeProtectedHeader(assertion), { alg: 'ES256', kid: 'ec-1' });
  await t.notThrowsAsync(jwtVerify(assertion, publicKey));
});

test('private_key_jwt signs with EdDSA for an Ed25519 key', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const { body } = await apply(await privateKeyJwt(await exportPKCS8(privateKey)));
  const assertion = String(body.get('client_assertion'));
  t.is(decodeProtectedHeader(assertion).alg, 'EdDSA');
  await t.notThrowsAsync(jwtVerify(assertion, publicKey));
});

test('private_key_jwt refuses a key it cannot sign with, naming BFF_CLIENT_KEY_FILE', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  for (const key of [
    JSON.stringify(await exportJWK(publicKey)),
    await exportSPKI(publicKey),
    'not a key',
    '{"kty":',
    JSON.stringify({ kty: 'oct', k: 'c2VjcmV0', d: 'x' }),
  ]) {
    const err = await t.throwsAsync(privateKeyJwt(key), { instanceOf: TypeError });
    t.regex(err?.message ?? '', /BFF_CLIENT_KEY_FILE/, key);
  }
  // An algorithm the key cannot sign with names BFF_CLIENT_KEY_ALG.
  const pem = await exportPKCS8(privateKey);
  const err = await t.throwsAsync(privateKeyJwt(pem, { alg: 'RS256' }), { instanceOf: TypeError });
  t.regex(err?.message ?? '', /BFF_CLIENT_KEY_ALG/);
});

test('clientAuthFor picks the configured method; client_secret_basic by default', async (t) => {
  t.is((await clientAuthFor({ secret: 's' })).method, 'client_secret_basic');
  t.is((await clientAuthFor({ authMethod: 'client_secret_post', secret: 's' })).method, 'client_secret_post');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const key = await exportPKCS8(privateKey);
  t.is((await clientAuthFor({ authMethod: 'private_key_jwt', privateKey: { key } })).method, 'private_key_jwt');
});

test('clientAuthFor names the setting a method is missing', async (t) => {
  for (const authMethod of ['client_secret_basic', 'client_secret_post'] as const) {
    await t.throwsAsync(clientAuthFor({ authMethod }), { instanceOf: TypeError, message: /BFF_CLIENT_SECRET/ });
    await t.throwsAsync(clientAuthFor({ authMethod, secret: '' }), {
      instanceOf: TypeError,
      message: /BFF_CLIENT_SECRET/,
    });
  }
  await t.throwsAsync(clientAuthFor({ authMethod: 'private_key_jwt', secret: 's' }), {
    instanceOf: TypeError,
    message: /BFF_CLIENT_KEY_FILE/,
  });
  await t.throwsAsync(clientAuthFor({ authMethod: 'client_secret_jwt' as never, secret: 's' }), {
    instanceOf: TypeError,
    message: /BFF_CLIENT_AUTH/,
  });
});

test('private_key_jwt picks each key type’s default algorithm: ES384 and ES512 for P-384 and P-521; PS256 when asked, with an RSA key', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto');
  const cases: Array<[string, ReturnType<typeof generateKeyPairSync>, string | undefined]> = [
    ['ES384', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }), undefined],
    ['ES512', generateKeyPairSync('ec', { namedCurve: 'secp521r1' }), undefined],
    ['PS256', generateKeyPairSync('rsa', { modulusLength: 2048 }), 'PS256'],
  ];
  for (const [alg, pair, asked] of cases) {
    const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const { body } = await apply(await privateKeyJwt(pem, { alg: asked }));
    const assertion = String(body.get('client_assertion'));
    t.is(decodeProtectedHeader(assertion).alg, alg);
    await t.notThrowsAsync(jwtVerify(assertion, pair.publicKey as KeyObject), alg);
  }
});

test('private_key_jwt says exactly why a key is refused, naming BFF_CLIENT_KEY_FILE and what it takes', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto');
  const takes = 'private_key_jwt needs a private RSA, EC (P-256, P-384, P-521) or Ed25519 key as PEM (PKCS#8) or JWK';
  const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs1' });
  const x25519 = generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' });
  const cases: Array<[string, string]> = [
    ['  ', 'no key was given'],
    ['{"kty":', 'the key is neither PEM nor valid JWK JSON'],
    ['{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}', 'the JWK is a public key (it has no "d")'],
    ['plain text', 'the key is neither PEM nor JWK JSON'],
    [String(pkcs1), 'the PEM is not a PKCS#8 private key ("BEGIN PRIVATE KEY")'],
    [String(x25519), 'a x25519 key cannot sign a client assertion'],
    [
      String(
        generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
      ),
      'an RSA-PSS key (id-RSASSA-PSS) cannot be imported; a plain RSA key signs PS256 with BFF_CLIENT_KEY_ALG=PS256',
    ],
  ];
  for (const [key, why] of cases) {
    const err = await t.throwsAsync(privateKeyJwt(key), { instanceOf: TypeError });
    t.is(err?.message, `BFF_CLIENT_KEY_FILE: ${why}; ${takes}`, why);
    t.is((err as { code?: string } | undefined)?.code, 'ERR_INVALID_ARG_VALUE');
  }
  // Keys that look right but cannot be read keep the reader's own words.
  const badJwk = await t.throwsAsync(privateKeyJwt('{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}'));
  t.regex(badJwk?.message ?? '', /^BFF_CLIENT_KEY_FILE: the JWK could not be read \(.+\); private_key_jwt needs/);
  const badPem = await t.throwsAsync(
    privateKeyJwt('-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----'),
  );
  t.regex(badPem?.message ?? '', /^BFF_CLIENT_KEY_FILE: the PEM could not be read \(.+\); private_key_jwt needs/);
  // An algorithm the key cannot sign with names the key type, the algorithm and the way out.
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  });
  const wrongAlg = await t.throwsAsync(privateKeyJwt(String(ec), { alg: 'RS256' }));
  t.regex(
    wrongAlg?.message ?? '',
    /^BFF_CLIENT_KEY_ALG: the key in BFF_CLIENT_KEY_FILE \(ec\) cannot sign with "RS256" \(.+\); unset BFF_CLIENT_KEY_ALG to use the key's default$/,
  );
  t.is((wrongAlg as { code?: string } | undefined)?.code, 'ERR_INVALID_ARG_VALUE');
  t.truthy(wrongAlg?.cause, 'what the key import said');
});

test('the client authentication methods are the three this backend implements; a refusal keeps what caused it', async (t) => {
  t.deepEqual([...CLIENT_AUTH_METHODS], ['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    const err = await t.throwsAsync(clientAuthFor({ authMethod: method }), { instanceOf: TypeError });
    t.is(err?.message, `${method} needs the client secret: set BFF_CLIENT_SECRET`);
    t.is((err as { code?: string } | undefined)?.code, 'ERR_INVALID_ARG_VALUE');
    t.is(err?.cause, undefined);
  }
  const parse = await t.throwsAsync(privateKeyJwt('{"kty":'));
  t.true(parse?.cause instanceof SyntaxError, 'the JSON parser’s error is the cause');
});

test('each refusal says exactly what to set, with ERR_INVALID_ARG_VALUE, and carries no cause of its own', async (t) => {
  const refusals: Array<[() => unknown, string]> = [
    [() => clientSecretBasic(''), 'client_secret_basic needs the client secret: set BFF_CLIENT_SECRET'],
    [() => clientSecretPost(''), 'client_secret_post needs the client secret: set BFF_CLIENT_SECRET'],
    [
      () => clientAuthFor({ authMethod: 'private_key_jwt', secret: 's' }),
      'private_key_jwt needs the client private key: set BFF_CLIENT_KEY_FILE',
    ],
    [
      () => clientAuthFor({ authMethod: 'client_secret_jwt' as never, secret: 's' }),
      'BFF_CLIENT_AUTH: unknown client authentication method "client_secret_jwt"; use one of client_secret_basic, client_secret_post, private_key_jwt',
    ],
    [
      () => privateKeyJwt(undefined as never),
      'BFF_CLIENT_KEY_FILE: no key was given; private_key_jwt needs a private RSA, EC (P-256, P-384, P-521) or Ed25519 key as PEM (PKCS#8) or JWK',
    ],
  ];
  for (const [refuse, message] of refusals) {
    const err = await t.throwsAsync(async () => refuse(), { instanceOf: TypeError });
    t.is(err?.message, message);
    t.is((err as { code?: string } | undefined)?.code, 'ERR_INVALID_ARG_VALUE', message);
    t.false(err !== undefined && 'cause' in err, message);
  }
});

test('private_key_jwt reads a key file with blank lines around its JWK or PEM', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  for (const text of [
    `\n  ${JSON.stringify(await exportJWK(privateKey))}\n\n`,
    `\n${await exportPKCS8(privateKey)}\n\n`,
  ]) {
    const { body } = await apply(await privateKeyJwt(text));
    await t.notThrowsAsync(jwtVerify(String(body.get('client_assertion')), publicKey));
  }
});
