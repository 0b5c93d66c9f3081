/**
 * What `RedisStore` does beyond the shared contract, on a real redis-server: layout, locks across
 * clients, leases, outages. Serial: they measure real time, and one of them pauses the process.
 */
import { randomUUID } from 'node:crypto';
import { type RedisServer, startRedis } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import { createClient } from 'redis';
import { LeaseLost, RedisStore, type RedisStoreOptions, StoreUnavailable } from '../src/index.js';

let redis: RedisServer;
test.before(async () => {
  redis = await startRedis();
});
test.after.always(() => redis?.remove());

/** A store on `server` (default: the shared one) with a prefix of its own unless given one. */
async function open(t: ExecutionContext, options: Partial<RedisStoreOptions> = {}, server = redis) {
  const store = await RedisStore.connect({ url: server.url, prefix: `test:${randomUUID()}:`, ...options });
  t.teardown(() => store.close());
  return store;
}

/** A plain client, to look at what the store wrote. */
async function raw(t: ExecutionContext) {
  const client = createClient({ url: redis.url });
  await client.connect();
  t.teardown(() => client.close());
  return client;
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Blocks this process's event loop, as a long GC pause or a stopped process would. */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

test.serial(
  'values are JSON under <prefix>kv:<key>; a ttl becomes PX, and Redis drops the value when it runs out',
  async (t) => {
    const prefix = `test:${randomUUID()}:`;
    const store = await open(t, { prefix });
    const client = await raw(t);
    const before = Date.now();
    // Long enough that a loaded machine still reads the TTL before it runs out.
    await store.set('session:a', { sub: 'alice' }, 1000);
    await store.set('config:b', [1, 2]);
    const stored = JSON.parse((await client.get(`${prefix}kv:session:a`)) ?? 'null');
    t.deepEqual(stored.v, { sub: 'alice' });
    t.true(stored.e >= before + 1000 && stored.e <= Date.now() + 1000, 'e: when it expires, epoch ms');
    t.is(await client.get(`${prefix}kv:config:b`), '{"v":[1,2]}');
    const pttl = await client.pTTL(`${prefix}kv:session:a`);
    t.true(pttl > 0 && pttl <= 1000, `PTTL ${pttl}`);
    t.is(await client.pTTL(`${prefix}kv:config:b`), -1, 'no ttl, no expiry');
    t.is(await client.exists(`${prefix}expiry`), 0, 'no expiry index without onExpired');
    // Real time: Redis expires the value by itself.
    await sleep(1050);
    t.is(await client.exists(`${prefix}kv:session:a`), 0);
    t.is(await store.get('session:a'), undefined);
    t.deepEqual(await store.get('config:b'), [1, 2]);
  },
);

test.serial('two stores on one prefix share values, and their locks exclude each other', async (t) => {
  const prefix = `test:${randomUUID()}:`;
  const [a, b] = [await open(t, { prefix }), await open(t, { prefix })];
  await a.set('grant:s1', 0);
  t.is(await b.get('grant:s1'), 0);
  const increment = (store: RedisStore) =>
    store.withLock('grant:s1', async () => {
      const n = (await store.get<number>('grant:s1')) ?? 0;
      await sleep(1);
      await store.set('grant:s1', n + 1);
    });
  await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 ? a : b)));
  t.is(await a.get('grant:s1'), 20);
});

test.serial(
  'the lock is renewed while a holder runs past the lock ttl: the other store waits until it settles',
  async (t) => {
    const prefix = `test:${randomUUID()}:`;
    const lost: string[] = [];
    const options = { prefix, lockTtlMs: 150, onLeaseLost: (key: string) => lost.push(key) };
    const [a, b] = [await open(t, options), await open(t, options)];
    const client = await raw(t);
    const held = gate();
    const events: string[] = [];
    const first = a.withLock(
      'grant:s1',
      async (signal) => {
        held.open();
        await sleep(600); // four lock ttls: without renewal the lock would be gone
        events.push('a done');
        t.false(signal.aborted);
        await a.set('grant:s1', 'a');
      },
      { leaseMs: 10_000 },
    );
    await held.opened;
    const second = b.withLock('grant:s1', async () => {
      events.push(`b saw ${await b.get('grant:s1')}`);
    });
    await sleep(300);
    const pttl = await client.pTTL(`${prefix}lock:grant:s1`);
    t.true(pttl > 0 && pttl <= 150, `the lock is still held, for at most lockTtlMs (PTTL ${pttl})`);
    await Promise.all([first, second]);
    t.deepEqual(events, ['a done', 'b saw a']);
    t.deepEqual(lost, []);
    t.is(await client.exists(`${prefix}lock:grant:s1`), 0, 'released');
  },
);

