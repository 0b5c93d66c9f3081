/**
 * A lowdb file whose writes are coalesced: every caller that asks for a flush while one is pending
 * shares it, so a burst of N changes costs one JSON.stringify and one atomic file replacement, not N.
 *
 * lowdb's `Low.write()` stringifies the whole document on every call; steno (below it) makes each
 * replacement atomic (write `.<name>.tmp`, then rename), so a crash mid-write leaves the previous
 * complete file. There is no fsync: a power loss may lose the last flush, never corrupt the file.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';

export class CoalescedFile<T> {
  readonly #db: Low<T>;
  readonly file: string;
  #pending: Promise<void> | undefined;
  #running: Promise<void> | undefined;
  #writes = 0;

  constructor(file: string, initial: T) {
    this.file = file;
    // Compact JSON: lowdb's JSONFile pretty-prints, which is ~30 % larger and slower.
    this.#db = new Low<T>(new DataFile<T>(file, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) }), initial);
  }

  /** The live document. Mutate it, then call `flush()`. */
  get data(): T {
    return this.#db.data;
  }

  /**
   * Reads the file, creating its folder when needed. A missing file leaves the initial data.
   * @throws Error naming the file when it is not valid JSON.
   */
  async open(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    try {
      await this.#db.read();
    } catch (err) {
      throw new Error(
        `${this.file} is not valid JSON (${(err as Error).message}); move it away or run "npm run reset"`,
      );
    }
  }

  /** How many times the file was replaced since this object was made. */
  get writes(): number {
    return this.#writes;
  }

  /** Resolves once every change made before the call is on disk. */
  flush(): Promise<void> {
    this.#pending ??= this.#schedule();
    return this.#pending;
  }

  async #schedule(): Promise<void> {
    // One write at a time; changes made meanwhile join the next one.
    await this.#running?.catch(() => {});
    // Let the current burst of synchronous changes finish before serialising.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#writes += 1;
    const run = this.#db.write();
    this.#running = run;
    this.#pending = undefined;
    await run;
  }
}
