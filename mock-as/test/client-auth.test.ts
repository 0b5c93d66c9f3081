/**
 * Client authentication at the token, introspection and revocation endpoints, driven over HTTP as an
 * outside client: a client authenticates with the method the seed registers for it
 * (`clients[].token_endpoint_auth_method`) and with no other (RFC 6749 §2.3, RFC 7591 §2, OIDC Core §9,
 * RFC 7523 §3).
 */
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { withClientAuth } from '../src/testing/index.js';
import { authorize, CLIENTS, demoSeed, FORM, STOCKS, startAs } from './_setup.js';

const METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
type Method = (typeof METHODS)[number] | 'none';

interface DevKey {
  privateKey: oidc.CryptoKey;
  jwk: JWK;
}

async function devKey(kid = 'bff-key-1'): Promise<DevKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** RFC 7523 §3: the client assertion of `bff`, signed with `key`. */
function clientAssertion(key: DevKey, claims: { aud: string; jti?: string }): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.jwk.kid ?? '' })
    .setIssuer('bff')
    .setSubject('bff')
    .setAudience(claims.aud)
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt()
    .setExpirationTime('1m')
    .sign(key.privateKey);
}

interface Authentication {
  method: Method;
  /** For private_key_jwt: the assertion to send. */
  assertion?: string;
}

/** A POST to an endpoint of the AS, authenticated as `bff` with `auth`. */
function post(issuer: string, path: string, params: Record<string, string>, auth: Authentication): Promise<Response> {
  const body = new URLSearchParams({ ...params });
  const headers: Record<string, string> = { ...FORM };
  if (auth.method === 'client_secret_basic') {
    headers.authorization = `Basic ${Buffer.from(`bff:${CLIENTS.bff}`).toString('base64')}`;
  } else if (auth.method === 'client_secret_post') {
    body.set('client_id', 'bff');
    body.set('client_secret', CLIENTS.bff);
  } else if (auth.method === 'private_key_jwt') {
    body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    body.set('client_assertion', auth.assertion ?? '');
  } else {
    body.set('client_id', 'bff');
  }
  return fetch(`${issuer}${path}`, { method: 'POST', headers, body });
}

const refresh = (issuer: string, refreshToken: string, auth: Authentication) =>
  post(issuer, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, resource: STOCKS }, auth);

/** openid-client's client authentication for `method`. */
function clientAuth(method: (typeof METHODS)[number], key: DevKey): oidc.ClientAuth {
  if (method === 'client_secret_basic') return oidc.ClientSecretBasic(CLIENTS.bff);
  if (method === 'client_secret_post') return oidc.ClientSecretPost(CLIENTS.bff);
  return oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.jwk.kid ?? '' });
}

/** An AS whose `bff` client is registered for `method` (with `key`'s public half for private_key_jwt). */
async function asWithBff(t: Parameters<typeof startAs>[0], method: (typeof METHODS)[number], key: DevKey) {
  const seed = withClientAuth(
    await demoSeed(),
    'bff',
    method === 'private_key_jwt'
      ? { token_endpoint_auth_method: method, jwks: { keys: [key.jwk] } }
      : { token_endpoint_auth_method: method },
  );
  const as = await startAs(t, { seed });
  const config = await oidc.discovery(new URL(as.issuer), 'bff', undefined, clientAuth(method, key), {
    execute: [oidc.allowInsecureRequests],
  });
  return { as, config };
}

