/**
 * The storage contract of a TMI-BFF backend: JSON values under string keys, with an optional expiry,
 * and a lock per key so that read-modify-write sequences (spending a rotating refresh token) never
 * interleave. Implementations: `MemoryStore` (tests), `LowdbStore` (the embedded default, one
 * process), and distributed ones that implement `withLock` with a lease.
 */
export interface KeyValueStore {
  /**
   * The value, or undefined when absent or expired. Read-only: it may be the store's own object
   * (in-process stores return it frozen, without a copy per read), so a caller that changes it
   * changes a copy (`structuredClone`) and writes that back with `set`.
   */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores a value; `ttlMs` > 0 makes it expire. Resolves once the value is durable for this store. */
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Runs `fn` while holding the lock on `key`; holders of the same key run one after the other, and
   * a holder that throws releases the lock all the same. Resolves or rejects with `fn`'s outcome.
   *
   * The lock is leased: it is released when `fn` settles or when `leaseMs` (default
   * `DEFAULT_LEASE_MS`, 30 s) has passed since `fn` started, whichever comes first, so a holder that
   * hangs or died (another process, for a distributed store) does not block its key for ever. Past
   * its lease, a holder is not stopped: the next holder proceeds while it still runs, and its later
   * writes land after the next holder's (last writer wins, no value torn). Callers pass a lease
   * longer than anything `fn` awaits. A distributed store may keep a shorter expiry in the shared
   * store and renew it while `fn` runs (so the lock of a process that died frees sooner), but holds
   * the key no longer than `leaseMs` in all.
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
