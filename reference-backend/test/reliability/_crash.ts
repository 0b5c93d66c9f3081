/**
 * Shared by the crash and disk tests: a server entry point (`npm start` of the backend or of the
 * mock AS) run in a child process that the test can SIGKILL and start again on the same data folder,
 * the mock AS and the backend's settings around it, the users whose traffic is in flight when it
 * dies, and a check that every data file left behind parses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendEnv, DEFAULT_ADDRESSES, loadSeed, SEED_FILE, startMockAs } from '@tmi-bff/mock-as';
import { freePort } from '@tmi-bff/mock-as/testing';
import type { ExecutionContext } from 'ava';
import { STOCKS, UserAgent } from '../_setup.js';

/** A server's `npm start` entry point, and the line it prints once it listens. */
export interface ServerEntry {
  file: string;
  ready: RegExp;
}

export const BACKEND: ServerEntry = {
  file: fileURLToPath(new URL('../../src/server.ts', import.meta.url)),
  ready: /reference-backend ready at/,
};
export const MOCK_AS: ServerEntry = {
  file: fileURLToPath(new URL('../../../mock-as/src/server.ts', import.meta.url)),
  ready: /mock-as ready at/,
};

/** Longer than the default, so that on a loaded machine only the fault under test fails a request. */
export const AS_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  child: ChildProcess;
  /** Everything it printed, stdout and stderr together. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves true once the output matches, false if the process ends first. */
  until(pattern: RegExp): Promise<boolean>;
  /** SIGKILL, and resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGKILL unless it is gone already, then the same entry with the same settings (so the same data folder), once ready. */
  restart(): Promise<ServerProcess>;
}

export interface SpawnOptions {
  /** Runs the process through this command first, e.g. `['unshare', '--mount', …]`: it execs the process in the end. */
  wrapper?: string[];
}

/** Runs `entry` with tsx, as `npm start` does, with only PATH and `env` in its environment. */
export function startServer(
  t: ExecutionContext,
  entry: ServerEntry,
  env: Record<string, string>,
  options: SpawnOptions = {},
): ServerProcess {
  const args = ['--import=tsx', '--conditions=development', entry.file];
  const [command, ...rest] = options.wrapper?.length
    ? [...options.wrapper, process.execPath, ...args]
    : [process.execPath, ...args];
  const child = spawn(command as string, rest, {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const fn of waiters.splice(0)) fn();
  };
  const take = (chunk: Buffer) => {
    output += chunk;
    wake();
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  let ended = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      ended = true;
      wake();
      resolve(code);
    }),
  );
  t.teardown(() => {
    if (!ended) child.kill('SIGKILL');
  });
  const kill = async () => {
    if (!ended) child.kill('SIGKILL');
    await exited;
  };
  return {
    child,
    output: () => output,
    exited,
    async until(pattern) {
      while (!pattern.test(output)) {
        if (ended) return pattern.test(output);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return true;
    },
    kill,
    async restart() {
      await kill();
      return startReady(t, entry, env, options);
    },
  };
}

/** `startServer`, resolved once the server is ready; the test fails with its output if it ends first. */
export async function startReady(
  t: ExecutionContext,
  entry: ServerEntry,
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const server = startServer(t, entry, env, options);
  t.true(await server.until(entry.ready), server.output());
  return server;
}

/**
 * The mock AS in this process, and the settings of a backend process that uses it: a free port,
 * its data in `dataDir`, no SPA, and the AS timeout of a loaded machine. `settings` adds to them.
 */
export async function mockAsAndBackendEnv(
  t: ExecutionContext,
  dataDir: string,
  settings: Record<string, string> = {},
): Promise<{ origin: string; env: Record<string, string> }> {
  const origin = `http://127.0.0.1:${await freePort()}`;
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: origin });
  const as = await startMockAs({ seed, log: () => {} });
  t.teardown(() => as.close());
  const env = {
    ...backendEnv(seed, as.issuer),
    BFF_ORIGIN: origin,
    BFF_DATA_DIR: dataDir,
    BFF_SPA_DIR: 'none',
    BFF_AS_TIMEOUT_MS: String(AS_TIMEOUT_MS),
    ...settings,
  };
  return { origin, env };
}

/** A forced refresh (`fresh=1`): the backend spends its refresh token and stores the new one. */
export const refresh = (user: UserAgent) => user.token({ resource: STOCKS, scope: 'stocks:read', fresh: '1' });

/** `count` users signed in at `origin` (alice and bob in turn), `width` at a time, each with a forced refresh acknowledged. */
export async function signInUsers(
  t: ExecutionContext,
  origin: string,
  count: number,
  width: number,
): Promise<UserAgent[]> {
  const users: UserAgent[] = [];
  await inParallel(
    Array.from({ length: count }, (_, i) => i),
    width,
    async (i) => {
      const user = new UserAgent(origin);
      t.is((await user.signIn({ persona: i % 2 ? 'bob' : 'alice' })).status, 303);
      const token = await refresh(user);
      t.is(token.status, 200, JSON.stringify(token.body));
      users.push(user);
    },
  );
  return users;
}

/** Every `.json` file under `dir`, parsed: what does not parse is listed, and leftover temporary files counted. */
export async function checkDataFiles(dir: string): Promise<{ files: number; unparsable: string[]; temporary: number }> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  let files = 0;
  let temporary = 0;
  const unparsable: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    if (entry.name.endsWith('.tmp')) temporary += 1;
    if (!entry.name.endsWith('.json')) continue;
    files += 1;
    const path = join(entry.parentPath, entry.name);
    try {
      JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      unparsable.push(`${path}: ${(err as Error).message}`);
    }
  }
  return { files, unparsable, temporary };
}

/** Runs `fn` over `items` with at most `width` running at once. */
export async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}
