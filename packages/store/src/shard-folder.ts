/**
 * The files of a `LowdbStore`: its entries spread over N lowdb files ("shards") by a hash of the key,
 * so that a write replaces one shard, not the whole store. In the store's folder:
 *
 * ```
 * manifest.json              {"version":1,"shards":128}
 * shard-000-of-128.json      {"version":1,"entries":{"session:…":{"value":…,"expiresAt":…}}}
 * …
 * shard-127-of-128.json
 * ```
 *
 * Every file is a `CoalescedFile` (0600, atomic replacement, writes coalesced per turn), and all of
 * them take turns for their `JSON.stringify` (`WriteTurns`), so a burst that touches many shards
 * does not block the event loop for the sum of their costs.
 *
 * The manifest is the commit point of a change of layout. Opening with another shard count
 * (reshard), or with a single-file store of an older version beside the folder (migration), writes
 * every entry into the new shard files first, then the manifest, and only then removes the old
 * files. A crash in between leaves the old layout readable, and the next open does it again.
 */
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CoalescedFile } from './coalesced-file.js';
import type { Entry } from './key-value-store.js';
import { makePrivateFolder, PrivateJsonFile, replacePrivateFile, tightenFile } from './private-file.js';
import { WriteTurns } from './write-turns.js';

/** A shard file, and the single file of older versions: the same document. */
export interface ShardDocument {
  version: 1;
  entries: Record<string, Entry>;
}

interface Manifest {
  version: 1;
  shards: number;
}

const MANIFEST = 'manifest.json';
/** How long a shard whose write failed waits before it is written again; doubled after each failure, up to `RETRY_MAX_MS`. */
const RETRY_MS = 250;
const RETRY_MAX_MS = 5000;
const READ_AT_ONCE = 16;
const SHARD_FILE = /^shard-(\d+)-of-(\d+)\.json$/;
/** A replacement's temporary file (private-file.ts): one left in the folder is a write a crash cut short. */
const TEMPORARY_FILE = /^\.(?:shard-\d+-of-\d+|manifest)\.json\.[0-9a-f]+\.tmp$/;
const shardFile = (index: number, count: number) =>
  `shard-${String(index).padStart(3, '0')}-of-${String(count).padStart(3, '0')}.json`;

