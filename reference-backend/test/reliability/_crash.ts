/**
 * Shared by the crash and disk tests: a server entry point (`npm start` of the backend or of the
 * mock AS) run in a child process that the test can SIGKILL, the user's traffic that is in flight
 * when it dies, and a check that every data file left behind parses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

export const BACKEND_SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
export const MOCK_AS_SERVER = fileURLToPath(new URL('../../../mock-as/src/server.ts', import.meta.url));

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
}

export interface SpawnOptions {
  /** Runs the process through this command first, e.g. `['unshare', '--mount', …]`: it execs the process in the end. */
  wrapper?: string[];
}

/** Runs `entry` with tsx, as `npm start` does, with only PATH and `env` in its environment. */
export function startServer(
  t: ExecutionContext,
  entry: string,
  env: Record<string, string>,
  options: SpawnOptions = {},
): ServerProcess {
  const args = ['--import=tsx', '--conditions=development', entry];
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
    async kill() {
      if (!ended) child.kill('SIGKILL');
      await exited;
    },
  };
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
