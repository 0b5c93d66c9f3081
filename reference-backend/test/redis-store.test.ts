/**
 * BFF_STORE=redis://… (or REDIS_URL): the backend keeps its store in Redis, sealed as on disk.
 * Against a real redis-server (Debian's `apt-get install -y redis-server`), on a free loopback port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import test from 'ava';
import { createClient } from 'redis';
import { configFromEnv, createBackend } from '../src/index.js';
import { STOCKS, startStack } from './_setup.js';

const REQUIRED = { BFF_ISSUER: 'https://as.example', BFF_CLIENT_ID: 'my-bff', BFF_CLIENT_SECRET: 'my-secret' };

let redis: { url: string; child: ChildProcess };
test.before(async () => {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const failed = once(child, 'error').then(([err]) => {
    throw (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? new Error('redis-server is not installed: install it with `apt-get install -y redis-server` (Debian)')
      : err;
  });
  redis = { url: `redis://127.0.0.1:${port}`, child };
  const client = createClient({ url: redis.url, socket: { reconnectStrategy: 20 } });
  client.on('error', () => undefined);
  await Promise.race([failed, client.connect()]);
  await client.close();
});
test.after.always(() => redis?.child.kill('SIGTERM'));

test('configFromEnv: BFF_STORE (or REDIS_URL) names a Redis for the store; anything but a redis:// URL is refused', (t) => {
  const of = (env: Record<string, string>) => configFromEnv({ ...REQUIRED, ...env }, '/repo/rb').config.redisUrl;
  t.is(of({}), undefined);
  t.is(of({ BFF_STORE: 'redis://127.0.0.1:6379' }), 'redis://127.0.0.1:6379');
  t.is(of({ REDIS_URL: 'rediss://cache.example:6380/1' }), 'rediss://cache.example:6380/1');
  t.is(of({ BFF_STORE: 'redis://a:1', REDIS_URL: 'redis://b:2' }), 'redis://a:1', 'BFF_STORE first');
  t.throws(() => of({ BFF_STORE: 'lowdb' }), {
    instanceOf: TypeError,
    message: /BFF_STORE \(or REDIS_URL\) must be a Redis URL/,
  });
  t.throws(() => of({ BFF_STORE: '' }), { instanceOf: TypeError, message: /BFF_STORE is set but empty/ });
});

test('a backend on Redis without a data key is refused: every instance must seal with the same one', async (t) => {
  const { config } = configFromEnv({ ...REQUIRED, BFF_DATA_DIR: 'memory', BFF_STORE: redis.url }, '/repo/rb');
  await t.throwsAsync(createBackend({ ...config, log: () => {} }), {
    instanceOf: TypeError,
    message: /set BFF_DATA_KEY, the same on each of them/,
  });
});

test('a backend on Redis signs in and serves tokens; Redis holds sealed values under hashed keys', async (t) => {
  const stack = await startStack(t, { backend: { redisUrl: redis.url, dataKey: new Uint8Array(randomBytes(32)) } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  t.is((await alice.sessionInfo()).status, 200);
  const token = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(token.status, 200);
  const grant = await stack.backend.tokens.getGrant(await stack.sessionId(alice));

  const client = createClient({ url: redis.url });
  await client.connect();
  t.teardown(() => client.close());
  const keys = await client.keys('tmi-bff:kv:*');
  t.true(
    keys.some((key) => /^tmi-bff:kv:session:[\w-]{43}$/.test(key)),
    keys.join(' '),
  );
  t.true(
    keys.some((key) => /^tmi-bff:kv:grant:[\w-]{43}$/.test(key)),
    keys.join(' '),
  );
  const values = (await Promise.all(keys.map((key) => client.get(key)))).join('\n');
  for (const secret of [String(grant?.refresh_token), String(token.body.access_token), alice.sessionCookie().key]) {
    t.true(secret.length > 4);
    t.false(values.includes(secret) || keys.join(' ').includes(secret));
  }
});
