import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { KeyedMutex, LowdbStore, lowdbFolder, MemoryStore, type SealableStore, SealedStore } from '../src/index.js';
import { entriesOnDisk, tempFile } from './_setup.js';

// The contract every store keeps, run against each implementation.
interface Subject {
  name: string;
  /** Whether a store opened again on the same file sees what the previous one stored. */
  persistent: boolean;
  open(t: ExecutionContext, options: { file: string; now: () => number }): Promise<SealableStore>;
}

const secret = randomBytes(32);
const sealed = (t: ExecutionContext, inner: SealableStore) =>
  new SealedStore(inner, { secret, onError: (message) => t.fail(message) });

const subjects: Subject[] = [
  { name: 'MemoryStore', persistent: false, open: async (_t, { now }) => new MemoryStore({ now }) },
  { name: 'LowdbStore', persistent: true, open: (_t, options) => LowdbStore.open(options) },
  {
    name: 'SealedStore over MemoryStore',
    persistent: false,
    open: async (t, { now }) => sealed(t, new MemoryStore({ now })),
  },
  {
    name: 'SealedStore over LowdbStore',
    persistent: true,
    open: async (t, options) => sealed(t, await LowdbStore.open(options)),
  },
];

for (const subject of subjects) {
  const open = async (t: ExecutionContext, now: () => number = Date.now, file?: string) => {
    const store = await subject.open(t, { file: file ?? (await tempFile(t)), now });
    t.teardown(() => store.close());
    return store;
  };

  test(`${subject.name}: get returns what set stored (read-only), and nothing once deleted`, async (t) => {
    const store = await open(t);
    const value = { refresh_token: 'rt-1', scopes: ['a'] };
    await store.set('grant:s1', value);
    value.scopes.push('b');
    const got = await store.get<typeof value>('grant:s1');
    t.deepEqual(got, { refresh_token: 'rt-1', scopes: ['a'] });
    try {
      got?.scopes.push('c');
    } catch {
      // frozen: the store's own value (in-process stores)
    }
    t.deepEqual(await store.get('grant:s1'), { refresh_token: 'rt-1', scopes: ['a'] });
    t.is(await store.get('grant:other'), undefined);
    await store.delete('grant:s1');
    await store.delete('grant:s1');
    t.is(await store.get('grant:s1'), undefined);
  });

  test(`${subject.name}: a value set with a ttl expires and is swept; one without stays`, async (t) => {
    let now = 1000;
    const store = await open(t, () => now);
    await store.set('login:a', 'short', 50);
    await store.set('config:b', 'forever');
    now += 49;
    t.is(await store.get('login:a'), 'short');
    now += 1;
    t.is(await store.get('login:a'), undefined);
    t.is(await store.get('config:b'), 'forever');
    t.is(store.sweep?.(), 1);
    t.is(store.size, 1);
  });

  test(`${subject.name}: withLock runs holders of one key one after the other`, async (t) => {
    const store = await open(t);
    await store.set('grant:s1', 0);
    // Read-modify-write sequences that would lose updates if they interleaved.
    const increment = () =>
      store.withLock('grant:s1', async () => {
        const n = (await store.get<number>('grant:s1')) ?? 0;
        await store.set('grant:s1', n + 1);
      });
    await Promise.all(Array.from({ length: 20 }, increment));
    t.is(await store.get('grant:s1'), 20);
  });

  if (subject.persistent) {
    test(`${subject.name}: values survive a reopen; entries that expired meanwhile are dropped on open`, async (t) => {
      const file = await tempFile(t);
      let now = 10_000;
      const first = await subject.open(t, { file, now: () => now });
      await first.set('session:keep', 'yes', 60_000);
      await first.set('session:gone', 'no', 10);
      await first.close();
      now += 20;
      const second = await open(t, () => now, file);
      t.is(await second.get('session:keep'), 'yes');
      t.is(await second.get('session:gone'), undefined);
      t.is(second.size, 1);
    });
  }
}

test('KeyedMutex runs holders of one key one at a time, in order, and other keys in parallel', async (t) => {
  const mutex = new KeyedMutex();
  const events: string[] = [];
  let releaseFirst!: () => void;
  const first = mutex.run('k', async () => {
    events.push('1 start');
    await new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    events.push('1 end');
  });
  const second = mutex.run('k', async () => {
    events.push('2 start');
  });
  const other = mutex.run('other', async () => {
    events.push('other');
  });
  await other;
  t.deepEqual(events, ['1 start', 'other']);
  releaseFirst();
  await Promise.all([first, second]);
  t.deepEqual(events, ['1 start', 'other', '1 end', '2 start']);
  t.is(mutex.size, 0);
});

