import { chmod, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import test from 'ava';
import { loadOrCreateSecret, parseSecret } from '../src/index.js';
import { modeOf, tempDir } from './_setup.js';

const BYTES = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
const HOW_TO = `make one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`;

test('parseSecret accepts 32 bytes as base64url or hex', (t) => {
  t.deepEqual(parseSecret(Buffer.from(BYTES).toString('base64url'), 'BFF_DATA_KEY'), BYTES);
  t.deepEqual(parseSecret(Buffer.from(BYTES).toString('hex'), 'BFF_DATA_KEY'), BYTES);
  t.deepEqual(parseSecret(`${Buffer.from(BYTES).toString('hex').toUpperCase()}\n`, 'BFF_DATA_KEY'), BYTES);
});

test('parseSecret refuses anything else with a TypeError naming the setting and how to make a key', (t) => {
  const refused = [
    '',
    'secret',
    Buffer.from(BYTES).toString('base64'), // padded base64: 44 chars
    Buffer.from(BYTES.subarray(1)).toString('base64url'),
    Buffer.from(BYTES).toString('hex').slice(1),
    `${Buffer.from(BYTES).toString('hex')}00`,
  ];
  for (const value of refused) {
    const err = t.throws(() => parseSecret(value, 'BFF_DATA_KEY'), { instanceOf: TypeError });
    t.is((err as NodeJS.ErrnoException).code, 'ERR_INVALID_ARG_VALUE');
    t.is(
      err?.message,
      `BFF_DATA_KEY must be 32 random bytes as base64url (43 chars) or hex (64 chars); ${HOW_TO}`,
      value,
    );
  }
});

test('loadOrCreateSecret makes a 32-byte key file 0600 in a 0700 folder, then reads the same key back', async (t) => {
  const file = join(await tempDir(t), 'keys', 'data.key');
  const made = await loadOrCreateSecret(file);
  t.is(made.length, 32);
  t.is(await modeOf(file), 0o600);
  t.is(await modeOf(dirname(file)), 0o700);
  t.deepEqual(parseSecret(await readFile(file, 'utf8'), file), made);
  t.deepEqual(await loadOrCreateSecret(file), made);
});

test('loadOrCreateSecret: callers starting at once agree on one key', async (t) => {
  const file = join(await tempDir(t), 'data.key');
  const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSecret(file)));
  for (const key of keys) t.deepEqual(key, keys[0]);
  t.deepEqual(parseSecret(await readFile(file, 'utf8'), file), keys[0]);
});

test('loadOrCreateSecret tightens a key file readable by others', async (t) => {
  const file = join(await tempDir(t), 'data.key');
  await writeFile(file, Buffer.from(BYTES).toString('hex'));
  await chmod(file, 0o644);
  t.deepEqual(await loadOrCreateSecret(file), BYTES);
  t.is(await modeOf(file), 0o600);
});

test('loadOrCreateSecret: a corrupt key file is an error naming the file and what to do', async (t) => {
  const file = join(await tempDir(t), 'data.key');
  await writeFile(file, 'not a key');
  const err = await t.throwsAsync(loadOrCreateSecret(file));
  t.is(
    err?.message,
    `${file} does not hold a key (32 bytes as base64url or hex). Restore it from a backup, or delete it to have ` +
      'a new key made (what was sealed with the old key, such as sessions and refresh tokens, is then lost).',
  );
  t.is(await readFile(file, 'utf8'), 'not a key');
});
