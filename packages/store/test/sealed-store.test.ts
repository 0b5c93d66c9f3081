import { randomBytes } from 'node:crypto';
import test from 'ava';
import { LowdbStore, lowdbFolder, MemoryStore, SealedStore } from '../src/index.js';
import { OPENED_CACHE_SIZE } from '../src/sealed-store.js';
import { entriesOnDisk, tempFile } from './_setup.js';

const secret = randomBytes(32);
const COOKIE_ID = 'cookie-id-0a1b2c3d4e5f';
const REFRESH_TOKEN = 'rt-3f9c1e5a7b2d';

/** A sealed store over a memory store, with the errors it reported. */
function sealedOverMemory(options: { now?: () => number; onExpired?: (key: string, raw: unknown) => void } = {}) {
  const inner = new MemoryStore(options);
  const errors: string[] = [];
  const sealed = new SealedStore(inner, { secret, onError: (message) => errors.push(message) });
  return { inner, sealed, errors };
}

test('SealedStore: neither the refresh token nor the cookie id appears in the data file', async (t) => {
  const file = await tempFile(t);
  const sealed = new SealedStore(await LowdbStore.open({ file }), { secret });
  await sealed.set(`session:${COOKIE_ID}`, { refresh_token: REFRESH_TOKEN }, 60_000);
  await sealed.close();

  const entries = await entriesOnDisk(lowdbFolder(file));
  const text = JSON.stringify(entries);
  t.false(text.includes(REFRESH_TOKEN));
  t.false(text.includes(COOKIE_ID));
  const [key] = Object.keys(entries);
  t.regex(key ?? '', /^session:[\w-]{43}$/);

  const reopened = new SealedStore(await LowdbStore.open({ file }), { secret });
  t.teardown(() => reopened.close());
  t.deepEqual(await reopened.get(`session:${COOKIE_ID}`), { refresh_token: REFRESH_TOKEN });
});

test('SealedStore: a key keeps its namespace, hashed with the whole key; a key with no ":" is hashed whole', (t) => {
  const { sealed } = sealedOverMemory();
  t.regex(sealed.storedKey('grant:abc'), /^grant:[\w-]{43}$/);
  t.not(sealed.storedKey('grant:abc').slice(6), sealed.storedKey('login:abc').slice(6));
  t.regex(sealed.storedKey('plain'), /^[\w-]{43}$/);
  t.is(sealed.storedKey('grant:abc'), new SealedStore(new MemoryStore(), { secret }).storedKey('grant:abc'));
  t.is(SealedStore.namespaceOf('session:a:b'), 'session:');
  t.is(SealedStore.namespaceOf('plain'), '');
});

test('SealedStore: a value is an AES-GCM envelope with a fresh IV on every write', async (t) => {
  const { inner, sealed } = sealedOverMemory();
  await sealed.set('grant:a', { refresh_token: REFRESH_TOKEN });
  const first = await inner.get<Record<string, unknown>>(sealed.storedKey('grant:a'));
  await sealed.set('grant:a', { refresh_token: REFRESH_TOKEN });
  const second = await inner.get<Record<string, unknown>>(sealed.storedKey('grant:a'));
  t.deepEqual(Object.keys(first ?? {}).sort(), ['ct', 'iv', 'tag', 'v']);
  t.is(first?.v, 1);
  t.is(Buffer.from(String(first?.iv), 'base64url').length, 12);
  t.is(Buffer.from(String(first?.tag), 'base64url').length, 16);
  t.not(first?.iv, second?.iv);
  t.not(first?.ct, second?.ct);
});

