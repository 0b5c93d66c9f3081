/**
 * Takes turns at the event loop for the synchronous part of file writes (lowdb's `JSON.stringify`
 * of a document), so that many files written at once do not block it for the sum of their costs.
 *
 * A job waits for the next turn of the event loop (`setImmediate`), so the changes of the current
 * burst join it. Each turn runs queued jobs, in order, until `budgetMs` has passed, and leaves the
 * rest to the next turn, after pending I/O and timers. A turn runs at least one job.
 */
export class WriteTurns {
  readonly #jobs: Array<() => void> = [];
  #scheduled = false;

  constructor(readonly budgetMs = 10) {}

  /**
   * Runs `start` in a coming turn and settles with the promise it returns. `start` does its
   * synchronous work at once and returns a promise for the rest (the file I/O).
   */
  run(start: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#jobs.push(() => {
        try {
          start().then(resolve, reject);
        } catch (err) {
          reject(err);
        }
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#turn());
      }
    });
  }

  #turn(): void {
    const started = performance.now();
    do this.#jobs.shift()?.();
    while (this.#jobs.length > 0 && performance.now() - started < this.budgetMs);
    if (this.#jobs.length > 0) setImmediate(() => this.#turn());
    else this.#scheduled = false;
  }
}
