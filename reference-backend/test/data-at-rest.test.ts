/**
 * What a leaked data folder gives away: nothing usable. The backend's lowdb files are private (0600
 * in a 0700 folder), its values are sealed (AES-256-GCM) and its keys hashed, so neither the refresh
 * token, the ID token nor the session cookie's id can be read from it.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { configFromEnv, createBackend } from '../src/index.js';
import { STOCKS, startStack } from './_setup.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** A stack whose backend keeps its data in a fresh folder, with alice signed in. */
async function aliceOnDisk(t: ExecutionContext) {
  const dataDir = join(await mkdtemp(join(tmpdir(), 'bff-data-')), 'data');
  t.teardown(() => rm(dirname(dataDir), { recursive: true, force: true }));
  const stack = await startStack(t, { backend: { dataDir } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  return { dataDir, stack, alice, sid: await stack.sessionId(alice) };
}

test('data at rest: the data files are 0600 in 0700 folders, with a 0600 key file beside them', async (t) => {
  const { dataDir, stack } = await aliceOnDisk(t);
  await stack.backend.close();
  t.is(await mode(dataDir), 0o700);
  t.is(await mode(join(dataDir, 'bff')), 0o700);
  const names = await readdir(join(dataDir, 'bff'));
  t.true(names.includes('manifest.json') && names.some((name) => name.startsWith('shard-')), names.join());
  for (const name of names) t.is(await mode(join(dataDir, 'bff', name)), 0o600, name);
  t.is(await mode(join(dataDir, 'bff.key')), 0o600);
});

test('data at rest: refresh, ID and access tokens and the session cookie id cannot be read from the data file', async (t) => {
  const { dataDir, stack, alice, sid } = await aliceOnDisk(t);
  const token = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(token.status, 200);
  const grant = await stack.backend.tokens.getGrant(sid);
  const idToken = await stack.backend.store.get<string>(`id-token:${sid}`);
  await stack.backend.close(); // flushes the file

  // Every file of the store (bff/manifest.json and its shard files), as one text.
  const folder = join(dataDir, 'bff');
  const file = (await Promise.all((await readdir(folder)).map((name) => readFile(join(folder, name), 'utf8')))).join(
    '\n',
  );
  const secrets = {
    'refresh token': String(grant?.refresh_token),
    'ID token': String(idToken),
    'access token': String(token.body.access_token),
    'session cookie id': alice.sessionCookie().key,
    'grant id': sid,
    'user name': 'Alice',
  };
  for (const [what, value] of Object.entries(secrets)) {
    t.true(value.length > 4, what);
    t.false(file.includes(value), `${what} is not in the file`);
  }
  // What the file does show: namespaces and expiry times, nothing else.
  t.regex(file, /"session:[\w-]{43}"/);
  t.regex(file, /"grant:[\w-]{43}"/);
});

test('data at rest: a restart on the same folder and key keeps the session and its grant', async (t) => {
  const { dataDir, stack, alice, sid } = await aliceOnDisk(t);
  const { refresh_token } = (await stack.backend.tokens.getGrant(sid)) ?? {};
  await stack.backend.close();

  const again = await createBackend({ ...stack.backend.config, dataDir });
  t.teardown(() => again.close());
  t.is((await again.tokens.getGrant(sid))?.refresh_token, refresh_token);
  t.like(await again.store.get(`session:${alice.sessionCookie().key}`), { sid });
});

test('data at rest: with another key, nothing of the file can be found, not even by the cookie id', async (t) => {
  const { dataDir, stack, alice, sid } = await aliceOnDisk(t);
  await stack.backend.close();

  const other = await createBackend({ ...stack.backend.config, dataDir, dataKey: new Uint8Array(32).fill(7) });
  t.teardown(() => other.close());
  t.is(await other.tokens.getGrant(sid), undefined);
  t.is(await other.store.get(`session:${alice.sessionCookie().key}`), undefined);
});

test('BFF_DATA_KEY: a malformed key is refused at start-up, naming the setting and how to make one', (t) => {
  const seed = { BFF_ISSUER: 'http://127.0.0.1:4000', BFF_CLIENT_ID: 'bff', BFF_CLIENT_SECRET: 's' };
  const error = t.throws(() => configFromEnv({ ...seed, BFF_DATA_KEY: 'too-short' }, '/tmp/x'));
  t.regex(error?.message ?? '', /^BFF_DATA_KEY must be 32 random bytes as base64url \(43 chars\) or hex \(64 chars\)/);
  t.regex(error?.message ?? '', /randomBytes\(32\)/);
  const key = Buffer.alloc(32, 1).toString('base64url');
  t.deepEqual(configFromEnv({ ...seed, BFF_DATA_KEY: key }, '/tmp/x').config.dataKey, new Uint8Array(32).fill(1));
});
