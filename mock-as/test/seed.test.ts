// biome-ignore-all lint/suspicious/noExplicitAny: the tests edit arbitrary JSON to break the seed on purpose
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { exportJWK, generateKeyPair } from 'jose';
import { createMockAs, DEFAULT_ADDRESSES, parseSeed, SEED_FILE, SeedError } from '../src/index.js';
import { freePort, runServer } from './_process.js';

const raw = async () => JSON.parse(await readFile(SEED_FILE, 'utf8')) as Record<string, any>;
const vars = { ...DEFAULT_ADDRESSES };
/** The shape of a public EC key; the seed checks members, oidc-provider the key itself. */
const EC_KEY = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' };

/** The one-line message parseSeed throws for a seed changed by `edit`. */
async function seedError(edit: (seed: Record<string, any>) => void): Promise<string> {
  const seed = await raw();
  edit(seed);
  try {
    parseSeed(seed, vars);
  } catch (err) {
    if (err instanceof SeedError) return err.message;
    throw err;
  }
  return 'accepted';
}

test('the shipped seed is valid and has the scenario: alice, bob (stocks:buy denied), carol (no refresh tokens)', async (t) => {
  const seed = parseSeed(await raw(), vars);
  t.deepEqual(
    seed.users.map((u) => u.username),
    ['alice', 'bob', 'carol'],
  );
  t.deepEqual(seed.users[1]?.policy.denied_scopes, ['stocks:buy']);
  t.false(seed.users[2]?.policy.refresh_tokens);
  t.deepEqual(seed.clients[0]?.redirect_uris, ['http://localhost:3000/auth/callback']);
  t.deepEqual(
    seed.resources.map((r) => r.identifier),
    ['http://localhost:4001/stocks', 'http://localhost:4001/a', 'http://localhost:4001/b', 'http://localhost:4001/c'],
  );
});

test('placeholders take the configured addresses', async (t) => {
  const seed = parseSeed(await raw(), {
    ...vars,
    BFF_ORIGIN: 'http://127.0.0.1:8080',
    API_ORIGIN: 'http://127.0.0.1:9090',
  });
  t.deepEqual(seed.clients[0]?.redirect_uris, ['http://127.0.0.1:8080/auth/callback']);
  t.is(seed.resources[0]?.identifier, 'http://127.0.0.1:9090/stocks');
});

