/**
 * The lowdb store's files: entries spread over shard files by a hash of the key, a manifest naming
 * the shard count, an older single-file store migrated into the shards, and expiry by index.
 */
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import test from 'ava';
import { LOWDB_MAX_ENTRIES, LowdbStore, lowdbFolder, MemoryStore, SWEEP_CHUNK } from '../src/index.js';
import { shardOf } from '../src/shard-folder.js';
import { entriesOnDisk, modeOf, tempFile } from './_setup.js';

const files = async (folder: string) => (await readdir(folder)).sort();
const manifest = async (folder: string) => JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));

/** Two keys that fall in different shards of `count`. */
function keysInTwoShards(count: number): [string, string] {
  const first = 'session:a';
  for (let i = 0; ; i += 1) {
    const other = `session:b${i}`;
    if (shardOf(other, count) !== shardOf(first, count)) return [first, other];
  }
}

test('LowdbStore: a write replaces the one shard file that holds its key, and no other', async (t) => {
  const file = await tempFile(t);
  const store = await LowdbStore.open({ file, shards: 8 });
  t.teardown(() => store.close());
  const folder = lowdbFolder(file);
  const [a, b] = keysInTwoShards(8);
  const writesOf = (key: string) => store.fileWrites[shardOf(key, 8)];

  await store.set(a, { n: 1 });
  t.is(writesOf(a), 1);
  t.is(
    store.fileWrites.reduce((sum, n) => sum + n, 0),
    1,
  );
  const shardA = `shard-00${shardOf(a, 8)}-of-008.json`;
  t.deepEqual(await files(folder), ['manifest.json', shardA]);

  await store.set(b, { n: 2 });
  await store.delete(b);
  t.is(writesOf(a), 1, "the other key's shard was not written again");
  t.is(writesOf(b), 2);
  t.is(
    store.fileWrites.reduce((sum, n) => sum + n, 0),
    3,
  );
  t.deepEqual(JSON.parse(await readFile(join(folder, shardA), 'utf8')).entries, { [a]: { value: { n: 1 } } });
});

test('LowdbStore: set and delete resolve once the change is in its shard file; a reopen finds it', async (t) => {
  const file = await tempFile(t);
  const folder = lowdbFolder(file);
  const store = await LowdbStore.open({ file, shards: 4 });
  await store.set('session:kept', { sid: 'kept' }, 60_000);
  await store.set('grant:gone', { rt: 'x' });
  t.like((await entriesOnDisk(folder))['session:kept'], { value: { sid: 'kept' } });
  await store.delete('grant:gone');
  t.false('grant:gone' in (await entriesOnDisk(folder)));
  await store.close();

  const again = await LowdbStore.open({ file, shards: 4 });
  t.teardown(() => again.close());
  t.deepEqual(await again.get('session:kept'), { sid: 'kept' });
  t.is(await again.get('grant:gone'), undefined);
  t.is(again.size, 1);
});

test('LowdbStore: a single-file store of an older version is moved into the shards, then removed', async (t) => {
  const file = await tempFile(t);
  await mkdir(dirname(file), { mode: 0o755 });
  await chmod(dirname(file), 0o755);
  const now = 1_000_000;
  const entries: Record<string, { value: unknown; expiresAt?: number }> = Object.fromEntries(
    Array.from({ length: 200 }, (_, i) => [`session:${i}`, { value: { i }, expiresAt: now + 60_000 }]),
  );
  entries['grant:old'] = { value: { rt: 'old' }, expiresAt: now - 1 };
  entries['config:keys'] = { value: ['k1'] };
  await writeFile(file, JSON.stringify({ version: 1, entries }), { mode: 0o644 });

  const expired: string[] = [];
  const store = await LowdbStore.open({ file, shards: 16, now: () => now, onExpired: (key) => void expired.push(key) });
  t.teardown(() => store.close());
  const folder = lowdbFolder(file);
  // Every entry is there, the one that expired meanwhile is dropped and reported, and the old file is gone.
  t.is(store.size, 201);
  t.deepEqual(await store.get('session:199'), { i: 199 });
  t.deepEqual(await store.get('config:keys'), ['k1']);
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(expired, ['grant:old']);
  t.false((await readdir(dirname(file))).includes('store.json'));
  t.deepEqual(await manifest(folder), { version: 1, shards: 16 });
  t.is(await modeOf(dirname(file)), 0o700);
  t.is(await modeOf(folder), 0o700);
  await store.close();
  const onDisk = await entriesOnDisk(folder);
  t.is(Object.keys(onDisk).length, 201);
  t.deepEqual(onDisk['session:7'], { value: { i: 7 }, expiresAt: now + 60_000 });
  t.false('grant:old' in onDisk);

  const again = await LowdbStore.open({ file, shards: 16, now: () => now });
  t.teardown(() => again.close());
  t.is(again.size, 201);
  t.deepEqual(await again.get('session:0'), { i: 0 });
});