test('SealedStore: a tampered envelope reads as absent and is reported without secret material', async (t) => {
  const { inner, sealed, errors } = sealedOverMemory();
  await sealed.set('grant:a', { refresh_token: REFRESH_TOKEN });
  const stored = sealed.storedKey('grant:a');
  const envelope = await inner.get<{ ct: string }>(stored);
  const ct = Buffer.from(envelope?.ct ?? '', 'base64url');
  ct[0] = (ct[0] ?? 0) ^ 1;
  await inner.set(stored, { ...envelope, ct: ct.toString('base64url') });

  t.is(await sealed.get('grant:a'), undefined);
  t.is(errors.length, 1);
  t.true(errors[0]?.includes(stored));
  for (const material of [secret.toString('base64url'), secret.toString('hex'), REFRESH_TOKEN]) {
    t.false(errors[0]?.includes(material));
  }

  await inner.set(stored, 'plain text from an older file');
  t.is(await sealed.get('grant:a'), undefined);
  t.is(errors.length, 2);
});

test('SealedStore: a record copied under another key reads as absent', async (t) => {
  const { inner, sealed, errors } = sealedOverMemory();
  await sealed.set('session:alice', { sub: 'alice' });
  await sealed.set('session:mallory', { sub: 'mallory' });
  await inner.set(sealed.storedKey('session:mallory'), await inner.get(sealed.storedKey('session:alice')));
  t.is(await sealed.get('session:mallory'), undefined);
  t.deepEqual(await sealed.get('session:alice'), { sub: 'alice' });
  t.is(errors.length, 1);
});

test('SealedStore: a store with another secret reads nothing', async (t) => {
  const { inner, sealed } = sealedOverMemory();
  await sealed.set('session:alice', { sub: 'alice' });
  const errors: string[] = [];
  const other = new SealedStore(inner, { secret: randomBytes(32), onError: (message) => errors.push(message) });
  t.is(await other.get('session:alice'), undefined);
  // Even the envelope moved under the other store's key does not open.
  await inner.set(other.storedKey('session:alice'), await inner.get(sealed.storedKey('session:alice')));
  t.is(await other.get('session:alice'), undefined);
  t.is(errors.length, 1);
});

test('SealedStore: a ttl still expires, and unseal opens the raw value onExpired receives', async (t) => {
  let now = 1000;
  const expired: Array<[string, unknown]> = [];
  const { sealed } = sealedOverMemory({
    now: () => now,
    onExpired: (key, raw) => {
      if (key.startsWith('grant:')) expired.push([key, sealed.unseal(key, raw)]);
    },
  });
  await sealed.set('grant:s1', { refresh_token: REFRESH_TOKEN }, 50);
  await sealed.set('session:s1', { sub: 'alice' }, 60_000);
  now += 50;
  t.is(await sealed.get('grant:s1'), undefined);
  t.deepEqual(await sealed.get('session:s1'), { sub: 'alice' });
  t.is(sealed.sweep(), 1);
  t.is(sealed.size, 1);
  t.deepEqual(expired, [[sealed.storedKey('grant:s1'), { refresh_token: REFRESH_TOKEN }]]);
});

test('SealedStore: withLock locks the stored key, so it excludes holders of the inner store', async (t) => {
  const { inner, sealed } = sealedOverMemory();
  const events: string[] = [];
  let started!: () => void;
  const isStarted = new Promise<void>((resolve) => {
    started = resolve;
  });
  let release!: () => void;
  const outer = sealed.withLock('grant:s1', async () => {
    events.push('sealed');
    started();
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    events.push('sealed done');
  });
  const direct = inner.withLock(sealed.storedKey('grant:s1'), async () => {
    events.push('inner');
  });
  await isStarted;
  t.deepEqual(events, ['sealed']);
  release();
  await Promise.all([outer, direct]);
  t.deepEqual(events, ['sealed', 'sealed done', 'inner']);
});

test('SealedStore refuses a secret that is not 32 bytes, and a value that is not JSON', async (t) => {
  for (const bad of [new Uint8Array(16), new Uint8Array(33), 'x'.repeat(32) as unknown as Uint8Array]) {
    const err = t.throws(() => new SealedStore(new MemoryStore(), { secret: bad }), { instanceOf: TypeError });
    t.is((err as NodeJS.ErrnoException).code, 'ERR_INVALID_ARG_VALUE');
  }
  const { sealed } = sealedOverMemory();
  await t.throwsAsync(sealed.set('k', undefined), { instanceOf: TypeError });
});