/** The shard of `key` among `count`: FNV-1a (32 bits) of its UTF-16 code units. */
export function shardOf(key: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

export class ShardFolder {
  readonly folder: string;
  readonly #files: Array<CoalescedFile<ShardDocument>>;
  /** The latest write asked of each shard. */
  readonly #last: Array<Promise<void> | undefined>;
  /** Shards whose latest write failed, and the timer of their next write. */
  readonly #retries = new Map<number, NodeJS.Timeout | undefined>();
  /** Told when every shard whose write failed (disk full, folder read-only) has been written after all. */
  onRecovered: ((message: string) => void) | undefined;

  /**
   * The JSON text of each entry (`"key":{"value":…,"expiresAt":…}`), made when its shard is first
   * written after a change: a shard's write joins the texts of its entries instead of serialising
   * every value again. It costs the entries' size once more in memory.
   */
  readonly #texts = new Map<string, string>();

  private constructor(folder: string, count: number) {
    this.folder = folder;
    const turns = new WriteTurns();
    const stringify = (doc: ShardDocument) => this.#stringify(doc);
    this.#files = Array.from(
      { length: count },
      (_, i) => new CoalescedFile<ShardDocument>(join(folder, shardFile(i, count)), empty(), { turns, stringify }),
    );
    this.#last = this.#files.map(() => undefined);
  }

  /**
   * Opens (or creates) the folder with `count` shards, resharding it when its manifest says
   * otherwise and migrating `legacyFile` (a single-file store) into it when that file exists.
   * @returns the folder, and every entry it holds (expired ones included).
   * @throws Error naming the file when a shard, the manifest or the legacy file is not valid JSON.
   */
  static async open(
    folder: string,
    count: number,
    legacyFile: string,
  ): Promise<{ shards: ShardFolder; entries: Map<string, Entry> }> {
    // The folder holding it too, as for the single file of older versions (the data folder).
    await makePrivateFolder(dirname(folder));
    await makePrivateFolder(folder);
    const manifest = await readJson<Manifest>(join(folder, MANIFEST));
    if (manifest && !(manifest.version === 1 && Number.isInteger(manifest.shards) && manifest.shards > 0)) {
      throw new Error(`${join(folder, MANIFEST)} is not a store manifest; move the folder away or run "npm run reset"`);
    }
    const shards = new ShardFolder(folder, count);
    const entries = new Map<string, Entry>();
    const current = manifest?.shards ?? count;
    // A shard never written has no file yet.
    const present = new Set(await readdir(folder));
    // One process per folder: a temporary file found at open belongs to a write that never finished.
    for (const name of present) if (TEMPORARY_FILE.test(name)) await rm(join(folder, name), { force: true });
    const files =
      current === count
        ? shards.#files
        : Array.from(
            { length: current },
            (_, i) => new CoalescedFile<ShardDocument>(join(folder, shardFile(i, current)), empty()),
          );
    // A few files at a time: the text of every shard at once would only make the heap peak.
    const found = files.filter((file) => present.has(basename(file.file)));
    for (let i = 0; i < found.length; i += READ_AT_ONCE) {
      const batch = found.slice(i, i + READ_AT_ONCE);
      await Promise.all(batch.map((file) => file.open()));
      for (const file of batch) for (const key in file.data.entries) entries.set(key, file.data.entries[key] as Entry);
    }
    const legacy = await readJson<ShardDocument>(legacyFile);
    // What the single file holds is newer than the shards: it was written after them or is the same.
    for (const key in legacy?.entries) entries.set(key, legacy.entries[key] as Entry);
    // The shards to write: all that hold entries after a reshard, those the single file adds to otherwise.
    const changed = new Set<number>();
    if (current !== count) {
      // Files of this count left by a reshard that stopped before its manifest: not part of the store.
      for (const file of shards.#files) if (present.has(basename(file.file))) await rm(file.file, { force: true });
      for (const [key, entry] of entries) {
        const index = shardOf(key, count);
        (shards.#files[index] as CoalescedFile<ShardDocument>).data.entries[key] = entry;
        changed.add(index);
      }
    } else {
      for (const key in legacy?.entries) {
        const index = shardOf(key, count);
        (shards.#files[index] as CoalescedFile<ShardDocument>).data.entries[key] = legacy.entries[key] as Entry;
        changed.add(index);
      }
    }
    await Promise.all([...changed].map((index) => (shards.#files[index] as CoalescedFile<ShardDocument>).flush()));
    if (!manifest || current !== count) {
      await replacePrivateFile(
        join(folder, MANIFEST),
        JSON.stringify({ version: 1, shards: count } satisfies Manifest),
      );
    }
    if (legacy) await rm(legacyFile, { force: true });
    await shards.#removeOtherLayouts();
    return { shards, entries };
  }

  /** Records `entry` under `key` (or its deletion) in its shard, and resolves once that is on disk. */
  write(key: string, entry: Entry | undefined): Promise<void> {
    const index = shardOf(key, this.#files.length);
    const file = this.#files[index];
    if (entry) file.data.entries[key] = entry;
    else delete file.data.entries[key];
    this.#texts.delete(key);
    return this.#flush(index, RETRY_MS);
  }

  /**
   * Writes shard `index`. When that fails, the shard is written again after `retryMs` (then twice
   * as long, and so on) until it succeeds: what is in memory reaches the disk once space or
   * permission is back, without waiting for another change of that shard.
   */
  #flush(index: number, retryMs: number): Promise<void> {
    const written = (this.#files[index] as CoalescedFile<ShardDocument>).flush();
    this.#last[index] = written;
    written.then(
      () => {
        if (!this.#retries.has(index)) return;
        clearTimeout(this.#retries.get(index));
        this.#retries.delete(index);
        if (this.#retries.size === 0) this.onRecovered?.(`${this.folder} is written again: every change is on disk`);
      },
      () => {
        if (this.#retries.get(index)) return;
        const timer = setTimeout(() => {
          this.#retries.set(index, undefined);
          this.#flush(index, Math.min(retryMs * 2, RETRY_MAX_MS)).catch(() => {});
        }, retryMs);
        timer.unref();
        this.#retries.set(index, timer);
      },
    );
    return written;
  }

  /** Resolves once every change made before the call is on disk; a shard whose write failed is written again. */
  async flushed(): Promise<void> {
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    await Promise.all(this.#files.map((file, i) => this.#last[i]?.catch(() => file.flush())));
  }

  /** How many times each shard file was replaced since the folder was opened. */
  get writes(): number[] {
    return this.#files.map((file) => file.writes);
  }

  /** The same text as `JSON.stringify(doc)`, from the entries' texts. */
  #stringify(doc: ShardDocument): string {
    const members: string[] = [];
    for (const key in doc.entries) {
      let text = this.#texts.get(key);
      if (text === undefined) {
        text = `${JSON.stringify(key)}:${JSON.stringify(doc.entries[key])}`;
        this.#texts.set(key, text);
      }
      members.push(text);
    }
    return `{"version":${JSON.stringify(doc.version)},"entries":{${members.join(',')}}}`;
  }

  /** Shard files of another count: what a reshard left behind, before or after its manifest. */
  async #removeOtherLayouts(): Promise<void> {
    const count = this.#files.length;
    for (const name of await readdir(this.folder)) {
      const match = SHARD_FILE.exec(name);
      if (match && Number(match[2]) !== count) await rm(join(this.folder, name), { force: true });
    }
  }
}

const empty = (): ShardDocument => ({ version: 1, entries: {} });

/** The JSON in `file` (tightened to 0600 first), or undefined when there is none. */
async function readJson<T>(file: string): Promise<T | undefined> {
  await tightenFile(file);
  try {
    return (await new PrivateJsonFile<T>(file).read()) ?? undefined;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new Error(`${file} is not valid JSON (${err.message}); move it away or run "npm run reset"`);
  }
}