test('each kind of mistake is one readable line naming the field', async (t) => {
  const cases: Array<[string, (s: Record<string, any>) => void, string]> = [
    [
      'missing password',
      (s) => delete s.users[1].password,
      'users[1].password: Invalid input: expected string, received undefined',
    ],
    ['empty password', (s) => (s.users[0].password = ''), 'users[0].password: must not be empty'],
    ['unknown field', (s) => (s.users[0].pasword = 'x'), 'users[0]: Unrecognized key: "pasword"'],
    ['duplicate user', (s) => (s.users[2].username = 'alice'), 'users[2].username: duplicate username "alice"'],
    [
      'scope with a space',
      (s) => (s.resources[0].scopes['stocks read'] = 'x'),
      'resources[0].scopes.stocks read: must be a scope token (RFC 6749 §3.3: no spaces or quotes)',
    ],
    [
      'resource with a fragment',
      (s) => (s.resources[0].identifier = 'http://localhost:4001/stocks#x'),
      'resources[0].identifier: must be an absolute URI without a fragment',
    ],
    [
      'relative redirect URI',
      (s) => (s.clients[0].redirect_uris = ['/auth/callback']),
      'clients[0].redirect_uris[0]: must be an absolute URI without a fragment',
    ],
    [
      'unknown denied scope',
      (s) => (s.users[1].policy.denied_scopes = ['stocks:sell']),
      'users[1].policy.denied_scopes[0]: unknown scope "stocks:sell"',
    ],
    [
      'rule for an unknown client',
      (s) => (s.token_exchange.rules[0].client = 'nobody'),
      'token_exchange.rules[0].client: unknown client "nobody"',
    ],
    [
      'rule to an unknown resource',
      (s) => (s.token_exchange.rules[2].targets = ['http://localhost:4001/z']),
      'token_exchange.rules[2].targets[0]: unknown resource "http://localhost:4001/z"',
    ],
    [
      'exchange grant without a rule',
      (s) => (s.token_exchange.rules = s.token_exchange.rules.filter((r: any) => r.client !== 'service-b')),
      'clients[2].grant_types: lists token exchange, but no token_exchange.rules entry names "service-b"',
    ],
    [
      'confidential client without secret',
      (s) => delete s.clients[0].client_secret,
      'clients[0].client_secret: client_secret_basic needs a client_secret',
    ],
    [
      'unknown client authentication method',
      (s) => (s.clients[0].token_endpoint_auth_method = 'client_secret_magic'),
      'clients[0].token_endpoint_auth_method: must be one of client_secret_basic, client_secret_post, private_key_jwt',
    ],
    [
      'public client (none)',
      (s) => (s.clients[1].token_endpoint_auth_method = 'none'),
      'clients[1].token_endpoint_auth_method: must be one of client_secret_basic, client_secret_post, private_key_jwt',
    ],
    [
      'private_key_jwt without keys',
      (s) => {
        s.clients[0].token_endpoint_auth_method = 'private_key_jwt';
        delete s.clients[0].client_secret;
      },
      'clients[0].jwks: private_key_jwt needs the client\'s public keys: jwks ({ "keys": [...] }) or jwks_uri',
    ],
    [
      'private_key_jwt with a secret',
      (s) => Object.assign(s.clients[0], { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [EC_KEY] } }),
      'clients[0].client_secret: private_key_jwt authenticates with a signed client assertion, not a secret: remove it',
    ],
    [
      'private key in jwks',
      (s) => {
        Object.assign(s.clients[0], {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ ...EC_KEY, d: 'd' }] },
        });
        delete s.clients[0].client_secret;
      },
      'clients[0].jwks.keys[0]: must be a public key: remove its private members (d, p, q, dp, dq, qi, oth, k)',
    ],
    [
      'symmetric signing alg',
      (s) => {
        Object.assign(s.clients[0], {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [EC_KEY] },
          token_endpoint_auth_signing_alg: 'HS256',
        });
        delete s.clients[0].client_secret;
      },
      'clients[0].token_endpoint_auth_signing_alg: must be one of RS256, PS256, ES256, Ed25519, EdDSA',
    ],
    [
      'signing alg for a secret method',
      (s) => (s.clients[0].token_endpoint_auth_signing_alg = 'ES256'),
      'clients[0].token_endpoint_auth_signing_alg: applies to private_key_jwt only',
    ],
    [
      'unknown placeholder',
      (s) => (s.clients[0].redirect_uris = ['${FRONTEND}/cb']),
      'clients[0].redirect_uris[0]: unknown placeholder ${FRONTEND} (known: ISSUER, BFF_ORIGIN, API_ORIGIN)',
    ],
    [
      'ttl not a number',
      (s) => (s.resources[1].access_token_ttl = '300'),
      'resources[1].access_token_ttl: Invalid input: expected number, received string',
    ],
  ];
  for (const [what, edit, message] of cases) {
    const got = await seedError(edit);
    t.is(got, message, what);
    t.false(got.includes('\n'), `${what}: one line`);
  }
});

test('client metadata oidc-provider rejects stops start-up with a seed error naming the client', async (t) => {
  const seed = await raw();
  const { publicKey } = await generateKeyPair('ES256');
  Object.assign(seed.clients[0], {
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [await exportJWK(publicKey)] },
    jwks_uri: 'https://keys.example/bff.jwks',
  });
  delete seed.clients[0].client_secret;
  const error = await t.throwsAsync(
    createMockAs({ issuer: 'http://127.0.0.1:1', seed: parseSeed(seed, vars), log: () => {} }),
    {
      instanceOf: SeedError,
    },
  );
  t.regex(error?.message ?? '', /^clients\[0\] \(bff\): jwks and jwks_uri must not be used at the same time$/);
});

test('a malformed seed file stops the server with exit code 1 and one line on stderr, no stack trace', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mock-as-seed-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'seed.json');
  const seed = await raw();
  seed.users[1].password = 42;
  await writeFile(file, JSON.stringify(seed));

  const p = runServer({
    MOCK_AS_SEED: file,
    MOCK_AS_DATA_DIR: 'memory',
    MOCK_AS_ISSUER: `http://127.0.0.1:${await freePort()}`,
  });
  t.is(await p.exited, 1);
  const lines = p.stderr.filter((l) => !l.startsWith('oidc-provider WARNING'));
  t.deepEqual(lines, [
    `mock-as: invalid seed: ${file}: users[1].password: Invalid input: expected string, received number`,
  ]);

  await writeFile(file, '{ "users": [ }');
  const q = runServer({
    MOCK_AS_SEED: file,
    MOCK_AS_DATA_DIR: 'memory',
    MOCK_AS_ISSUER: `http://127.0.0.1:${await freePort()}`,
  });
  t.is(await q.exited, 1);
  const more = q.stderr.filter((l) => !l.startsWith('oidc-provider WARNING'));
  t.is(more.length, 1);
  t.regex(more[0] ?? '', new RegExp(`^mock-as: invalid seed: ${file}: is not valid JSON`));
});
