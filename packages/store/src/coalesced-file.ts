/**
 * A lowdb file whose writes are coalesced: every caller that asks for a flush while one is pending
 * shares it, so a burst of N changes costs one JSON.stringify and one atomic file replacement, not N.
 *
 * lowdb's `Low.write()` stringifies the whole document on every call; `PrivateJsonFile` (below it)
 * makes each replacement atomic and private (a 0600 temporary file, fsync, rename), so a crash or a
 * failed write mid-way leaves the previous complete file. The folder is kept 0700.
 */
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { makePrivateFolder, PrivateJsonFile, tightenFile } from './private-file.js';
import { WriteTurns } from './write-turns.js';

export interface CoalescedFileOptions<T> {
  /**
   * Where the write takes its turn for `JSON.stringify`: files sharing one take turns, so the event
   * loop is never blocked for more than about its budget by their writes together. Default: a turn
   * of its own.
   */
  turns?: WriteTurns;
  /** Turns the document into JSON text, for a document that can do it faster. Default: `JSON.stringify`. */
  stringify?: (data: T) => string;
}

export class CoalescedFile<T> {
  readonly #db: Low<T>;
  readonly file: string;
  #pending: Promise<void> | undefined;
  #running: Promise<void> | undefined;
  #writes = 0;
  readonly #turns: WriteTurns;

  constructor(file: string, initial: T, options: CoalescedFileOptions<T> = {}) {
    this.file = file;
    this.#db = new Low<T>(new PrivateJsonFile<T>(file, options.stringify), initial);
    this.#turns = options.turns ?? new WriteTurns();
  }

  /** The live document. Mutate it, then call `flush()`. */
  get data(): T {
    return this.#db.data;
  }

  /**
   * Reads the file, creating its folder (0700) when needed and tightening the folder and the file
   * when they are readable by others. A missing file leaves the initial data.
   * @throws Error naming the file when it is not valid JSON.
   */
  async open(): Promise<void> {
    await makePrivateFolder(dirname(this.file));
    await tightenFile(this.file);
    try {
      await this.#db.read();
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      throw new Error(`${this.file} is not valid JSON (${err.message}); move it away or run "npm run reset"`);
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
    // Serialised on a later turn of the event loop: the current burst of changes joins this write.
    const run = this.#turns.run(() => {
      this.#writes += 1;
      this.#pending = undefined;
      return this.#db.write();
    });
    this.#running = run;
    await run;
  }
}
