/** Test fixtures: throwaway folders, file modes. */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

/** A fresh folder, removed after the test. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A path to a data file in a folder that does not exist yet. */
export async function tempFile(t: ExecutionContext): Promise<string> {
  return join(await tempDir(t), 'data', 'store.json');
}

/** The permission bits of a file or folder, e.g. 0o600. */
export async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** Every entry in the shard files of the lowdb store folder `folder`, as on disk. */
export async function entriesOnDisk(folder: string): Promise<Record<string, { value: unknown; expiresAt?: number }>> {
  const entries = {};
  for (const name of (await readdir(folder)).sort()) {
    if (name.startsWith('shard-'))
      Object.assign(entries, JSON.parse(await readFile(join(folder, name), 'utf8')).entries);
  }
  return entries;
}
