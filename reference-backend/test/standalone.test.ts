/**
 * The reference backend stands alone: nothing in it loads @tmi-bff/mock-as, it has no dependency
 * on it (its tests use it, as an AS like any other), and its server starts from its settings only —
 * here against the mock AS in another process's place, with the mock AS made impossible to load.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendEnv, DEFAULT_ADDRESSES, loadSeed, SEED_FILE, startMockAs } from '@tmi-bff/mock-as';
import test from 'ava';
import { UserAgent } from './_setup.js';

const root = fileURLToPath(new URL('..', import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

test('No source file of the backend imports @tmi-bff/mock-as, and it is not among its dependencies', async (t) => {
  const files = await sources(join(root, 'src'));
  t.true(files.length > 20, `found ${files.length} source files`);
  const importing = [];
  for (const file of files) {
    if (/from ['"]@tmi-bff\/mock-as|import\(['"]@tmi-bff\/mock-as/.test(await readFile(file, 'utf8')))
      importing.push(file);
  }
  t.deepEqual(importing, []);
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  t.false('@tmi-bff/mock-as' in pkg.dependencies);
  const tsconfig = await readFile(join(root, 'tsconfig.json'), 'utf8');
  t.false(tsconfig.includes('mock-as'), 'the sources are typechecked without the mock AS');
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

test('The backend server starts from its settings alone, with @tmi-bff/mock-as impossible to load, and a user signs in', async (t) => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: origin });
  const as = await startMockAs({ seed, log: () => {} });
  t.teardown(() => as.close());
  const child = spawn(
    process.execPath,
    [
      '--import=tsx',
      '--conditions=development',
      `--import=${join(root, 'test', 'fixtures', 'without-mock-as.mjs')}`,
      join(root, 'src', 'server.ts'),
    ],
    {
      cwd: root,
      // Only the backend's own settings, as a user of another AS would give them.
      env: { PATH: process.env.PATH, ...backendEnv(seed, as.issuer), BFF_ORIGIN: origin, BFF_DATA_DIR: 'memory' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.teardown(() => child.kill('SIGKILL'));
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const ready = await new Promise<boolean>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      if (output.includes('reference-backend ready at')) resolve(true);
    });
    child.once('exit', () => resolve(false));
  });
  t.true(ready, output);
  t.notRegex(output, /loaded @tmi-bff\/mock-as/);

  const alice = new UserAgent(origin);
  const signedIn = await alice.signIn({ persona: 'alice' });
  t.is(signedIn.status, 303, output);
  t.is(signedIn.headers.get('location'), '/');
  const info = await alice.sessionInfo();
  t.is(info.status, 200);
  t.like(info.body, { sub: 'alice' });
  const token = await alice.token({ resource: `${DEFAULT_ADDRESSES.API_ORIGIN}/stocks`, scope: 'stocks:read' });
  t.is(token.status, 200, JSON.stringify(token.body));
  t.like(token.body, { scope: 'stocks:read' });
  t.is(typeof token.body.access_token, 'string');
});
