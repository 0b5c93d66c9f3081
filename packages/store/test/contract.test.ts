/** The `KeyValueStore` contract (contract.ts), run for every store of this package. */
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { LowdbStore, MemoryStore, type MemoryStoreOptions, SealedStore } from '../src/index.js';
import { tempFile } from './_setup.js';
import { type ContractHooks, storeContract } from './contract.js';

/** A fake clock the test moves, and the store options that report to the suite's hooks. */
function clock(hooks: ContractHooks, open: (storedKey: string, raw: unknown) => unknown = (_k, raw) => raw) {
  let now = 1_000_000;
  const options: MemoryStoreOptions = {
    now: () => now,
    sweepIntervalMs: 0,
    onExpired: (storedKey, raw) => hooks.onExpired(open(storedKey, raw)),
    onLeaseExpired: (key) => hooks.onLeaseExpired(key),
  };
  const advance = async (ms: number) => {
    now += ms;
  };
  return { options, advance };
}

storeContract('MemoryStore', async (_t, hooks) => {
  const { options, advance } = clock(hooks);
  const store = new MemoryStore(options);
  return { store, advance, expire: async () => void store.sweep() };
});

const lowdb = async (t: ExecutionContext, hooks: ContractHooks) => {
  const file = await tempFile(t);
  const { options, advance } = clock(hooks);
  const store = await LowdbStore.open({ ...options, file });
  return {
    store,
    advance,
    expire: async () => void store.sweep(),
    reopen: () => LowdbStore.open({ ...options, file }),
  };
};
storeContract('LowdbStore', lowdb);

const secret = randomBytes(32);
const sealedOver = (t: ExecutionContext, inner: MemoryStore | LowdbStore): SealedStore =>
  new SealedStore(inner, { secret, onError: (message) => t.fail(message) });

storeContract('SealedStore over MemoryStore', async (t, hooks) => {
  let sealed: SealedStore | undefined;
  const { options, advance } = clock(hooks, (storedKey, raw) => sealed?.unseal(storedKey, raw));
  sealed = sealedOver(t, new MemoryStore(options));
  const store = sealed;
  return { store, advance, expire: async () => void store.sweep() };
});

storeContract('SealedStore over LowdbStore', async (t, hooks) => {
  const file = await tempFile(t);
  let sealed: SealedStore | undefined;
  const { options, advance } = clock(hooks, (storedKey, raw) => sealed?.unseal(storedKey, raw));
  sealed = sealedOver(t, await LowdbStore.open({ ...options, file }));
  const store = sealed;
  return {
    store,
    advance,
    expire: async () => void store.sweep(),
    reopen: async () => sealedOver(t, await LowdbStore.open({ ...options, file })),
  };
});
