/** A `KeyValueStore` in this process's memory: for tests and throwaway runs. */
import { type Entry, isLive, type KeyValueStore } from './key-value-store.js';
import { KeyedMutex } from './keyed-mutex.js';

export interface MemoryStoreOptions {
  /** Clock, for tests. Default: Date.now. */
  now?: () => number;
}

export class MemoryStore implements KeyValueStore {
  protected entries: Record<string, Entry>;
  readonly #mutex = new KeyedMutex();
  protected readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}, entries: Record<string, Entry> = {}) {
    this.now = options.now ?? Date.now;
    this.entries = entries;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.entries[key];
    return isLive(entry, this.now()) ? (structuredClone(entry.value) as T) : undefined;
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    this.entries[key] = {
      value: structuredClone(value),
      ...(ttlMs && ttlMs > 0 ? { expiresAt: this.now() + ttlMs } : {}),
    };
    await this.persist();
  }

  async delete(key: string): Promise<void> {
    if (!(key in this.entries)) return;
    delete this.entries[key];
    await this.persist();
  }

  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#mutex.run(key, fn);
  }

  /** Removes expired entries; returns how many went. */
  sweep(): number {
    const now = this.now();
    let removed = 0;
    for (const [key, entry] of Object.entries(this.entries)) {
      if (!isLive(entry, now)) {
        delete this.entries[key];
        removed += 1;
      }
    }
    return removed;
  }

  /** Number of entries, live or not yet swept. */
  get size(): number {
    return Object.keys(this.entries).length;
  }

  async close(): Promise<void> {
    await this.persist();
  }

  /** Durability hook for subclasses. */
  protected persist(): Promise<void> {
    return Promise.resolve();
  }
}