test.serial(
  'a holder paused past the lock ttl loses the lock: its signal aborts and its later writes are refused',
  async (t) => {
    const prefix = `test:${randomUUID()}:`;
    const lost: string[] = [];
    const options = { prefix, lockTtlMs: 100, onLeaseLost: (key: string) => lost.push(key) };
    const [a, b] = [await open(t, options), await open(t, options)];
    const held = gate();
    const go = gate();
    const bHolds = gate();
    const first = a.withLock(
      'grant:s1',
      async (signal) => {
        held.open();
        await go.opened;
        pause(300); // no renewal can run; Redis drops the lock
        await bHolds.opened;
        t.true(signal.aborted);
        t.true(signal.reason instanceof LeaseLost);
        await a.set('grant:s1', 'a (stale)');
      },
      { leaseMs: 10_000 },
    );
    await held.opened;
    const second = b.withLock('grant:s1', async () => {
      bHolds.open();
      await b.set('grant:s1', 'b');
    });
    go.open();
    const refused = await t.throwsAsync(first, { instanceOf: LeaseLost });
    t.is(refused?.code, 'TMI_BFF_STORE_LEASE_LOST');
    await second;
    t.is(await a.get('grant:s1'), 'b', 'the stale holder wrote nothing');
    t.deepEqual(lost, ['grant:s1']);
  },
);

test.serial(
  'writes under a lock are fenced in Redis: once another token holds the lock, the write does not land',
  async (t) => {
    const prefix = `test:${randomUUID()}:`;
    const lost: string[] = [];
    const store = await open(t, { prefix, onLeaseLost: (key) => lost.push(key) });
    const client = await raw(t);
    await store.set('grant:s1', 'before');
    const error = await t.throwsAsync(
      store.withLock('grant:s1', async () => {
        await store.set('grant:s1', 'mine');
        // Another holder took the key (as after an expiry this process has not noticed yet).
        await client.set(`${prefix}lock:grant:s1`, 'another-token');
        await store.delete('grant:s1');
      }),
      { instanceOf: LeaseLost },
    );
    t.regex(error?.message ?? '', /lockTtlMs/);
    t.is(await store.get('grant:s1'), 'mine', 'the delete did not happen');
    t.is(await client.get(`${prefix}lock:grant:s1`), 'another-token', 'the other holder keeps its lock');
    t.deepEqual(lost, ['grant:s1']);
  },
);

test.serial('each expired value is reported once across stores sweeping the same prefix', async (t) => {
  const prefix = `test:${randomUUID()}:`;
  let now = 1_000_000;
  const reported: Array<[string, unknown]> = [];
  const options = {
    prefix,
    now: () => now,
    sweepIntervalMs: 0,
    onExpired: (k: string, v: unknown) => void reported.push([k, v]),
  };
  const [a, b] = [await open(t, options), await open(t, options)];
  await a.set('session:x', { sub: 'x' }, 1000);
  await b.set('session:y', { sub: 'y' }, 5000);
  now += 2000;
  t.is(await b.get('session:x'), undefined, 'expired by the clock, though Redis still keeps it for the sweep');
  const counts = await Promise.all([a.sweepExpired(), b.sweepExpired(), a.sweepExpired()]);
  t.is(
    counts.reduce((sum, n) => sum + n, 0),
    1,
  );
  t.deepEqual(reported, [['session:x', { sub: 'x' }]]);
  t.deepEqual(await a.get('session:y'), { sub: 'y' });
});

