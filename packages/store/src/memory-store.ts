/** A `KeyValueStore` in this process's memory: for tests and throwaway runs. */
import { ExpiryIndex } from './expiry-index.js';
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
   * when `sweep()` is called. The timer does not keep the process alive; `close()` stops it. A sweep
   * looks only at the entries that are due (`ExpiryIndex`), however many the store holds, and the
   * timer's sweeps remove them `SWEEP_CHUNK` at a time, one chunk per turn of the event loop.
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

/** How many expired entries a timer sweep removes (and reports) per turn of the event loop. */
export const SWEEP_CHUNK = 1000;

/** Key and stored value of each entry a sweep removed. */
export type Expired = Array<[storedKey: string, value: unknown]>;

export class MemoryStore implements KeyValueStore {
  #entries = new Map<string, Entry>();
  readonly #expiry = new ExpiryIndex();
  readonly #mutex: KeyedMutex;
  protected readonly now: () => number;
  readonly #onExpired: MemoryStoreOptions['onExpired'];
  readonly #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.#onExpired = options.onExpired;
    this.#mutex = new KeyedMutex(options.onLeaseExpired ? { onLeaseExpired: options.onLeaseExpired } : {});
    const interval = options.sweepIntervalMs ?? 60_000;
    if (interval > 0) {
      this.#timer = setInterval(() => this.#sweepInChunks(), interval);
      this.#timer.unref();
    }
  }

  /**
   * The stored value itself, frozen: no copy per read (see `KeyValueStore.get`). A value `set` stored
   * is frozen already; one loaded from a file is frozen at its first read.
   */
  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.#entries.get(key);
    return isLive(entry, this.now()) ? (deepFreeze(entry.value) as T) : undefined;
  }

  /** Stores a frozen copy: the caller's object stays its own, and a reader cannot change the stored one. */
  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    const entry: Entry = {
      value: deepFreeze(structuredClone(value)),
      ...(ttlMs && ttlMs > 0 ? { expiresAt: this.now() + ttlMs } : {}),
    };
    this.#entries.set(key, entry);
    if (entry.expiresAt !== undefined) this.#index(entry.expiresAt, key);
    await this.persist(key, entry);
  }

  async delete(key: string): Promise<void> {
    if (!this.#entries.delete(key)) return;
    await this.persist(key, undefined);
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

  /** A sweep that leaves the event loop between chunks, so that many entries expiring together do not block it. */
  #sweepInChunks(): void {
    if (this.#closed) return;
    this.reportExpired(this.removeExpired(SWEEP_CHUNK));
    if (this.#expiry.hasDue(this.now())) setImmediate(() => this.#sweepInChunks());
  }

  /**
   * Removes expired entries (from the first `limit` index items due), without reporting them. Only
   * the index items that are due are looked at; an item whose entry was replaced or deleted since it
   * was added is dropped.
   */
  protected removeExpired(limit?: number): Expired {
    const expired: Expired = [];
    for (const [expiresAt, key] of this.#expiry.takeDue(this.now(), limit)) {
      const entry = this.#entries.get(key);
      if (entry?.expiresAt !== expiresAt) continue;
      this.#entries.delete(key);
      expired.push([key, entry.value]);
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

  /**
   * Replaces the content with `entries`, for a store that loads them from elsewhere: the map becomes
   * the store's own, and its values are frozen when first read. Expired ones stay until the next sweep.
   */
  protected load(entries: Map<string, Entry>): void {
    this.#entries = entries;
    this.#expiry.rebuild(this.#expiring());
  }

  /** Number of entries, live or not yet swept. */
  get size(): number {
    return this.#entries.size;
  }

  /** How many expiry-index items the sweeps have looked at: the ones that came due, not every entry. */
  get sweepExamined(): number {
    return this.#expiry.examined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush();
  }

  /** Durability hook for subclasses: `key` was set to `entry`, or deleted (undefined). */
  protected persist(_key: string, _entry: Entry | undefined): Promise<void> {
    return Promise.resolve();
  }

  /** Durability hook for subclasses: resolves once every change is durable. */
  protected flush(): Promise<void> {
    return Promise.resolve();
  }

  #index(expiresAt: number, key: string): void {
    this.#expiry.add(expiresAt, key);
    // Lazy deletion leaves an item per replaced entry: rebuild once they outnumber the entries.
    if (this.#expiry.size > 2 * this.#entries.size + 1024) this.#expiry.rebuild(this.#expiring());
  }

  *#expiring(): Generator<[number, string]> {
    for (const [key, entry] of this.#entries) if (entry.expiresAt !== undefined) yield [entry.expiresAt, key];
  }
}
