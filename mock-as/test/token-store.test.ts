import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { TokenStore } from '../src/index.js';

async function fileStore(t: ExecutionContext, options: { now?: () => number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'token-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'oidc.json');
  const store = new TokenStore({ file, ...options });
  await store.open();
  t.teardown(() => store.close());
  return { store, file };
}

test('500 concurrent upserts are all on disk after few coalesced file writes', async (t) => {
  const { store, file } = await fileStore(t);
  const sessions = store.adapter('Session');
  await Promise.all(
    Array.from({ length: 500 }, (_, i) => sessions.upsert(`s${i}`, { uid: `u${i}`, accountId: 'alice' }, 60)),
  );
  const doc = JSON.parse(await readFile(file, 'utf8'));
  t.is(Object.keys(doc.rows).length, 500);
  t.true(store.fileWrites <= 3, `${store.fileWrites} writes for 500 upserts`);
  t.deepEqual(await sessions.findByUid('u499'), { uid: 'u499', accountId: 'alice' });
});

test('every upsert resolves only once its row is on disk', async (t) => {
  const { store, file } = await fileStore(t);
  const codes = store.adapter('AuthorizationCode');
  for (let i = 0; i < 5; i += 1) {
    await codes.upsert(`c${i}`, { grantId: 'g1' }, 60);
    const doc = JSON.parse(await readFile(file, 'utf8'));
    t.truthy(doc.rows[`AuthorizationCode:c${i}`]);
  }
});

test('expired rows are never returned, and the sweep removes them from the file', async (t) => {
  let now = 1_000_000;
  const { store, file } = await fileStore(t, { now: () => now });
  const tokens = store.adapter('RefreshToken');
  await tokens.upsert('short', { grantId: 'g' }, 10);
  await tokens.upsert('long', { grantId: 'g' }, 1000);
  await tokens.upsert('forever', { grantId: 'g' }, 0);
  now += 11_000;
  t.is(await tokens.find('short'), undefined);
  t.truthy(await tokens.find('long'));
  t.is(store.sweep(), 1);
  await store.close();
  const doc = JSON.parse(await readFile(file, 'utf8'));
  t.deepEqual(Object.keys(doc.rows).sort(), ['RefreshToken:forever', 'RefreshToken:long']);
});

test('consume marks a row, destroy removes it, revokeByGrantId removes only that model’s rows of that grant', async (t) => {
  const { store } = await fileStore(t);
  const rt = store.adapter('RefreshToken');
  const at = store.adapter('AccessToken');
  await rt.upsert('r1', { grantId: 'g1' }, 60);
  await rt.upsert('r2', { grantId: 'g2' }, 60);
  await at.upsert('a1', { grantId: 'g1' }, 60);

  await rt.consume('r1');
  t.is(typeof (await rt.find('r1'))?.consumed, 'number');

  await rt.revokeByGrantId('g1');
  t.is(await rt.find('r1'), undefined);
  t.truthy(await rt.find('r2'));
  t.truthy(await at.find('a1'), 'AccessToken rows wait for their own revokeByGrantId call');
  await at.revokeByGrantId('g1');
  t.is(await at.find('a1'), undefined);

  await rt.destroy('r2');
  t.is(await rt.find('r2'), undefined);
  t.deepEqual(store.count(), {});
});

test('a reopened store rebuilds its indexes from the file', async (t) => {
  const { store, file } = await fileStore(t);
  await store.adapter('Session').upsert('s1', { uid: 'uid-1', accountId: 'bob' }, 60);
  await store.adapter('RefreshToken').upsert('r1', { grantId: 'g9' }, 60);
  await store.close();

  const again = new TokenStore({ file });
  await again.open();
  t.teardown(() => again.close());
  t.deepEqual(await again.adapter('Session').findByUid('uid-1'), { uid: 'uid-1', accountId: 'bob' });
  await again.adapter('RefreshToken').revokeByGrantId('g9');
  t.is(await again.adapter('RefreshToken').find('r1'), undefined);
});

test('findByUid looks only within its model: an Interaction and a Session with the same uid do not collide', async (t) => {
  const { store } = await fileStore(t);
  await store.adapter('Session').upsert('s1', { uid: 'same', accountId: 'alice' }, 60);
  await store.adapter('Interaction').upsert('i1', { uid: 'same', kind: 'Interaction' }, 60);
  t.deepEqual(await store.adapter('Session').findByUid('same'), { uid: 'same', accountId: 'alice' });
  await store.adapter('Interaction').destroy('i1');
  t.deepEqual(await store.adapter('Session').findByUid('same'), { uid: 'same', accountId: 'alice' });
});

test('in memory (no file) the store behaves the same and writes nothing', async (t) => {
  const store = new TokenStore();
  await store.open();
  t.teardown(() => store.close());
  await store.adapter('Grant').upsert('g', { accountId: 'alice' }, 60);
  t.deepEqual(await store.adapter('Grant').find('g'), { accountId: 'alice' });
  t.is(store.fileWrites, 0);
});