test('LowdbStore: opening with another shard count reshards the folder, and keeps every entry', async (t) => {
  const file = await tempFile(t);
  const folder = lowdbFolder(file);
  const first = await LowdbStore.open({ file, shards: 4 });
  await Promise.all(Array.from({ length: 100 }, (_, i) => first.set(`session:${i}`, { i }, 60_000)));
  await first.close();
  t.deepEqual(await files(folder), ['manifest.json', ...[0, 1, 2, 3].map((i) => `shard-00${i}-of-004.json`)]);

  const second = await LowdbStore.open({ file, shards: 16 });
  t.is(second.size, 100);
  t.deepEqual(await manifest(folder), { version: 1, shards: 16 });
  const names = await files(folder);
  t.is(names.length, 17);
  t.true(names.every((name) => name === 'manifest.json' || name.endsWith('-of-016.json')));
  // Each entry sits in the shard its key hashes to.
  for (const name of names.filter((n) => n.startsWith('shard-'))) {
    const index = Number(name.slice(6, 9));
    for (const key of Object.keys(JSON.parse(await readFile(join(folder, name), 'utf8')).entries)) {
      t.is(shardOf(key, 16), index, key);
    }
  }
  await second.close();

  const third = await LowdbStore.open({ file, shards: 16 });
  t.teardown(() => third.close());
  t.deepEqual(await third.get('session:42'), { i: 42 });
  t.is(third.size, 100);
});

test('LowdbStore: shard files of a reshard that stopped before its manifest are ignored and removed', async (t) => {
  const file = await tempFile(t);
  const folder = lowdbFolder(file);
  const first = await LowdbStore.open({ file, shards: 2 });
  await first.set('session:real', 'kept');
  await first.close();
  // What a reshard to 8 shards leaves when it stops after writing a shard and before the manifest.
  const stray = { version: 1, entries: { 'session:half-written': { value: 'not committed' } } };
  await writeFile(join(folder, 'shard-003-of-008.json'), JSON.stringify(stray), { mode: 0o600 });

  const again = await LowdbStore.open({ file, shards: 2 });
  t.teardown(() => again.close());
  t.is(await again.get('session:half-written'), undefined);
  t.is(await again.get('session:real'), 'kept');
  t.false((await files(folder)).includes('shard-003-of-008.json'));
});

test('LowdbStore: the temporary files of writes a crash cut short are removed at open, and the shards are kept', async (t) => {
  const file = await tempFile(t);
  const folder = lowdbFolder(file);
  const first = await LowdbStore.open({ file, shards: 2 });
  await first.set('session:real', 'kept');
  await first.close();
  // What a SIGKILL leaves in the middle of replacing a shard and the manifest: half-written temporary files.
  await writeFile(join(folder, '.shard-001-of-002.json.0a1b2c3d4e5f.tmp'), '{"version":1,"entr', { mode: 0o600 });
  await writeFile(join(folder, '.manifest.json.a1b2c3d4e5f6.tmp'), '', { mode: 0o600 });

  const again = await LowdbStore.open({ file, shards: 2 });
  t.teardown(() => again.close());
  t.is(await again.get('session:real'), 'kept');
  t.false((await files(folder)).some((name) => name.endsWith('.tmp')));
});

test('LowdbStore: the folder is 0700 and its files 0600', async (t) => {
  const file = await tempFile(t);
  const store = await LowdbStore.open({ file, shards: 4 });
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`session:${i}`, i)));
  await store.close();
  const folder = lowdbFolder(file);
  t.is(await modeOf(folder), 0o700);
  t.is(await modeOf(dirname(folder)), 0o700);
  for (const name of await files(folder)) t.is(await modeOf(join(folder, name)), 0o600, name);
});

