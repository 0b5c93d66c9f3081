/**
 * The storage contract of a TMI-BFF backend: JSON values under string keys, with an optional expiry,
 * and a lock per key so that read-modify-write sequences (spending a rotating refresh token) never
 * interleave. Implementations: `MemoryStore` (tests), `LowdbStore` (the embedded default, one
 * process), and distributed ones that implement `withLock` with a lease.
 */
export interface KeyValueStore {
  /** The value, or undefined when absent or expired. */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores a value; `ttlMs` > 0 makes it expire. Resolves once the value is durable for this store. */
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Runs `fn` while holding the lock on `key`. Holders of the same key run one after the other.
   * `leaseMs` bounds how long a distributed lock may be held by a holder that died.
   */
  withLock<T>(key: string, fn: () => Promise<T>, options?: { leaseMs?: number }): Promise<T>;
  /** Flushes pending writes and stops timers. */
  close(): Promise<void>;
}

export interface Entry {
  value: unknown;
  /** Epoch milliseconds; absent means no expiry. */
  expiresAt?: number;
}

export const isLive = (entry: Entry | undefined, now: number): entry is Entry =>
  entry !== undefined && (entry.expiresAt === undefined || entry.expiresAt > now);
