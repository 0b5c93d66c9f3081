/**
 * Files only this user can read: data files are created 0600 in a folder made 0700, and every
 * replacement is atomic (a private temporary file in the same folder, fsync, then rename), so a
 * failed or interrupted write leaves the previous complete file.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';

const PRIVATE_FOLDER = 0o700;
const PRIVATE_FILE = 0o600;

/**
 * Creates `dir` (and its parents) 0700, or tightens it to 0700 when it exists with wider bits and
 * belongs to this user. A shared sticky folder such as /tmp is left alone.
 */
export async function makePrivateFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_FOLDER });
  await tighten(dir, PRIVATE_FOLDER);
}

/** Tightens an existing file of ours to 0600; a missing file is fine. */
export async function tightenFile(file: string): Promise<void> {
  await tighten(file, PRIVATE_FILE);
}

async function tighten(path: string, mode: number): Promise<void> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!info || (info.mode & 0o777 & ~mode) === 0) return;
  const sticky = (info.mode & 0o1000) !== 0;
  const ours = info.uid === (process.getuid?.() ?? info.uid);
  if (!sticky && ours) await chmod(path, mode);
}

/**
 * Writes `data` to a new 0600 file next to `target`, flushed to disk, then hands it to `commit`. The
 * temporary file is removed unless `commit` renamed it.
 */
async function viaPrivateTemp(
  target: string,
  data: string,
  commit: (temp: string) => Promise<void>,
  renames: boolean,
): Promise<void> {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  const handle = await open(temp, 'wx', PRIVATE_FILE);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await commit(temp);
    renamed = renames;
  } finally {
    if (!renamed) await rm(temp, { force: true });
  }
  await syncFolder(dirname(target));
}

/** Folder syncs asked for and not started yet, by folder: renames made meanwhile share them. */
const folderSyncs = new Map<string, Promise<void>>();

/**
 * Makes the renames done so far in `dir` durable. Callers that ask while a sync is waiting to start
 * share it, so the files written together in one folder cost one folder sync.
 */
function syncFolder(dir: string): Promise<void> {
  let waiting = folderSyncs.get(dir);
  if (!waiting) {
    waiting = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      folderSyncs.delete(dir);
      return syncFolderNow(dir);
    });
    folderSyncs.set(dir, waiting);
  }
  return waiting;
}

/** Some platforms cannot fsync a folder, which only weakens durability. */
async function syncFolderNow(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  try {
    await handle?.sync();
  } catch {
    // not supported here
  } finally {
    await handle?.close();
  }
}

/** Atomically replaces (or creates) `target` with a 0600 file holding `data`. */
export function replacePrivateFile(target: string, data: string): Promise<void> {
  return viaPrivateTemp(target, data, (temp) => rename(temp, target), true);
}

/**
 * Atomically creates `target` (0600) holding `data`, unless it exists: then returns false and leaves
 * it. Readers never see a partial file, and of two processes creating at once exactly one wins.
 */
export async function createPrivateFile(target: string, data: string): Promise<boolean> {
  try {
    await viaPrivateTemp(target, data, (temp) => link(temp, target), false);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** A lowdb adapter: compact JSON in a private file, replaced atomically on every write. */
export class PrivateJsonFile<T> implements Adapter<T> {
  /** `stringify` turns the document into JSON text; default: `JSON.stringify`. */
  constructor(
    readonly file: string,
    readonly stringify: (data: T) => string = (data) => JSON.stringify(data),
  ) {}

  async read(): Promise<T | null> {
    const text = await readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    return text === null ? null : (JSON.parse(text) as T);
  }

  write(data: T): Promise<void> {
    // Compact JSON: lowdb's JSONFile pretty-prints, which is ~30 % larger and slower.
    return replacePrivateFile(this.file, this.stringify(data));
  }
}
