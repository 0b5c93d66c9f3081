/**
 * D6: how long a bff-token caller waits for the AS (`asTimeoutMs`), counting the AS and nothing
 * else. The clock runs while an AS request of the flight is out, and while the
 * flight waits for the session's lock: the holder may be another flight waiting on a slow AS, in
 * this process or another instance, so a caller queued behind a slow AS gets
 * `temporarily_unavailable` at the same bound as the caller whose request is out. It stands still
 * while the flight reads and writes the store under the lock: a slow store write after the AS has
 * answered never turns a served token into a timeout.
 *
 * Each caller has its own clock (`AsClock`, its own `asTimeoutMs`), joined to the flight it waits
 * on (`FlightClock`): a caller that joins a flight late counts from when it joined. When a caller's
 * clock has run its limit, its `expired` rejects; the flight itself goes on and keeps what the AS
 * answers (token-service.ts).
 */
import { TemporarilyUnavailable } from '../errors.js';

export class AsClock {
  /** Rejects with `TemporarilyUnavailable` once the clock has run `limitMs`; never settles otherwise. */
  readonly expired: Promise<never>;
  #left: number;
  #since = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = 0;
  #stopped = false;
  #expire!: () => void;

  constructor(readonly limitMs: number) {
    this.#left = limitMs;
    this.expired = new Promise<never>((_, reject) => {
      this.#expire = () => {
        this.#stopped = true;
        const detail = `timeout: no answer from the AS within ${limitMs} ms (asTimeoutMs); it goes on and is kept`;
        reject(new TemporarilyUnavailable(undefined, { detail }));
      };
    });
    this.expired.catch(() => {}); // nobody may be waiting any more when it expires
  }

  /** Starts (or keeps) the clock running; `run` and `pause` nest.  */
  run(): void {
    if (this.#stopped || this.#running++ > 0) return;
    this.#since = performance.now();
    this.#timer = setTimeout(this.#expire, Math.max(0, this.#left));
    this.#timer.unref();
  }

  pause(): void {
    if (this.#stopped || this.#running === 0 || --this.#running > 0) return;
    clearTimeout(this.#timer);
    this.#left -= performance.now() - this.#since;
  }

  /** The flight settled: the clock never fires. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}

/** A flight's phases, fanned out to the clocks of the callers waiting on it. */
export class FlightClock {
  #running = 0;
  readonly #clocks = new Set<AsClock>();

  /** A caller starts waiting on the flight: its clock, running if the flight is at the AS now. */
  join(limitMs: number): AsClock {
    const clock = new AsClock(limitMs);
    this.#clocks.add(clock);
    if (this.#running > 0) clock.run();
    return clock;
  }

  /** The caller has its answer (or gave up): its clock is done. */
  leave(clock: AsClock): void {
    clock.stop();
    this.#clocks.delete(clock);
  }

  /** The flight waits on the AS (or on the lock); `run` and `pause` nest. */
  run(): void {
    if (this.#running++ === 0) for (const clock of this.#clocks) clock.run();
  }

  pause(): void {
    if (this.#running > 0 && --this.#running === 0) for (const clock of this.#clocks) clock.pause();
  }

  /** Runs `call` (an AS request) with the callers' clocks running. */
  async timed<T>(call: () => Promise<T>): Promise<T> {
    this.run();
    try {
      return await call();
    } finally {
      this.pause();
    }
  }
}
