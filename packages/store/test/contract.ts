/**
 * The contract every `KeyValueStore` keeps, as one suite: `storeContract(name, makeStore)` registers
 * its tests for one implementation. contract.test.ts runs it for each store of this package.
 */
import test, { type ExecutionContext } from 'ava';
import type { KeyValueStore } from '../src/index.js';

/** What the suite is told of a store, by the store's own hooks. */
export interface ContractHooks {
  /** The store's `onExpired`, with the value opened (a `SealedStore` reports it sealed: unseal it first). */
  onExpired(value: unknown): void;
  /** The store's report that a `withLock` holder outlived its lease, when it has one. */
  onLeaseExpired(key: string): void;
}

export interface StoreUnderTest {
  store: KeyValueStore;
  /** Lets `ms` pass for the store's expiry: a fake clock moved, or real time waited. */
  advance(ms: number): Promise<void>;
  /** Makes the store drop what has expired and report it to `onExpired` (a sweep). */
  expire(): Promise<void>;
  /** A new store on the same data, once `store` is closed; only for persistent stores. */
  reopen?(): Promise<KeyValueStore>;
}

export type MakeStore = (t: ExecutionContext, hooks: ContractHooks) => Promise<StoreUnderTest>;

export interface ContractOptions {
  /** Whether the store reports a lease that ran out through `onLeaseExpired`. Default: true. */
  reportsLeaseExpiry?: boolean;
}