test('SealedStore: a value read again is not decrypted again, and comes back deep-frozen', async (t) => {
  const { sealed } = sealedOverMemory();
  await sealed.set('grant:a', { tokens: { k: { scope: 'read' } } });
  const first = await sealed.get<{ tokens: { k: { scope: string } } }>('grant:a');
  t.is(sealed.decrypted, 1);
  const second = await sealed.get('grant:a');
  t.is(sealed.decrypted, 1);
  t.is(second, first);
  t.true(Object.isFrozen(first));
  t.true(Object.isFrozen(first?.tokens.k));
  t.throws(() => {
    (first as { tokens: { k: { scope: string } } }).tokens.k.scope = 'write';
  });

  await sealed.set('grant:a', { tokens: {} });
  t.deepEqual(await sealed.get('grant:a'), { tokens: {} });
  t.is(sealed.decrypted, 2);
});

/** A store that hands out a new copy of its value on each read, as RedisStore decodes each reply. */
class CopyingStore extends MemoryStore {
  override async get<T>(key: string): Promise<T | undefined> {
    const value = await super.get<T>(key);
    return value === undefined ? undefined : structuredClone(value);
  }
}

test('SealedStore: over a store that copies on read, a value read again is not decrypted again; a tampered one is refused', async (t) => {
  const inner = new CopyingStore();
  const errors: string[] = [];
  const sealed = new SealedStore(inner, { secret, onError: (message) => errors.push(message) });
  await sealed.set('grant:a', { refresh_token: REFRESH_TOKEN });
  t.deepEqual(await sealed.get('grant:a'), { refresh_token: REFRESH_TOKEN });
  t.deepEqual(await sealed.get('grant:a'), { refresh_token: REFRESH_TOKEN });
  t.is(sealed.decrypted, 1);

  // The same tag with another ciphertext (or IV) is opened, and refused.
  const stored = sealed.storedKey('grant:a');
  const envelope = (await inner.get<{ ct: string; iv: string; tag: string }>(stored)) ?? { ct: '', iv: '', tag: '' };
  const ct = Buffer.from(envelope.ct, 'base64url');
  ct[0] = (ct[0] ?? 0) ^ 1;
  await inner.set(stored, { ...envelope, ct: ct.toString('base64url') });
  t.is(await sealed.get('grant:a'), undefined);
  t.is(sealed.decrypted, 2);
  t.is(errors.length, 1);
  // The untouched envelope moved under another key does not open there either.
  await inner.set(sealed.storedKey('grant:b'), envelope);
  t.is(await sealed.get('grant:b'), undefined);
  t.is(errors.length, 2);
  // Put back, it opens again without a decryption.
  await inner.set(stored, envelope);
  t.deepEqual(await sealed.get('grant:a'), { refresh_token: REFRESH_TOKEN });
  t.is(sealed.decrypted, 3);

  await sealed.set('grant:a', { refresh_token: 'rt-next' });
  t.deepEqual(await sealed.get('grant:a'), { refresh_token: 'rt-next' });
  t.is(sealed.decrypted, 4);
});

test('SealedStore: it remembers at most OPENED_CACHE_SIZE values opened by tag, forgetting the oldest', async (t) => {
  const sealed = new SealedStore(new CopyingStore(), { secret });
  for (let i = 0; i <= OPENED_CACHE_SIZE; i++) await sealed.set(`grant:${i}`, { i });
  for (let i = 0; i <= OPENED_CACHE_SIZE; i++) await sealed.get(`grant:${i}`);
  t.is(sealed.decrypted, OPENED_CACHE_SIZE + 1);
  await sealed.get(`grant:${OPENED_CACHE_SIZE}`);
  t.is(sealed.decrypted, OPENED_CACHE_SIZE + 1);
  t.deepEqual(await sealed.get('grant:0'), { i: 0 });
  t.is(sealed.decrypted, OPENED_CACHE_SIZE + 2);
});
