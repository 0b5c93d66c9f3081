/**
 * The effective-configuration block of the start-up log: a line per setting with its value and
 * whether it was set, and never any part of a secret.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { effectiveConfiguration } from '../src/effective-config.js';
import type { BackendConfig } from '../src/index.js';

// Random through and through: a word-like prefix ("client…") would match the block's own words.
const SECRET = randomBytes(24).toString('base64url');
const COOKIE_KEY = randomBytes(24).toString('base64url');
const DATA_KEY = new Uint8Array(randomBytes(32));

function config(client: Omit<BackendConfig['client'], 'id'>, more: Partial<BackendConfig> = {}): BackendConfig {
  return {
    origin: 'https://app.example.com',
    issuer: 'https://as.example.com/',
    client: { id: 'bff', ...client },
    login: {
      scope: 'openid offline_access stocks:read',
      resources: ['https://api.example.com/stocks', 'https://api.example.com/b'],
      params: { audience: 'https://api.example.com', prompt: 'consent' },
    },
    tokens: { strategy: 'exchange', expiryMarginSeconds: 30, asTimeoutMs: 2500 },
    sessionMaxAgeMs: 8 * 3600 * 1000,
    dataDir: '/var/lib/bff',
    dataKey: DATA_KEY,
    cookieKeys: [COOKIE_KEY, `${COOKIE_KEY}-old`],
    ...more,
  };
}

/** The value part of a setting's line. */
function line(block: string, name: string): string {
  const found = block.split('\n').find((l) => l.trimStart().startsWith(`${name} `));
  if (!found) throw new Error(`no line for ${name} in:\n${block}`);
  return found.trim().replace(/\s{2,}/g, ' | ');
}

/** Every prefix of `value` of at least 6 characters that appears in `block` (shorter ones match by chance). */
function leaked(block: string, value: string): string[] {
  const out: string[] = [];
  for (let n = 6; n <= value.length; n += 1) if (block.includes(value.slice(0, n))) out.push(value.slice(0, n));
  return out;
}

test('one line per setting: value and source, the defaults marked as such', (t) => {
  const block = effectiveConfiguration(config({ secret: SECRET }));
  t.is(block.split('\n')[0], 'effective configuration:');
  t.is(line(block, 'BFF_ISSUER'), 'BFF_ISSUER | https://as.example.com/ | (set)');
  t.is(line(block, 'BFF_CLIENT_ID'), 'BFF_CLIENT_ID | bff | (set)');
  t.is(line(block, 'BFF_CLIENT_AUTH'), 'BFF_CLIENT_AUTH | client_secret_basic | (default)');
  t.is(line(block, 'BFF_CLIENT_SECRET'), 'BFF_CLIENT_SECRET | <set> | (set)');
  t.is(line(block, 'BFF_SCOPE'), 'BFF_SCOPE | openid offline_access stocks:read | (set)');
  t.is(
    line(block, 'BFF_RESOURCES'),
    'BFF_RESOURCES | https://api.example.com/stocks https://api.example.com/b | (set)',
  );
  t.is(
    line(block, 'BFF_AUTHORIZATION_PARAMS'),
    'BFF_AUTHORIZATION_PARAMS | audience=https%3A%2F%2Fapi.example.com&prompt=consent | (set)',
  );
  t.is(line(block, 'BFF_DOWNSCOPING'), 'BFF_DOWNSCOPING | exchange | (set)');
  t.is(line(block, 'BFF_EXPIRY_MARGIN_SECONDS'), 'BFF_EXPIRY_MARGIN_SECONDS | 30 | (default)');
  t.is(line(block, 'BFF_AS_TIMEOUT_MS'), 'BFF_AS_TIMEOUT_MS | 2500 | (set)');
  t.is(line(block, 'session max age'), 'session max age | 28800000 ms (8 h) | (default)');
  t.is(line(block, 'BFF_DATA_DIR'), 'BFF_DATA_DIR | /var/lib/bff');
  t.is(line(block, 'BFF_DATA_KEY'), 'BFF_DATA_KEY | <set> | (set)');
  t.is(line(block, 'cookie keys'), 'cookie keys | <set> (2) | (set)');
  t.is(line(block, 'BFF_ORIGIN'), 'BFF_ORIGIN | https://app.example.com | (set)');
  t.is(line(block, 'BFF_FRONTEND'), 'BFF_FRONTEND | none: a plain home page');
  t.is(line(block, 'BFF_CONNECT_SRC'), 'BFF_CONNECT_SRC | https://api.example.com | (default)');
  t.is(line(block, 'BFF_TRUST_PROXY'), 'BFF_TRUST_PROXY | off | (default)');
  t.is(line(block, 'BFF_MOCK'), 'BFF_MOCK | off | (default)');
  t.false(block.includes('BFF_CLIENT_KEY_FILE'), 'no key lines for a secret method');
});

