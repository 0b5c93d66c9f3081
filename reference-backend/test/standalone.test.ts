/**
 * The reference backend stands alone: nothing in it loads @tmi-bff/mock-as, it has no dependency
 * on it (its tests use it, as an AS like any other), and its server starts from its settings only —
 * here against the mock AS in another process's place, with the mock AS made impossible to load.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendEnv, DEFAULT_ADDRESSES, loadSeed, SEED_FILE, startMockAs } from '@tmi-bff/mock-as';
import { freePort } from '@tmi-bff/mock-as/testing';
import test, { type ExecutionContext } from 'ava';
import { startFakeAs } from './_fake-as.js';
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
  // Only @tmi-bff/koa's OpenIdClient talks OAuth: the backend never imports openid-client itself.
  const oauth = [];
  for (const file of files) if (/from ['"]openid-client['"]/.test(await readFile(file, 'utf8'))) oauth.push(file);
  t.deepEqual(oauth, []);
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  t.false('@tmi-bff/mock-as' in pkg.dependencies);
  t.false('openid-client' in pkg.dependencies);
  const tsconfig = await readFile(join(root, 'tsconfig.json'), 'utf8');
  t.false(tsconfig.includes('mock-as'), 'the sources are typechecked without the mock AS');
});

/** `npm start`: the server process, with only the given environment, and @tmi-bff/mock-as impossible to load. */
function startServer(t: ExecutionContext, env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    [
      '--import=tsx',
      '--conditions=development',
      `--import=${join(root, 'test', 'fixtures', 'without-mock-as.mjs')}`,
      join(root, 'src', 'server.ts'),
    ],
    { cwd: root, env: { PATH: process.env.PATH, BFF_DATA_DIR: 'memory', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => child.kill('SIGKILL'));
  let output = '';
  const waiters: Array<() => void> = [];
  const take = (chunk: Buffer) => {
    output += chunk;
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    output: () => output,
    exited,
    /** Resolves true once the output matches, false if the process ends first. */
    async until(pattern: RegExp): Promise<boolean> {
      let ended = false;
      void exited.then(() => {
        ended = true;
        for (const wake of waiters.splice(0)) wake();
      });
      while (!pattern.test(output)) {
        if (ended) return false;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return true;
    },
  };
}

test('The backend server starts from its settings alone, with @tmi-bff/mock-as impossible to load, and a user signs in', async (t) => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: origin });
  const as = await startMockAs({ seed, log: () => {} });
  t.teardown(() => as.close());
  // Only the backend's own settings, as a user of another AS would give them.
  const server = startServer(t, { ...backendEnv(seed, as.issuer), BFF_ORIGIN: origin });
  t.true(await server.until(/reference-backend ready at/), server.output());
  const output = server.output();
  t.notRegex(output, /loaded @tmi-bff\/mock-as/);
  // One effective-configuration block, the secret redacted; the AS's metadata serves these settings.
  t.regex(output, /effective configuration:\n/);
  t.regex(output, /BFF_CLIENT_SECRET\s+<set>/);
  t.false(output.includes(seed.clients.find((c) => c.client_id === 'bff')?.client_secret ?? '?'), 'no secret');
  t.notRegex(output, /warning|cannot serve/);

  const alice = new UserAgent(origin);
  const signedIn = await alice.signIn({ persona: 'alice' });
  t.is(signedIn.status, 303, server.output());
  t.is(signedIn.headers.get('location'), '/');
  const info = await alice.sessionInfo();
  t.is(info.status, 200);
  t.like(info.body, { sub: 'alice' });
  const token = await alice.token({ resource: `${DEFAULT_ADDRESSES.API_ORIGIN}/stocks`, scope: 'stocks:read' });
  t.is(token.status, 200, JSON.stringify(token.body));
  t.like(token.body, { scope: 'stocks:read' });
  t.is(typeof token.body.access_token, 'string');
});

test('Start-up stops, before listening, when the AS cannot serve the settings: the message names the setting', async (t) => {
  const fake = await startFakeAs(t, { metadata: { issuer: 'https://someone-else.example' } });
  const port = await freePort();
  const server = startServer(t, {
    BFF_ORIGIN: `http://127.0.0.1:${port}`,
    BFF_ISSUER: fake.issuer,
    BFF_CLIENT_ID: 'bff',
    BFF_CLIENT_SECRET: 's',
  });
  t.is(await server.exited, 1, server.output());
  t.regex(
    server.output(),
    /reference-backend: the authorization server cannot serve this configuration:\n {2}BFF_ISSUER: /,
  );
  t.regex(server.output(), /someone-else\.example/);
  t.notRegex(server.output(), /ready at/);
  await t.throwsAsync(fetch(`http://127.0.0.1:${port}/`), undefined, 'nothing listens');
});

test('An AS that is not up yet does not stop start-up: the backend says so, serves, and checks again until it answers', async (t) => {
  const asPort = await freePort();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `http://127.0.0.1:${asPort}`;
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, ISSUER: issuer, BFF_ORIGIN: origin });
  const server = startServer(t, { ...backendEnv(seed, issuer), BFF_ORIGIN: origin });
  t.true(await server.until(/reference-backend ready at/), server.output());
  t.regex(server.output(), /warning: BFF_ISSUER: .*could not be reached.*starting anyway, and checking again/);
  const as = await startMockAs({ seed, port: asPort, log: () => {} });
  t.teardown(() => as.close());
  t.true(await server.until(/the authorization server at .* answers now/), server.output());
  t.is((await fetch(`${origin}/auth/login`, { redirect: 'manual' })).status, 303, 'sign-in starts');
});
