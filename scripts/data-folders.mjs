// The data folders of `npm run dev` (sessions, grants, refresh tokens, keys) and the lock that says
// a running `npm run dev` uses them: `npm run dev` writes it, `npm run reset` reads it.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** The lock's name inside each data folder: the pid of the `npm run dev` that uses the folder. */
export const LOCK_FILE = 'npm-run-dev.pid';

/**
 * Each part that keeps data on disk: the variable that moves its folder, its default folder, and
 * what the folder holds. The value `memory` keeps the part's data in memory (no folder).
 */
export const DATA_FOLDERS = [
  {
    part: 'mock-as',
    variable: 'MOCK_AS_DATA_DIR',
    fallback: join(ROOT, 'mock-as', '.data'),
    holds: 'sessions, grants, refresh tokens, signing keys',
  },
  {
    part: 'reference-backend',
    variable: 'BFF_DATA_DIR',
    fallback: join(ROOT, 'reference-backend', '.data'),
    holds: 'sessions, refresh tokens, cookie keys',
  },
];

/**
 * The folder each part uses under `env`, absolute: a relative value is read from where the command
 * was typed (npm's INIT_CWD), as the user meant it. `undefined` when the part keeps its data in memory.
 */
export function dataFolder(folder, env = process.env) {
  const value = env[folder.variable]?.trim();
  if (value === 'memory') return undefined;
  return value ? resolve(env.INIT_CWD ?? '.', value) : folder.fallback;
}

/** Marks `dir` as used by this process. */
export function lock(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, LOCK_FILE), `${process.pid}\n`);
}

/** Removes this process's mark from `dir` (never another process's). */
export function unlock(dir) {
  if (lockHolder(dir) === process.pid) rmSync(join(dir, LOCK_FILE), { force: true });
}

/**
 * The pid of the running `npm run dev` that uses `dir`, or undefined. A lock whose process is gone
 * (stopped by SIGKILL, or a machine restart) does not count, nor one whose pid now names another program.
 */
export function lockHolder(dir) {
  let pid;
  try {
    pid = Number(readFileSync(join(dir, LOCK_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return undefined;
  }
  try {
    // Linux: the pid may have been reused by another program since.
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dev.mjs')) return undefined;
  } catch {
    // no /proc: the live pid is all there is to go by
  }
  return pid;
}
