/**
 * The embedded default `KeyValueStore`: entries in memory, persisted to lowdb files with coalesced
 * atomic writes, expired entries swept on a timer. One process per folder: the locks are in-process.
 *
 * The entries are spread over shard files by a hash of the key (`ShardFolder`), so a write replaces
 * one shard, not the whole store. Past `LOWDB_MAX_ENTRIES` the store still works but gets slow:
 * opening it warns, naming the Redis store as the one to use.
 */
import { StoreWriteFailed } from './errors.js';
import type { Entry } from './key-value-store.js';
import { type Expired, MemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { ShardFolder } from './shard-folder.js';

/** Shard files of a store, unless `shards` says otherwise: measured to keep a write's cost small up to the limit. */
export const DEFAULT_SHARDS = 4096;

/**
 * Entries above which the lowdb store is not meant to be used (about 5 per signed-in session: 100 000
 * sessions). Measured at the store with `DEFAULT_SHARDS`: up to it, a sign-in's 7 writes complete in
 * under 20 ms (p50) and steady writes do not block the event loop for more than 100 ms; opening
 * takes about 5 s. Above it, use the Redis store.
 */
export const LOWDB_MAX_ENTRIES = 500_000;

export interface LowdbStoreOptions extends MemoryStoreOptions {
  /**
   * Names the store: its files are kept in the folder of that name without `.json` (`.data/bff.json`
   * → `.data/bff/`), created 0700 (tightened to 0700 when wider), each file 0600. A single-file store
   * of an older version at `file` itself is moved into that folder when the store opens, then removed.
   */
  file: string;
  /** How many shard files; opening a folder made with another count reshards it. Default: `DEFAULT_SHARDS`. */
  shards?: number;
  /**
   * Told once at open when the store holds more than `LOWDB_MAX_ENTRIES` entries. Default: a process
   * warning with code `TMI_BFF_STORE_TOO_LARGE`.
   */
  onWarning?: (message: string) => void;
  /**
   * Told when the shard files whose writes failed (disk full, folder read-only; the store then
   * throws `StoreWriteFailed`) have all been written after all: the store writes each again by
   * itself until it can. Default: none.
   */
  onRecovered?: (message: string) => void;
}

/** The folder of the store named `file`: `file` without `.json`, or `file.d`. */
export const lowdbFolder = (file: string): string => (file.endsWith('.json') ? file.slice(0, -5) : `${file}.d`);

export class LowdbStore extends MemoryStore {
  readonly #shards: ShardFolder;

  private constructor(options: LowdbStoreOptions, shards: ShardFolder) {
    super(options);
    this.#shards = shards;
  }

  /**
   * Opens (or creates) a store. Entries that expired while it was closed are removed now, and
   * reported to `onExpired` on the next turn of the event loop, so a listener may refer to objects
   * made right after `await LowdbStore.open(…)`, with no `await` in between (such as the
   * `SealedStore` that wraps this one).
   */
  static async open(options: LowdbStoreOptions): Promise<LowdbStore> {
    const { shards, entries } = await ShardFolder.open(
      lowdbFolder(options.file),
      options.shards ?? DEFAULT_SHARDS,
      options.file,
    );
    shards.onRecovered = options.onRecovered;
    const store = new LowdbStore(options, shards);
    store.load(entries);
    const expired = store.removeExpired();
    if (expired.length > 0) setImmediate(() => store.reportExpired(expired));
    if (store.size > LOWDB_MAX_ENTRIES) {
      const warn =
        options.onWarning ?? ((message: string) => process.emitWarning(message, { code: 'TMI_BFF_STORE_TOO_LARGE' }));
      warn(
        `the lowdb store ${shards.folder} holds ${store.size} entries (about ${Math.round(store.size / 5)} sessions), ` +
          `more than the ${LOWDB_MAX_ENTRIES} it is made for: sign-ins slow down and writes block the server; ` +
          'set BFF_STORE=redis://… (see docs/configuration.md)',
      );
    }
    return store;
  }

  protected override removeExpired(limit?: number): Expired {
    const expired = super.removeExpired(limit);
    for (const [key] of expired) void this.#shards.write(key, undefined).catch(() => {});
    return expired;
  }

  /** The folder holding the manifest and the shard files. */
  get folder(): string {
    return this.#shards.folder;
  }

  /** How many times each shard file was replaced since the store was opened. */
  get fileWrites(): number[] {
    return this.#shards.writes;
  }

  protected override persist(key: string, entry: Entry | undefined): Promise<void> {
    return this.#shards.write(key, entry).catch((err: Error) => {
      throw new StoreWriteFailed(
        `the store's folder ${this.#shards.folder} cannot be written (${err.message}): free space on its disk, or give this user write access to it`,
        { cause: err },
      );
    });
  }

  protected override flush(): Promise<void> {
    return this.#shards.flushed();
  }
}