test('LowdbStore: a store above LOWDB_MAX_ENTRIES warns once at open, naming the count, the limit and the Redis store', async (t) => {
  const file = await tempFile(t);
  await mkdir(dirname(file), { recursive: true });
  // An older single-file store just above the limit: the quickest way to open a big one.
  const parts: string[] = [];
  for (let i = 0; i <= LOWDB_MAX_ENTRIES; i += 1) parts.push(`"k${i}":{"value":${i}}`);
  await writeFile(file, `{"version":1,"entries":{${parts.join(',')}}}`);
  const warnings: string[] = [];
  const store = await LowdbStore.open({ file, onWarning: (message) => warnings.push(message) });
  t.teardown(() => store.close());
  t.is(store.size, LOWDB_MAX_ENTRIES + 1);
  t.is(warnings.length, 1);
  t.true(warnings[0]?.includes(`holds ${LOWDB_MAX_ENTRIES + 1} entries`), warnings[0]);
  t.true(warnings[0]?.includes(`the ${LOWDB_MAX_ENTRIES} it is made for`), warnings[0]);
  t.true(warnings[0]?.includes('set BFF_STORE=redis://… (see docs/configuration.md)'), warnings[0]);

  const small = await LowdbStore.open({ file: await tempFile(t), onWarning: (message) => warnings.push(message) });
  await small.close();
  t.is(warnings.length, 1, 'a small store does not warn');
});

test('MemoryStore: a sweep looks only at the entries that are due, however many the store holds', async (t) => {
  let now = 1_000;
  const store = new MemoryStore({ now: () => now, sweepIntervalMs: 0 });
  for (let i = 0; i < 20_000; i += 1) void store.set(`session:${i}`, i, 3_600_000);
  for (let i = 0; i < 5; i += 1) void store.set(`login:${i}`, i, 10);
  // Replaced with a longer expiry, and deleted: their first index items are stale when they come due.
  await store.set('login:0', 'again', 3_600_000);
  await store.delete('login:1');
  now += 10;
  t.is(store.sweep(), 3);
  t.is(store.sweepExamined, 5, 'the 5 items due, not the 20 005 entries');
  t.is(await store.get('login:0'), 'again');
  t.is(store.sweep(), 0);
  t.is(store.sweepExamined, 5);
  t.is(store.size, 20_001);
});

test("LowdbStore: the store's timer sweeps a large store by looking only at what expired", async (t) => {
  let now = 1_000;
  const expired: string[] = [];
  let reported!: () => void;
  const allReported = new Promise<void>((resolve) => {
    reported = resolve;
  });
  const store = await LowdbStore.open({
    file: await tempFile(t),
    shards: 8,
    now: () => now,
    sweepIntervalMs: 10,
    onExpired: (key) => {
      expired.push(key);
      if (expired.length === 3) reported();
    },
  });
  t.teardown(() => store.close());
  await Promise.all(Array.from({ length: 20_000 }, (_, i) => store.set(`session:${i}`, i, 3_600_000)));
  await Promise.all([1, 2, 3].map((i) => store.set(`login:${i}`, i, 10)));
  now += 10;
  await allReported;
  t.deepEqual(expired, ['login:1', 'login:2', 'login:3']);
  t.is(store.sweepExamined, 3);
  t.is(store.size, 20_000);
});

test('MemoryStore: the timer sweeps many expired entries SWEEP_CHUNK at a time, and reports each once', async (t) => {
  let now = 1_000;
  const sizes: number[] = [];
  let done!: () => void;
  const allReported = new Promise<void>((resolve) => {
    done = resolve;
  });
  const store: MemoryStore = new MemoryStore({
    now: () => now,
    sweepIntervalMs: 10,
    onExpired: () => {
      sizes.push(store.size);
      if (sizes.length === 2 * SWEEP_CHUNK + 500) done();
    },
  });
  t.teardown(() => store.close());
  for (let i = 0; i < 2 * SWEEP_CHUNK + 500; i += 1) void store.set(`login:${i}`, i, 10);
  for (let i = 0; i < 100; i += 1) void store.set(`session:${i}`, i, 3_600_000);
  now += 10;
  await allReported;
  // Each chunk is reported once it is removed, before the next chunk goes.
  t.deepEqual([...new Set(sizes)], [100 + SWEEP_CHUNK + 500, 100 + 500, 100]);
  t.is(store.sweepExamined, 2 * SWEEP_CHUNK + 500);
  t.is(store.size, 100);
});
