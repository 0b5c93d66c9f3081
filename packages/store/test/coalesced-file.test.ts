import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { CoalescedFile, LowdbStore, lowdbFolder } from '../src/index.js';
import { modeOf, tempFile } from './_setup.js';

test('CoalescedFile writes its file 0600 in a folder it creates 0700', async (t) => {
  const file = await tempFile(t);
  const db = new CoalescedFile(file, { secret: 'refresh-token' });
  await db.open();
  await db.flush();
  t.is(await modeOf(file), 0o600);
  t.is(await modeOf(dirname(file)), 0o700);
  t.deepEqual(JSON.parse(await readFile(file, 'utf8')), { secret: 'refresh-token' });
});

test('CoalescedFile tightens an existing 0644 file in a 0755 folder when it opens it', async (t) => {
  const file = await tempFile(t);
  await mkdir(dirname(file), { mode: 0o755 });
  await chmod(dirname(file), 0o755);
  await writeFile(file, '{"kept":true}', { mode: 0o644 });
  await chmod(file, 0o644);
  const db = new CoalescedFile(file, {});
  await db.open();
  t.is(await modeOf(file), 0o600);
  t.is(await modeOf(dirname(file)), 0o700);
  t.deepEqual(db.data, { kept: true });
});

test('CoalescedFile leaves a shared sticky folder such as /tmp alone', async (t) => {
  const file = await tempFile(t);
  await mkdir(dirname(file));
  await chmod(dirname(file), 0o1777);
  const db = new CoalescedFile(file, {});
  await db.open();
  await db.flush();
  t.is((await stat(dirname(file))).mode & 0o7777, 0o1777);
  t.is(await modeOf(file), 0o600);
});

// A real fault halfway through a write, with no hook in the code under test: a child process runs
// under a file-size limit (`ulimit -f`, in 512-byte blocks). Node ignores SIGXFSZ, so the write that
// crosses the limit fails with EFBIG after the first LIMIT bytes are on disk.
const LIMIT_BLOCKS = 64;
const child = fileURLToPath(new URL('./_write-past-limit.ts', import.meta.url));
const run = promisify(execFile);

test('LowdbStore: a write that fails halfway leaves the previous file intact, and the store reopens with it', async (t) => {
  const file = await tempFile(t);
  const folder = lowdbFolder(file);
  // One shard: the failing write replaces the file that holds session:old.
  const before = await LowdbStore.open({ file, shards: 1 });
  await before.set('session:old', { refresh_token: 'rt-old' });
  await before.close();
  const shard = join(folder, 'shard-000-of-001.json');
  const old = await readFile(shard);
  t.true(old.length < LIMIT_BLOCKS * 512);

  const { stdout } = await run('/bin/sh', [
    '-c',
    `ulimit -f ${LIMIT_BLOCKS}; exec "$0" "$@"`,
    process.execPath,
    '--import=tsx',
    '--conditions=development',
    child,
    file,
    String(LIMIT_BLOCKS * 512 * 16),
  ]);
  // The child really did fail halfway through its write, and the store said so with its own error.
  t.is(stdout.trim(), 'TMI_BFF_STORE_WRITE_FAILED EFBIG');

  const now = await readFile(shard);
  t.true(now.equals(old), `the file is ${now.length} bytes (was ${old.length}): ${now.subarray(0, 60)}…`);
  t.deepEqual(JSON.parse(old.toString('utf8')).entries['session:old'].value, { refresh_token: 'rt-old' });
  const after = await LowdbStore.open({ file, shards: 1 });
  t.teardown(() => after.close());
  t.deepEqual(await after.get('session:old'), { refresh_token: 'rt-old' });
  t.is(await after.get('session:big'), undefined);
  // The failed temporary file was removed.
  t.deepEqual((await readdir(folder)).sort(), ['manifest.json', 'shard-000-of-001.json']);
});