test.serial(
  'Redis down: calls reject at once with StoreUnavailable; Redis back on the same port: calls work again',
  async (t) => {
    const own = await startRedis();
    t.teardown(() => own.remove());
    const events: string[] = [];
    const store = await open(t, { commandTimeoutMs: 500, onConnection: (e) => events.push(e.state) }, own);
    await store.set('session:a', 'kept while up');
    await own.stop();
    for (const call of [
      () => store.get('session:a'),
      () => store.set('session:b', 'b'),
      () => store.delete('session:a'),
      () => store.withLock('grant:s1', async () => t.fail('ran without the lock')),
    ]) {
      const started = Date.now();
      const error = await t.throwsAsync(call(), { instanceOf: StoreUnavailable });
      t.is(error?.code, 'TMI_BFF_STORE_UNAVAILABLE');
      t.regex(error?.message ?? '', new RegExp(`Redis at redis://127.0.0.1:${own.port}.* does not answer`));
      t.true(Date.now() - started < 1000, `failed fast (${Date.now() - started} ms)`);
    }
    t.deepEqual(events, ['lost']);
    await own.start();
    // The client reconnects by itself (backing off to one attempt a second).
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await store.set('session:c', 'after');
        break;
      } catch (err) {
        if (!(err instanceof StoreUnavailable) || Date.now() > deadline) throw err;
        await sleep(50);
      }
    }
    t.is(await store.get('session:c'), 'after');
    t.is(await store.withLock('grant:s1', async () => 'locked again'), 'locked again');
    t.deepEqual(events, ['lost', 'back']);
  },
);

test.serial(
  'Redis hung (SIGSTOP): calls reject with StoreUnavailable within commandTimeoutMs; resumed: calls work again',
  async (t) => {
    const own = await startRedis();
    t.teardown(() => own.remove());
    const store = await open(t, { commandTimeoutMs: 300, lockTtlMs: 5000, onConnection: () => {} }, own);
    await store.set('session:a', 'kept');
    own.pause();
    for (const call of [
      () => store.get('session:a'),
      () => store.set('session:b', 'b'),
      () => store.withLock('grant:s1', async () => t.fail('ran without the lock')),
    ]) {
      const started = Date.now();
      const error = await t.throwsAsync(call(), { instanceOf: StoreUnavailable });
      t.regex(error?.message ?? '', /no answer within 300 ms \(commandTimeoutMs\)/);
      t.true(Date.now() - started < 1000, `bounded by commandTimeoutMs (${Date.now() - started} ms)`);
    }
    own.resume();
    t.is(await store.get('session:a'), 'kept');
    // The lock's SET that timed out was carried out on resume, and released right after it.
    const started = Date.now();
    t.is(await store.withLock('grant:s1', async () => 'locked again'), 'locked again');
    t.true(Date.now() - started < 1000, `not held for the lock ttl by no one (${Date.now() - started} ms)`);
  },
);

test.serial('a store closes while Redis is down, without waiting for it', async (t) => {
  const own = await startRedis();
  t.teardown(() => own.remove());
  const store = await RedisStore.connect({ url: own.url, commandTimeoutMs: 300, onConnection: () => {} });
  await own.stop();
  const started = Date.now();
  await store.close();
  t.true(Date.now() - started < 1000, `${Date.now() - started} ms`);
});

test.serial('connecting to a Redis that does not answer rejects with StoreUnavailable', async (t) => {
  const own = await startRedis();
  await own.remove();
  const started = Date.now();
  const error = await t.throwsAsync(RedisStore.connect({ url: own.url, commandTimeoutMs: 500 }), {
    instanceOf: StoreUnavailable,
  });
  t.regex(error?.message ?? '', /check that it runs/);
  t.true(Date.now() - started < 3000, `${Date.now() - started} ms`);
});

test.serial('without redis-server installed, the test helper says how to install it', async (t) => {
  await t.throwsAsync(startRedis({ bin: 'redis-server-not-installed' }), {
    message: /apt-get install -y redis-server/,
  });
});