test('with the environment, a setting is "set" exactly when its variable is', (t) => {
  const env = { BFF_ISSUER: 'https://as.example.com/', BFF_CLIENT_SECRET: SECRET, BFF_DOWNSCOPING: 'exchange' };
  const block = effectiveConfiguration(config({ secret: SECRET }), { env });
  t.is(line(block, 'BFF_ISSUER'), 'BFF_ISSUER | https://as.example.com/ | (set)');
  t.is(line(block, 'BFF_CLIENT_SECRET'), 'BFF_CLIENT_SECRET | <set> | (set)');
  t.is(line(block, 'BFF_DOWNSCOPING'), 'BFF_DOWNSCOPING | exchange | (set)');
  t.is(line(block, 'BFF_CLIENT_ID'), 'BFF_CLIENT_ID | bff | (default)');
  t.is(line(block, 'BFF_DATA_DIR'), 'BFF_DATA_DIR | /var/lib/bff | (default)');
  t.is(line(block, 'BFF_SCOPE'), 'BFF_SCOPE | openid offline_access stocks:read | (default)');
});

test('the in-memory defaults say where the generated keys live', (t) => {
  const block = effectiveConfiguration(
    config({ secret: SECRET }, { dataDir: undefined, dataKey: undefined, cookieKeys: undefined, connectSrc: [] }),
  );
  t.is(line(block, 'BFF_DATA_DIR'), 'BFF_DATA_DIR | memory (nothing kept across restarts)');
  t.is(line(block, 'BFF_DATA_KEY'), 'BFF_DATA_KEY | generated per process (in memory) | (default)');
  t.is(line(block, 'cookie keys'), 'cookie keys | generated per process (in memory) | (default)');
  t.is(line(block, 'BFF_CONNECT_SRC'), "BFF_CONNECT_SRC | (only the app's own origin) | (set)");
  const kept = effectiveConfiguration(config({ secret: SECRET }, { dataKey: undefined, cookieKeys: undefined }));
  t.is(line(kept, 'BFF_DATA_KEY'), 'BFF_DATA_KEY | generated, kept in /var/lib/bff/bff.key | (default)');
});

test('secrets never appear, nor any prefix of them: client secret, private key, data key, cookie keys', async (t) => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pem = await exportPKCS8(privateKey);
  const jwk = await exportJWK(privateKey);
  for (const key of [pem, JSON.stringify(jwk)]) {
    const block = effectiveConfiguration(
      config({ authMethod: 'private_key_jwt', secret: SECRET, privateKey: { key, kid: 'k-2026', alg: 'ES256' } }),
    );
    t.is(line(block, 'BFF_CLIENT_AUTH'), 'BFF_CLIENT_AUTH | private_key_jwt | (set)');
    t.is(line(block, 'BFF_CLIENT_KEY_FILE'), 'BFF_CLIENT_KEY_FILE | <set> | (set)');
    t.is(line(block, 'BFF_CLIENT_KEY_ID'), 'BFF_CLIENT_KEY_ID | k-2026 | (set)');
    t.is(line(block, 'BFF_CLIENT_KEY_ALG'), 'BFF_CLIENT_KEY_ALG | ES256 | (set)');
    t.is(line(block, 'BFF_CLIENT_SECRET'), 'BFF_CLIENT_SECRET | <set> | (set)');
    const pemBody = pem.split('\n').slice(1, -2).join('');
    const secrets = [
      SECRET,
      COOKIE_KEY,
      pemBody,
      String(jwk.d),
      Buffer.from(DATA_KEY).toString('hex'),
      Buffer.from(DATA_KEY).toString('base64url'),
      Buffer.from(DATA_KEY).toString('base64'),
    ];
    for (const secret of secrets) t.deepEqual(leaked(block, secret), []);
  }
});

test('an issuer or dev server URL with a password shows without it; a newline never starts a line', (t) => {
  const block = effectiveConfiguration(
    config(
      { secret: SECRET },
      { issuer: `https://user:${SECRET}@as.example.com/`, frontend: { proxy: `http://dev:${SECRET}@localhost:5173` } },
    ),
  );
  t.deepEqual(leaked(block, SECRET), []);
  t.is(line(block, 'BFF_ISSUER'), 'BFF_ISSUER | https://<redacted>@as.example.com/ | (set)');
  t.is(line(block, 'BFF_FRONTEND'), 'BFF_FRONTEND | proxy to http://<redacted>@localhost:5173/ | (set)');
  const lines = effectiveConfiguration(config({ secret: SECRET }, { origin: 'http://a\nBFF_FAKE x' })).split('\n');
  t.false(lines.some((l) => l.startsWith('BFF_FAKE')));
});

test('BFF_STORE: a Redis URL is shown without its password; unset, the store is lowdb', (t) => {
  const block = effectiveConfiguration(
    config({ secret: SECRET }, { redisUrl: `redis://bff:${SECRET}@redis.internal:6379/2` }),
  );
  t.deepEqual(leaked(block, SECRET), []);
  t.is(line(block, 'BFF_STORE'), 'BFF_STORE | redis://<redacted>@redis.internal:6379/2 | (set)');
  t.is(line(effectiveConfiguration(config({ secret: SECRET })), 'BFF_STORE'), 'BFF_STORE | lowdb | (default)');
});
