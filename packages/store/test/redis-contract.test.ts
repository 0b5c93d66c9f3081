/** The `KeyValueStore` contract (contract.ts) for `RedisStore`, alone and under a `SealedStore`, on a real redis-server. */
import { randomBytes, randomUUID } from 'node:crypto';
import { type RedisServer, startRedis } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import { RedisStore, type RedisStoreOptions, SealedStore } from '../src/index.js';
import { type ContractHooks, storeContract } from './contract.js';

let redis: RedisServer;
test.before(async () => {
  redis = await startRedis();
});
test.after.always(() => redis?.remove());

/**
 * Each store gets a prefix of its own on the shared server, and a clock the test moves (values
 * expire by it; with `onExpired`, Redis keeps them long after). Real-time expiry in Redis (`PX`) is
 * tested in redis-store.test.ts.
 */
function options(hooks: ContractHooks, open: (key: string, raw: unknown) => unknown) {
  let now = 1_000_000;
  const advance = async (ms: number) => {
    now += ms;
  };
  const store: RedisStoreOptions = {
    url: redis.url,
    now: () => now,
    prefix: `test:${randomUUID()}:`,
    sweepIntervalMs: 0,
    onExpired: (key, raw) => hooks.onExpired(open(key, raw)),
    onLeaseExpired: (key) => hooks.onLeaseExpired(key),
  };
  return { store, advance };
}

storeContract('RedisStore', async (_t, hooks) => {
  const { store: settings, advance } = options(hooks, (_key, raw) => raw);
  const store = await RedisStore.connect(settings);
  return { store, advance, expire: async () => void (await store.sweepExpired()) };
});

const secret = randomBytes(32);
storeContract('SealedStore over RedisStore', async (t: ExecutionContext, hooks) => {
  let sealed: SealedStore | undefined;
  const { store: settings, advance } = options(hooks, (key, raw) => sealed?.unseal(key, raw));
  const inner = await RedisStore.connect(settings);
  sealed = new SealedStore(inner, { secret, onError: (message) => t.fail(message) });
  return { store: sealed, advance, expire: async () => void (await inner.sweepExpired()) };
});
