/**
 * Takes turns at the event loop for file writes, so that many files written at once (a burst that
 * touches many shards, a sweep) neither block it for the sum of their `JSON.stringify` costs nor
 * flood it with their I/O completions.
 *
 * A job waits for the next turn of the event loop (`setImmediate`), so the changes of the current
 * burst join it. Each turn starts queued jobs, in order, until `budgetMs` has passed or `maxInFlight`
 * writes are under way, and leaves the rest to a later turn, after pending I/O and timers. A turn
 * starts at least one job when fewer than `maxInFlight` are under way.
 */
export class WriteTurns {
  readonly #jobs: Array<() => Promise<void>> = [];
  #scheduled = false;
  #inFlight = 0;

  constructor(
    readonly budgetMs = 10,
    readonly maxInFlight = 32,
  ) {}

  /**
   * Runs `start` in a coming turn and settles with the promise it returns. `start` does its
   * synchronous work at once and returns a promise for the rest (the file I/O).
   */
  run(start: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#jobs.push(async () => {
        try {
          resolve(await start());
        } catch (err) {
          reject(err);
        }
      });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#jobs.length === 0 || this.#inFlight >= this.maxInFlight) return;
    this.#scheduled = true;
    setImmediate(() => this.#turn());
  }

  #turn(): void {
    this.#scheduled = false;
    const started = performance.now();
    do {
      const job = this.#jobs.shift();
      if (!job) break;
      this.#inFlight += 1;
      void job().finally(() => {
        this.#inFlight -= 1;
        this.#schedule();
      });
    } while (this.#inFlight < this.maxInFlight && performance.now() - started < this.budgetMs);
    this.#schedule();
  }
}