/** A promise and the function that settles it, for holders kept waiting by the test. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

export function storeContract(name: string, makeStore: MakeStore, options: ContractOptions = {}): void {
  const setup = async (t: ExecutionContext) => {
    const expired: unknown[] = [];
    const leaseExpired: string[] = [];
    const subject = await makeStore(t, {
      onExpired: (value) => expired.push(value),
      onLeaseExpired: (key) => leaseExpired.push(key),
    });
    let closed = false;
    t.teardown(() => (closed ? undefined : subject.store.close()));
    const close = async () => {
      closed = true;
      await subject.store.close();
    };
    return { ...subject, expired, leaseExpired, close };
  };

  test(`${name}: get returns what set stored, undefined for a key never set, and nothing once deleted`, async (t) => {
    const { store } = await setup(t);
    await store.set('grant:s1', { refresh_token: 'rt-1', n: 1, list: ['a'], nested: { ok: true } });
    t.deepEqual(await store.get('grant:s1'), { refresh_token: 'rt-1', n: 1, list: ['a'], nested: { ok: true } });
    t.is(await store.get('grant:other'), undefined);
    await store.set('grant:s1', 'replaced');
    t.is(await store.get('grant:s1'), 'replaced');
    await store.delete('grant:s1');
    t.is(await store.get('grant:s1'), undefined);
    await t.notThrowsAsync(store.delete('grant:s1'), 'deleting an absent key is no error');
  });

  test(`${name}: what was set is copied, and what get returns cannot change what is stored`, async (t) => {
    const { store } = await setup(t);
    const value = { scopes: ['a'] };
    await store.set('grant:s1', value);
    value.scopes.push('b');
    const got = await store.get<typeof value>('grant:s1');
    t.deepEqual(got, { scopes: ['a'] });
    // Read-only (KeyValueStore.get): an in-process store hands out its own value frozen, so a change
    // throws; a store that decodes per read hands out a copy, so a change is lost.
    try {
      got?.scopes.push('c');
    } catch (err) {
      t.true(err instanceof TypeError, String(err));
    }
    t.deepEqual(await store.get('grant:s1'), { scopes: ['a'] });
  });

  test(`${name}: a value set with a ttl expires, is reported once to onExpired, and one without stays`, async (t) => {
    const { store, advance, expire, expired } = await setup(t);
    await store.set('login:a', { state: 'short' }, 50);
    await store.set('config:b', 'forever');
    await store.set('session:c', 'long', 60_000);
    await advance(10);
    t.deepEqual(await store.get('login:a'), { state: 'short' });
    await advance(60);
    t.is(await store.get('login:a'), undefined);
    t.is(await store.get('config:b'), 'forever');
    t.is(await store.get('session:c'), 'long');
    await expire();
    t.deepEqual(expired, [{ state: 'short' }]);
    await expire();
    t.is(expired.length, 1, 'an expired entry is reported once');
  });

  test(`${name}: set without a ttl (or a ttl of 0) keeps a value; a new set replaces the old expiry`, async (t) => {
    const { store, advance } = await setup(t);
    await store.set('session:a', 'a', 0);
    await store.set('session:b', 'b', 50);
    await store.set('session:b', 'b2');
    await advance(100);
    t.is(await store.get('session:a'), 'a');
    t.is(await store.get('session:b'), 'b2');
  });

  test(`${name}: withLock runs holders of one key one after the other, and returns what fn returns`, async (t) => {
    const { store } = await setup(t);
    await store.set('grant:s1', 0);
    // Read-modify-write sequences that would lose updates if they interleaved.
    const increment = () =>
      store.withLock('grant:s1', async () => {
        const n = (await store.get<number>('grant:s1')) ?? 0;
        await new Promise((resolve) => setImmediate(resolve));
        await store.set('grant:s1', n + 1);
        return n + 1;
      });
    const results = await Promise.all(Array.from({ length: 20 }, increment));
    t.is(await store.get('grant:s1'), 20);
    t.deepEqual(
      [...results].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  test(`${name}: withLock holders of other keys run in parallel; a holder that throws releases the key`, async (t) => {
    const { store } = await setup(t);
    const first = gate();
    const events: string[] = [];
    const held = store.withLock('grant:s1', async () => {
      events.push('s1');
      await first.opened;
    });
    await store.withLock('grant:s2', async () => {
      events.push('s2');
    });
    t.deepEqual(events, ['s1', 's2'], 's2 did not wait for s1');
    first.open();
    await held;
    await t.throwsAsync(
      store.withLock('grant:s1', async () => {
        throw new Error('holder failed');
      }),
      { message: 'holder failed' },
    );
    t.is(await store.withLock('grant:s1', async () => 'next'), 'next');
  });

  test(`${name}: a holder past its lease no longer holds the key; it still settles with its own outcome`, async (t) => {
    const { store, leaseExpired } = await setup(t);
    const stuck = gate();
    const events: string[] = [];
    const late = store.withLock(
      'grant:s1',
      async () => {
        events.push('late start');
        await stuck.opened;
        await store.set('grant:s1', 'late');
        events.push('late end');
        return 'late result';
      },
      { leaseMs: 50 },
    );
    // The next holder gets the key once the lease has run out, while the first still waits.
    const next = await store.withLock('grant:s1', async () => {
      events.push('next');
      await store.set('grant:s1', 'next');
      return 'next result';
    });
    t.is(next, 'next result');
    t.deepEqual(events, ['late start', 'next']);
    if (options.reportsLeaseExpiry ?? true) t.is(leaseExpired.length, 1);
    stuck.open();
    t.is(await late, 'late result');
    t.deepEqual(events, ['late start', 'next', 'late end']);
    // The late write lands whole, after the next holder's: last writer wins.
    t.is(await store.get('grant:s1'), 'late');
    // The key is free again.
    t.is(await store.withLock('grant:s1', async () => 'free'), 'free');
  });

  test(`${name}: a holder that settles within its lease keeps the key until it settles`, async (t) => {
    const { store, leaseExpired } = await setup(t);
    const events: string[] = [];
    const first = store.withLock(
      'grant:s1',
      async () => {
        // Round trips to the store, during which a second holder would run if the key were free.
        for (let i = 0; i < 5; i += 1) await store.set('grant:s1', i);
        events.push('first');
      },
      { leaseMs: 60_000 },
    );
    const second = store.withLock('grant:s1', async () => {
      events.push(`second saw ${await store.get('grant:s1')}`);
    });
    await Promise.all([first, second]);
    t.deepEqual(events, ['first', 'second saw 4']);
    t.deepEqual(leaseExpired, []);
  });

  test(`${name}: close resolves once what was set is kept`, async (t) => {
    const { store, reopen, close } = await setup(t);
    const writes = [store.set('session:a', { n: 1 }), store.set('session:b', { n: 2 }, 60_000)];
    await close();
    await Promise.all(writes);
    if (!reopen) {
      t.pass('not persistent: nothing to reopen');
      return;
    }
    const again = await reopen();
    t.teardown(() => again.close());
    t.deepEqual(await again.get('session:a'), { n: 1 });
    t.deepEqual(await again.get('session:b'), { n: 2 });
  });
}