async function invalidClient(t: Parameters<typeof startAs>[0], res: Response, what: string) {
  t.is(res.status, 401, what);
  t.like(await res.json(), { error: 'invalid_client' }, what);
  t.regex(res.headers.get('www-authenticate') ?? '', /^Basic realm="/, what);
}

test('RFC 6749 §2.3.1: a client registered for client_secret_basic that sends its secret in the body gets 401 invalid_client', async (t) => {
  const as = await startAs(t);
  const res = await post(
    as.issuer,
    '/token',
    { grant_type: 'refresh_token', refresh_token: 'unknown' },
    { method: 'client_secret_post' },
  );
  t.is(res.status, 401);
  const body = (await res.json()) as { error: string; error_description: string };
  t.is(body.error, 'invalid_client');
  t.regex(body.error_description, /client bff is registered for client_secret_basic/);
  t.regex(res.headers.get('www-authenticate') ?? '', /^Basic realm="/);
});

for (const method of METHODS) {
  test(`OIDC Core §9: a client registered for ${method} gets tokens with it, and 401 invalid_client with any other method`, async (t) => {
    const key = await devKey();
    const { as, config } = await asWithBff(t, method, key);
    const { refresh_token } = await authorize(config, { persona: 'alice' });
    const rt = refresh_token ?? '';
    t.truthy(rt, 'the code grant, authenticated with the registered method, gave a refresh token');

    for (const other of [...METHODS, 'none'] as const) {
      if (other === method) continue;
      const assertion = await clientAssertion(key, { aud: as.issuer });
      await invalidClient(t, await refresh(as.issuer, rt, { method: other, assertion }), other);
    }

    // The refusals spent nothing: the registered method still refreshes with the same token.
    const assertion = await clientAssertion(key, { aud: as.issuer });
    const ok = await refresh(as.issuer, rt, { method, assertion });
    t.is(ok.status, 200);
    t.like(await ok.json(), { token_type: 'Bearer' });
  });
}

test('RFC 7523 §3: a client assertion signed with another key, for another audience, or replayed is 401 invalid_client', async (t) => {
  const key = await devKey();
  const { as, config } = await asWithBff(t, 'private_key_jwt', key);
  const { refresh_token } = await authorize(config, { persona: 'alice' });
  const rt = refresh_token ?? '';

  const stranger = await devKey(key.jwk.kid);
  const cases: Array<[string, string]> = [
    ['signed with an unregistered key', await clientAssertion(stranger, { aud: as.issuer })],
    ['for another audience', await clientAssertion(key, { aud: 'https://other-as.example' })],
  ];
  for (const [what, assertion] of cases) {
    await invalidClient(t, await refresh(as.issuer, rt, { method: 'private_key_jwt', assertion }), what);
  }

  // RFC 7523 §3 item 7: the AS may refuse a jti it has seen; this one does.
  const assertion = await clientAssertion(key, { aud: `${as.issuer}/token`, jti: 'once' });
  const first = await refresh(as.issuer, rt, { method: 'private_key_jwt', assertion });
  t.is(first.status, 200, 'the token endpoint URL is an accepted audience');
  const { refresh_token: next = '' } = (await first.json()) as { refresh_token?: string };
  await invalidClient(t, await refresh(as.issuer, next, { method: 'private_key_jwt', assertion }), 'replayed');
});

test('RFC 7662 §2.1, RFC 7009 §2.1: introspection and revocation take the registered method only', async (t) => {
  const as = await startAs(t);
  for (const path of ['/token/introspection', '/token/revocation']) {
    await invalidClient(t, await post(as.issuer, path, { token: 'x' }, { method: 'client_secret_post' }), path);
    const ok = await post(as.issuer, path, { token: 'x' }, { method: 'client_secret_basic' });
    t.is(ok.status, 200, path);
  }
});

test('RFC 8414 §2: discovery lists exactly the supported client authentication methods, for every endpoint', async (t) => {
  const as = await startAs(t);
  const metadata = (await (await fetch(`${as.issuer}/.well-known/openid-configuration`)).json()) as Record<
    string,
    unknown
  >;
  for (const endpoint of ['token', 'introspection', 'revocation']) {
    t.deepEqual(metadata[`${endpoint}_endpoint_auth_methods_supported`], [...METHODS], endpoint);
    const algs = metadata[`${endpoint}_endpoint_auth_signing_alg_values_supported`] as string[];
    t.true(algs.includes('ES256') && algs.includes('RS256'), endpoint);
    t.false(
      algs.some((alg) => alg.startsWith('HS')),
      `${endpoint}: no client_secret_jwt, so no HMAC algorithm`,
    );
  }
});
