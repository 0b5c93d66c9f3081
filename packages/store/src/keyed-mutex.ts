/**
 * One holder at a time per key, in this process. Waiters queue in arrival order; a holder that
 * throws releases the key all the same.
 *
 * A holder holds the key for at most its lease (`leaseMs`, default `DEFAULT_LEASE_MS`). When the
 * lease runs out first, the key passes to the next waiter, and `onLeaseExpired` is told; the late
 * holder is not stopped (nothing can stop a running promise) and settles on its own. What it writes
 * afterwards lands whole (each `set` replaces one value, never a part of it), but after the next
 * holder's writes: last writer wins. A lease is therefore chosen longer than anything the holder
 * awaits, and its expiry reported as the fault it is.
 */

/** The lease of a holder that names none: 30 s. */
export const DEFAULT_LEASE_MS = 30_000;

export interface KeyedMutexOptions {
  /**
   * Told when a holder outlived its lease and the key passed on. Default: a process warning with
   * code `TMI_BFF_STORE_LEASE_EXPIRED`.
   */
  onLeaseExpired?: (key: string, leaseMs: number) => void;
}

const warnLeaseExpired = (key: string, leaseMs: number): void => {
  process.emitWarning(
    `a holder of the lock on ${key} outlived its ${leaseMs} ms lease; the next holder proceeds while it still runs`,
    { code: 'TMI_BFF_STORE_LEASE_EXPIRED' },
  );
};

export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #onLeaseExpired: NonNullable<KeyedMutexOptions['onLeaseExpired']>;

  constructor(options: KeyedMutexOptions = {}) {
    this.#onLeaseExpired = options.onLeaseExpired ?? warnLeaseExpired;
  }

  /** Runs `fn` once every earlier holder of `key` has settled or outlived its lease. */
  async run<T>(key: string, fn: () => Promise<T>, options: { leaseMs?: number | undefined } = {}): Promise<T> {
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(leaseMs > 0)) throw new RangeError(`leaseMs must be a positive number of milliseconds, not ${leaseMs}`);
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    const lease = setTimeout(() => {
      this.#onLeaseExpired(key, leaseMs);
      this.#release(key, tail, release);
    }, leaseMs);
    lease.unref();
    try {
      return await fn();
    } finally {
      clearTimeout(lease);
      this.#release(key, tail, release);
    }
  }

  /** Keys that are held or waited for. */
  get size(): number {
    return this.#tails.size;
  }

  // Releasing twice (lease expired, then the holder settled) is harmless: the promise is settled once.
  #release(key: string, tail: Promise<void>, release: () => void): void {
    release();
    if (this.#tails.get(key) === tail) this.#tails.delete(key);
  }
}
