/**
 * Which entries expire next: a binary min-heap of (expiresAt, key), so that a sweep looks only at
 * what is due instead of scanning every entry.
 *
 * Deletion is lazy: an entry replaced or deleted keeps its old item in the heap, and the store drops
 * that item when it comes due and no longer matches the entry (`MemoryStore.removeExpired`). When
 * stale items outnumber the entries, the store rebuilds the heap from its entries (`rebuild`).
 * Items due at the same millisecond come out in the order they were added.
 */
export class ExpiryIndex {
  // Parallel arrays rather than one tuple per item: fewer objects for the collector at 10^6 items.
  #at: number[] = [];
  #order: number[] = [];
  #keys: string[] = [];
  #added = 0;
  #examined = 0;

  /** Items in the heap, current or stale. */
  get size(): number {
    return this.#keys.length;
  }

  /** How many items `takeDue` has taken since the index was made: what the sweeps looked at. */
  get examined(): number {
    return this.#examined;
  }

  add(expiresAt: number, key: string): void {
    this.#at.push(expiresAt);
    this.#order.push(this.#added++);
    this.#keys.push(key);
    this.#up(this.#keys.length - 1);
  }

  /** Whether an item is due at `now`. */
  hasDue(now: number): boolean {
    return this.#keys.length > 0 && this.#at[0] <= now;
  }

  /** Removes and returns the items due at `now` (expiresAt ≤ now), earliest first, at most `limit`. */
  takeDue(now: number, limit = Number.POSITIVE_INFINITY): Array<[expiresAt: number, key: string]> {
    const due: Array<[number, string]> = [];
    while (due.length < limit && this.hasDue(now)) {
      due.push([this.#at[0], this.#keys[0]]);
      this.#removeTop();
    }
    this.#examined += due.length;
    return due;
  }

  /** Replaces the content with `items` (in their order), in linear time. */
  rebuild(items: Iterable<[expiresAt: number, key: string]>): void {
    this.#at = [];
    this.#order = [];
    this.#keys = [];
    for (const [at, key] of items) {
      this.#at.push(at);
      this.#order.push(this.#added++);
      this.#keys.push(key);
    }
    for (let i = (this.#keys.length >> 1) - 1; i >= 0; i -= 1) this.#down(i);
  }

  #removeTop(): void {
    const last = this.#keys.length - 1;
    this.#swap(0, last);
    this.#at.pop();
    this.#order.pop();
    this.#keys.pop();
    if (last > 0) this.#down(0);
  }

  #less(i: number, j: number): boolean {
    const a = this.#at[i];
    const b = this.#at[j];
    return a < b || (a === b && this.#order[i] < this.#order[j]);
  }

  #swap(i: number, j: number): void {
    [this.#at[i], this.#at[j]] = [this.#at[j], this.#at[i]];
    [this.#order[i], this.#order[j]] = [this.#order[j], this.#order[i]];
    [this.#keys[i], this.#keys[j]] = [this.#keys[j], this.#keys[i]];
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#keys.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.#less(right, left) ? right : left;
      if (!this.#less(child, i)) return;
      this.#swap(i, child);
      i = child;
    }
  }
}
