/**
 * Client authentication (TMI-04): each method puts the client's credentials where its spec says,
 * and a configuration that lacks what its method needs is refused naming the setting.
 */
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
import { type ClientAuth, clientAuthFor, clientSecretBasic, clientSecretPost, privateKeyJwt } from '../src/index.js';

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
