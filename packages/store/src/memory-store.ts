/** A `KeyValueStore` in this process's memory: for tests and throwaway runs. */
import { type Entry, isLive, type KeyValueStore } from './key-value-store.js';
import { KeyedMutex, type KeyedMutexOptions } from './keyed-mutex.js';

export interface MemoryStoreOptions {
  /** Clock, for tests. Default: Date.now. */
  now?: () => number;
  /**
   * Called by `sweep()` once for each expired entry it removed, after removing them all, with the key
   * and the value as stored (for a `SealedStore`, its hashed key and sealed envelope: open it with
   * `unseal`). A listener that throws or rejects becomes a process warning; the sweep goes on.
   * Default: none.
   */
  onExpired?: (storedKey: string, value: unknown) => void | Promise<void>;
  /**
   * How often expired entries are swept (and reported to `onExpired`), in milliseconds; 0 sweeps only
   * when `sweep()` is called. The timer does not keep the process alive; `close()` stops it.
   * Default: 60 000.
   */
  sweepIntervalMs?: number;
  /**
   * Told when a `withLock` holder outlived its lease and the key passed to the next holder (see
   * `KeyedMutex`). Default: a process warning with code `TMI_BFF_STORE_LEASE_EXPIRED`.
   */
  onLeaseExpired?: KeyedMutexOptions['onLeaseExpired'];
}

/** Freezes `value` and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const inner of Object.values(value)) deepFreeze(inner);
  return Object.freeze(value);
}

/** Key and stored value of each entry a sweep removed. */
export type Expired = Array<[storedKey: string, value: unknown]>;

export class MemoryStore implements KeyValueStore {
  protected entries: Record<string, Entry>;
  readonly #mutex: KeyedMutex;
  protected readonly now: () => number;
  readonly #onExpired: MemoryStoreOptions['onExpired'];
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStoreOptions = {}, entries: Record<string, Entry> = {}) {
    this.now = options.now ?? Date.now;
    this.#onExpired = options.onExpired;
    this.#mutex = new KeyedMutex(options.onLeaseExpired ? { onLeaseExpired: options.onLeaseExpired } : {});
    this.entries = entries;
    const interval = options.sweepIntervalMs ?? 60_000;
    if (interval > 0) {
      this.#timer = setInterval(() => this.sweep(), interval);
      this.#timer.unref();
    }
  }

  /** The stored value itself, frozen: no copy per read (see `KeyValueStore.get`). */
  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.entries[key];
    return isLive(entry, this.now()) ? (entry.value as T) : undefined;
  }

  /** Stores a frozen copy: the caller's object stays its own, and a reader cannot change the stored one. */
  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    this.entries[key] = {
      value: deepFreeze(structuredClone(value)),
      ...(ttlMs && ttlMs > 0 ? { expiresAt: this.now() + ttlMs } : {}),
    };
    await this.persist();
  }

  async delete(key: string): Promise<void> {
    if (!(key in this.entries)) return;
    delete this.entries[key];
    await this.persist();
  }

  /** In this process only (`KeyedMutex`): the lock is released when `fn` settles or its lease runs out. */
  withLock<T>(key: string, fn: () => Promise<T>, options?: { leaseMs?: number }): Promise<T> {
    return this.#mutex.run(key, fn, options);
  }

  /** Removes expired entries and reports them to `onExpired`; returns how many went. */
  sweep(): number {
    const expired = this.removeExpired();
    this.reportExpired(expired);
    return expired.length;
  }

  /** Removes expired entries, without reporting them. */
  protected removeExpired(): Expired {
    const now = this.now();
    const expired: Expired = [];
    for (const [key, entry] of Object.entries(this.entries)) {
      const { value } = entry;
      if (isLive(entry, now)) continue;
      delete this.entries[key];
      expired.push([key, value]);
    }
    return expired;
  }

  /** Calls `onExpired` for each removed entry; a failing call neither stops the others nor throws. */
  protected reportExpired(expired: Expired): void {
    const listener = this.#onExpired;
    if (!listener) return;
    for (const [key, value] of expired) {
      (async () => listener(key, value))().catch((err: unknown) => {
        process.emitWarning(`onExpired listener failed: ${err instanceof Error ? err.message : String(err)}`, {
          code: 'TMI_BFF_STORE_ON_EXPIRED',
        });
      });
    }
  }

  /** Number of entries, live or not yet swept. */
  get size(): number {
    return Object.keys(this.entries).length;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.persist();
  }

  /** Durability hook for subclasses. */
  protected persist(): Promise<void> {
    return Promise.resolve();
  }
}
