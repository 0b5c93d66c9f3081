/** A programmer error: a coded `TypeError`, as Node's own argument checks throw. */
export function invalidValue(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

/**
 * The shared store cannot be reached (down, unreachable, or too slow to answer within its command
 * timeout). The call did not happen, or its outcome is unknown; the store reconnects by itself, so a
 * later call may succeed. A backend answers `temporarily_unavailable` (TMI-BFF-01 D6).
 */
export class StoreUnavailable extends Error {
  readonly code = 'TMI_BFF_STORE_UNAVAILABLE';
  override readonly name = 'StoreUnavailable';
}

/**
 * The lowdb store could not write its files: the disk is full, a file size limit was reached, or the
 * folder is read-only or not writable by this user. The change is kept in memory and written with the
 * next change of its file; what the files held before is intact. A backend answers
 * `temporarily_unavailable` (TMI-BFF-01 D6) and its log names the folder and the cause.
 */
export class StoreWriteFailed extends Error {
  readonly code = 'TMI_BFF_STORE_WRITE_FAILED';
  override readonly name = 'StoreWriteFailed';
}

/**
 * A `withLock` holder lost its lock before its lease ran out (its renewals failed: the process was
 * paused, or the store was unreachable, for longer than the lock's time to live), so another holder
 * may hold the key now. The write that throws this did not happen.
 */
export class LeaseLost extends Error {
  readonly code = 'TMI_BFF_STORE_LEASE_LOST';
  override readonly name = 'LeaseLost';
}
