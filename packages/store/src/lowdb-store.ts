/**
 * The embedded default `KeyValueStore`: entries in memory, persisted to one lowdb JSON file with
 * coalesced atomic writes, expired entries swept on a timer. One process per file: the locks are
 * in-process.
 */
import { CoalescedFile } from './coalesced-file.js';
import type { Entry } from './key-value-store.js';
import { deepFreeze, type Expired, MemoryStore, type MemoryStoreOptions } from './memory-store.js';

interface Document {
  version: 1;
  entries: Record<string, Entry>;
}

export interface LowdbStoreOptions extends MemoryStoreOptions {
  /** The JSON file, written 0600. Its folder is created 0700 when missing, and tightened to 0700 when wider. */
  file: string;
}

export class LowdbStore extends MemoryStore {
  readonly #file: CoalescedFile<Document>;

  constructor(options: LowdbStoreOptions) {
    super(options);
    this.#file = new CoalescedFile<Document>(options.file, { version: 1, entries: {} });
  }

  /**
   * Opens (or creates) a store on `file`. Entries that expired while it was closed are removed now,
   * and reported to `onExpired` on the next turn of the event loop, so a listener may refer to objects
   * made right after `await LowdbStore.open(…)`, with no `await` in between (such as the `SealedStore`
   * that wraps this one).
   */
  static async open(options: LowdbStoreOptions): Promise<LowdbStore> {
    const store = new LowdbStore(options);
    await store.#file.open();
    store.entries = store.#file.data.entries;
    // Read-only from here, as the values `set` stores (see `MemoryStore.get`).
    for (const entry of Object.values(store.entries)) deepFreeze(entry.value);
    const expired = store.removeExpired();
    if (expired.length > 0) setImmediate(() => store.reportExpired(expired));
    return store;
  }

  protected override removeExpired(): Expired {
    const expired = super.removeExpired();
    if (expired.length > 0) void this.persist().catch(() => {});
    return expired;
  }

  /** How many times the file was replaced. */
  get fileWrites(): number {
    return this.#file.writes;
  }

  protected override persist(): Promise<void> {
    return this.#file.flush();
  }
}