test('KeyedMutex releases the key when a holder throws', async (t) => {
  const mutex = new KeyedMutex();
  await t.throwsAsync(
    mutex.run('k', async () => {
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  t.is(await mutex.run('k', async () => 'next'), 'next');
});

test('LowdbStore: 1,000 concurrent sets cost one write per shard, and every set resolves once on disk', async (t) => {
  const file = await tempFile(t);
  const store = await LowdbStore.open({ file, shards: 16 });
  t.teardown(() => store.close());
  await Promise.all(Array.from({ length: 1000 }, (_, i) => store.set(`k${i}`, { i }, 60_000)));
  t.deepEqual(store.fileWrites, Array(16).fill(1));
  const entries = await entriesOnDisk(lowdbFolder(file));
  t.is(Object.keys(entries).length, 1000);
  t.deepEqual(entries.k999?.value, { i: 999 });
});

test('LowdbStore: a corrupt file is refused with a message naming it', async (t) => {
  const file = await tempFile(t);
  await LowdbStore.open({ file, shards: 4 }).then((s) => s.close());
  await writeFile(join(lowdbFolder(file), 'shard-002-of-004.json'), '{"version":1,');
  const err = await t.throwsAsync(LowdbStore.open({ file, shards: 4 }));
  t.regex(err?.message ?? '', /shard-002-of-004\.json is not valid JSON/);
});

test('MemoryStore: sweep reports each expired entry to onExpired once, after removing it', async (t) => {
  let now = 1000;
  // Each call records the key, the value and how many entries the store still holds.
  const seen: Array<[string, unknown, number]> = [];
  const store: MemoryStore = new MemoryStore({
    now: () => now,
    onExpired: (key, value) => {
      seen.push([key, value, store.size]);
    },
  });
  await store.set('grant:a', { refresh_token: 'rt-a' }, 10);
  await store.set('grant:b', { refresh_token: 'rt-b' }, 10);
  await store.set('session:c', 'stays', 60_000);
  now += 10;
  t.is(store.sweep(), 2);
  t.is(store.sweep(), 0);
  t.deepEqual(seen, [
    ['grant:a', { refresh_token: 'rt-a' }, 1],
    ['grant:b', { refresh_token: 'rt-b' }, 1],
  ]);
});

test('onExpired: a listener that throws or rejects stops neither the sweep nor the other calls, and becomes a warning', async (t) => {
  let now = 1000;
  const seen: string[] = [];
  const store = new MemoryStore({
    now: () => now,
    onExpired: (key) => {
      seen.push(key);
      if (key === 'a') throw new Error('revocation failed');
      return key === 'b' ? Promise.reject(new Error('revocation rejected')) : undefined;
    },
  });
  for (const key of ['a', 'b', 'c']) await store.set(key, key, 10);
  now += 10;
  const warnings: string[] = [];
  const collect = (warning: Error) => warnings.push(warning.message);
  process.on('warning', collect);
  t.teardown(() => process.off('warning', collect));
  const twoWarnings = new Promise<void>((resolve) => {
    process.on('warning', () => warnings.length === 2 && resolve());
  });
  t.is(store.sweep(), 3);
  t.deepEqual(seen, ['a', 'b', 'c']);
  t.is(store.size, 0);
  await twoWarnings;
  t.deepEqual(warnings.sort(), [
    'onExpired listener failed: revocation failed',
    'onExpired listener failed: revocation rejected',
  ]);
});

test('LowdbStore: entries that expired while closed are removed by open and reported once it has returned', async (t) => {
  const file = await tempFile(t);
  let now = 10_000;
  const first = await LowdbStore.open({ file, now: () => now });
  await first.set('grant:old', { refresh_token: 'rt-old' }, 10);
  await first.set('grant:live', { refresh_token: 'rt-live' }, 60_000);
  await first.close();
  now += 20;
  const reported: Array<[string, unknown]> = [];
  let delivered!: () => void;
  const wasDelivered = new Promise<void>((resolve) => {
    delivered = resolve;
  });
  const second = await LowdbStore.open({
    file,
    now: () => now,
    onExpired: (key, value) => {
      // `unwrap` is made after open() returns, as the sealing wrapper is; during open it would not exist yet.
      try {
        reported.push([key, unwrap(value)]);
      } catch (err) {
        reported.push([key, String(err)]);
      }
      delivered();
    },
  });
  const unwrap = (value: unknown) => value;
  t.is(second.size, 1);
  await wasDelivered;
  t.deepEqual(reported, [['grant:old', { refresh_token: 'rt-old' }]]);
  await second.close();
  t.deepEqual(Object.keys(await entriesOnDisk(lowdbFolder(file))), ['grant:live']);
});

for (const kind of ['MemoryStore', 'LowdbStore'] as const) {
  test(`${kind}: expired entries are swept on the store's own timer, with no call to sweep(); close() stops it`, async (t) => {
    let now = 1_000;
    const reported: string[] = [];
    let onSwept!: () => void;
    const swept = new Promise<void>((resolve) => {
      onSwept = resolve;
    });
    const options = {
      now: () => now,
      sweepIntervalMs: 20,
      onExpired: (key: string) => {
        reported.push(key);
        onSwept();
      },
    };
    const store =
      kind === 'MemoryStore'
        ? new MemoryStore(options)
        : await LowdbStore.open({ ...options, file: await tempFile(t) });
    await store.set('grant:a', { refresh_token: 'x' }, 1_000);
    await store.set('kept', 1);
    now += 1_001;
    await swept;
    t.deepEqual(reported, ['grant:a']);
    t.is(store.size, 1);
    await store.close();
  });
}

test('MemoryStore and LowdbStore: a read costs no copy: get hands out the stored value, frozen', async (t) => {
  const stores: MemoryStore[] = [new MemoryStore(), await LowdbStore.open({ file: await tempFile(t) })];
  for (const store of stores) {
    await store.set('grant:s1', { scopes: ['a'], nested: { deep: [1] } });
    type Grant = { scopes: string[]; nested: { deep: number[] } };
    const first = await store.get<Grant>('grant:s1');
    t.is(first, await store.get<Grant>('grant:s1'));
    t.true(Object.isFrozen(first) && Object.isFrozen(first?.scopes) && Object.isFrozen(first?.nested.deep));
    await store.close();
  }
});
