/**
 * TMI-04: the backend authenticates to the AS as a confidential client, with the method it is
 * registered for (RFC 6749 §2.3.1 client_secret_basic / client_secret_post, RFC 7523 §2.2
 * private_key_jwt). The real mock AS registers the `bff` client for one method and refuses any
 * other; each method carries a whole session (sign-in through the AS's forms, bff-token, sign-out
 * with revocation), and a backend configured for another method than the registered one gets the
 * AS's `invalid_client`, relayed on the sign-in page.
 */
import { type ClientAuthMethod, CSRF_HEADER } from '@tmi-bff/koa';
import type { Seed } from '@tmi-bff/mock-as';
import { withClientAuth } from '@tmi-bff/mock-as/testing';
import test, { type ExecutionContext } from 'ava';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import type { BackendConfig } from '../src/index.js';
import { STOCKS, startStack } from './_setup.js';

const SECRET = 'a-secret-for-this-test';

/** A key pair for private_key_jwt: the backend's private key (PEM), the AS's registered public JWK. */
async function clientKeys(alg: 'ES256' | 'RS256' = 'ES256') {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    pem: await exportPKCS8(privateKey),
    jwk: { ...(await exportJWK(publicKey)), kid: 'bff-key-1', alg, use: 'sig' },
  };
}

/** The AS registers `bff` for `registered`; the backend authenticates with `client`. */
async function stackWith(
  t: ExecutionContext,
  registered: ClientAuthMethod,
  client: BackendConfig['client'],
  jwk?: Record<string, unknown>,
) {
  const logs: string[] = [];
  const register = (seed: Seed) =>
    withClientAuth(
      seed,
      'bff',
      registered === 'private_key_jwt'
        ? { token_endpoint_auth_method: registered, jwks: { keys: [jwk as never] } }
        : { token_endpoint_auth_method: registered, client_secret: SECRET },
    );
  const stack = await startStack(t, { seed: register, backend: { client, log: (line) => logs.push(line) } });
  return { stack, logs };
}

const methods: Array<{ method: ClientAuthMethod; client: (pem: string) => BackendConfig['client'] }> = [
  { method: 'client_secret_basic', client: () => ({ id: 'bff', authMethod: 'client_secret_basic', secret: SECRET }) },
  { method: 'client_secret_post', client: () => ({ id: 'bff', authMethod: 'client_secret_post', secret: SECRET }) },
  { method: 'private_key_jwt', client: (key) => ({ id: 'bff', authMethod: 'private_key_jwt', privateKey: { key } }) },
];

for (const { method, client } of methods) {
  test(`TMI-04: ${method}: sign-in, bff-token and sign-out with revocation all authenticate as registered`, async (t) => {
    const keys = await clientKeys();
    const { stack, logs } = await stackWith(t, method, client(keys.pem), keys.jwk);
    const alice = stack.browser();
    // The code grant: the AS authenticated the client with the registered method.
    const done = await alice.signIn({ persona: 'alice' });
    t.is(done.status, 303);
    t.like((await alice.sessionInfo()).body, { sub: 'alice' });
    // The refresh grant (downscoped): the same method again.
    const token = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
    t.is(token.status, 200, JSON.stringify(token.body));
    t.is(token.body.scope, 'stocks:read');
    t.deepEqual(
      stack.grants.map((g) => [g.grant_type, g.ok]),
      [
        ['authorization_code', true],
        ['refresh_token', true],
      ],
    );
    // Revocation (RFC 7009 §2.1 authenticates the client too), then RP-initiated logout at the AS.
    const out = await alice.fetch('/auth/logout', {
      method: 'POST',
      headers: { origin: stack.origin, [CSRF_HEADER]: '1' },
    });
    t.is(out.status, 303);
    t.true(out.headers.get('location')?.startsWith(`${stack.as.issuer}/session/end`));
    t.true(logs.includes('grant.revoked (signed out)'), logs.join('\n'));
    t.like((await alice.sessionInfo()).body, { error: 'invalid_session' });
  });
}

const mismatches: Array<{ registered: ClientAuthMethod; configured: ClientAuthMethod }> = [
  { registered: 'client_secret_basic', configured: 'client_secret_post' },
  { registered: 'client_secret_post', configured: 'client_secret_basic' },
  { registered: 'private_key_jwt', configured: 'client_secret_basic' },
  { registered: 'client_secret_basic', configured: 'private_key_jwt' },
];

for (const { registered, configured } of mismatches) {
  test(`RFC 6749 §5.2: registered for ${registered}, configured for ${configured}: the AS's invalid_client is relayed on the sign-in page`, async (t) => {
    const keys = await clientKeys();
    const client = methods.find((m) => m.method === configured)?.client(keys.pem) as BackendConfig['client'];
    const { stack, logs } = await stackWith(t, registered, client, keys.jwk);
    const alice = stack.browser();
    const done = await alice.signIn({ persona: 'alice' });
    t.is(done.status, 400);
    const page = await done.text();
    t.regex(page, /Sign-in did not complete/);
    t.regex(page, /invalid_client/);
    t.true(
      logs.some((l) => l.startsWith('auth.callback.error auth.callback error: invalid_client')),
      logs.join('\n'),
    );
    t.deepEqual(
      stack.grants.map((g) => [g.grant_type, g.ok, g.error]),
      [['authorization_code', false, 'invalid_client']],
    );
    t.like((await alice.sessionInfo()).body, { error: 'invalid_session' }, 'no session was made');
  });
}

test('TMI-04: private_key_jwt with a key the AS does not hold is refused with invalid_client', async (t) => {
  const registeredKeys = await clientKeys();
  const otherKeys = await clientKeys();
  const { stack } = await stackWith(
    t,
    'private_key_jwt',
    { id: 'bff', authMethod: 'private_key_jwt', privateKey: { key: otherKeys.pem, kid: 'bff-key-1' } },
    registeredKeys.jwk,
  );
  const done = await stack.browser().signIn({ persona: 'alice' });
  t.is(done.status, 400);
  t.regex(await done.text(), /invalid_client/);
});

test('TMI-04: private_key_jwt with an Ed25519 private key given as JWK JSON (EdDSA, the JWK’s kid)', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const kid = 'bff-ed25519';
  const { stack } = await stackWith(
    t,
    'private_key_jwt',
    {
      id: 'bff',
      authMethod: 'private_key_jwt',
      privateKey: { key: JSON.stringify({ ...(await exportJWK(privateKey)), kid }) },
    },
    { ...(await exportJWK(publicKey)), kid, use: 'sig' },
  );
  const alice = stack.browser();
  t.is((await alice.signIn({ persona: 'alice' })).status, 303);
  t.is((await alice.token({ resource: STOCKS, scope: 'stocks:read' })).status, 200);
});
