/**
 * BFF_STORE=redis://… (or REDIS_URL): the backend keeps its store in Redis, sealed as on disk.
 * Against a real redis-server (Debian's `apt-get install -y redis-server`), on a free loopback port.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CSRF_HEADER } from '@tmi-bff/koa';
import { fetchWithJar } from '@tmi-bff/mock-as/testing';
import { type RedisServer, startRedis } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import { createClient } from 'redis';
import { configFromEnv, createBackend } from '../src/index.js';
import { STOCKS, type Stack, startStack, type UserAgent } from './_setup.js';

const REQUIRED = { BFF_ISSUER: 'https://as.example', BFF_CLIENT_ID: 'my-bff', BFF_CLIENT_SECRET: 'my-secret' };

let redis: RedisServer;
test.before(async () => {
  redis = await startRedis();
});
test.after.always(() => redis?.remove());

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

/** A second instance of the stack's backend: the same settings (one public origin, one Redis, one data key), its own port. */
async function secondInstance(t: ExecutionContext, stack: Stack, now: () => number) {
  const backend = await createBackend({ ...stack.backend.config, log: () => {}, now });
  const server = createHttpServer(backend.app.callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    server.close();
    server.closeAllConnections();
    await backend.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** A request of `user`'s browser that a load balancer sent to this instance. */
  return (user: UserAgent, path: string) =>
    fetchWithJar(user.jar, `${base}${path}`, { headers: { [CSRF_HEADER]: '1' } });
}

test('Two instances on one Redis: a session created through one is served by the other', async (t) => {
  const stack = await startStack(t, { backend: { redisUrl: redis.url, dataKey: new Uint8Array(randomBytes(32)) } });
  const viaSecond = await secondInstance(t, stack, () => Date.now());
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const info = await viaSecond(alice, '/.well-known/bff-sessioninfo');
  t.is(info.status, 200);
  t.like(await info.json(), { sub: 'alice' });
  const token = await viaSecond(
    alice,
    `/.well-known/bff-token?resource=${encodeURIComponent(STOCKS)}&scope=stocks:read`,
  );
  t.is(token.status, 200);
  t.like(await token.json(), { scope: 'stocks:read' });
});

test('D10 across instances: after expiry, 100 concurrent requests split across two instances make exactly one refresh', async (t) => {
  const stack = await startStack(t, { backend: { redisUrl: redis.url, dataKey: new Uint8Array(randomBytes(32)) } });
  let offset = 0;
  const viaSecond = await secondInstance(t, stack, () => Date.now() + offset);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const first = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(first.status, 200);
  // Past the cached token's lifetime (300 s) on both instances' clocks, within the session's hour.
  stack.advance(600_000);
  offset = 600_000;
  const from = stack.grants.length;
  const path = `/.well-known/bff-token?resource=${encodeURIComponent(STOCKS)}&scope=stocks:read`;
  const answers = await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      if (i % 2 === 0) {
        const res = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
        return { status: res.status, token: res.body.access_token };
      }
      const res = await viaSecond(alice, path);
      return { status: res.status, token: ((await res.json()) as { access_token?: string }).access_token };
    }),
  );
  t.deepEqual(
    stack.grants.slice(from).map((g) => `${g.grant_type} ${g.ok}`),
    ['refresh_token true'],
    'one refresh at the AS for both instances',
  );
  t.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
  const tokens = new Set(answers.map((a) => a.token));
  t.is(tokens.size, 1, 'every caller got the one new token');
  t.not([...tokens][0], first.body.access_token);
});

test('instances started together on one empty Redis agree on the cookie keys: a cookie one signs, every other accepts', async (t) => {
  const fresh = await startRedis();
  t.teardown(() => fresh.remove());
  const dataKey = new Uint8Array(randomBytes(32));
  const { config } = configFromEnv({ ...REQUIRED, BFF_STORE: fresh.url }, process.cwd());
  const backends = await Promise.all(
    [1, 2, 3, 4].map(() => createBackend({ ...config, dataKey, log: () => {}, sweepIntervalMs: 0 })),
  );
  t.teardown(() => Promise.all(backends.map((b) => b.close())));
  const signatures = new Set(backends.map((b) => (b.app.keys as unknown as { sign(d: string): string }).sign('x=1')));
  t.is(signatures.size, 1, 'one set of keys, made once under the store lock');
  const client = createClient({ url: fresh.url });
  await client.connect();
  t.teardown(() => client.close());
  t.is((await client.keys('tmi-bff:kv:config:*')).length, 1);
});
