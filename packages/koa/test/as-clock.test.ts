/**
 * D6: the AS clock counts only the time a flight waits on the AS (as-clock.ts). These tests run the
 * real timers: where a test asserts that a clock has NOT expired, it waits a bounded time, which is
 * the assertion itself; an expiry that must come is awaited.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { TemporarilyUnavailable } from '../src/index.js';
import { AsClock, FlightClock } from '../src/tokens/as-clock.js';

// The clocks' timers never hold a process open (as-clock.ts unrefs them): this interval does, so an
// expiry is awaited even when a test runs alone.
const alive = setInterval(() => {}, 1000);
test.after.always(() => clearInterval(alive));

/** Whether `clock` expires within `ms`. */
async function expiresWithin(clock: AsClock, ms: number): Promise<boolean> {
  return Promise.race([
    clock.expired.then(
      () => false,
      () => true,
    ),
    sleep(ms).then(() => false),
  ]);
}

/** How long after now the clock expires (it must, within 10 s). */
async function msToExpiry(clock: AsClock): Promise<number> {
  const from = performance.now();
  const expired = await expiresWithin(clock, 10_000);
  if (!expired) throw new Error('the clock never expired');
  return performance.now() - from;
}

test('D6: a running clock expires with temporarily_unavailable naming its limit; a paused or stopped one never does', async (t) => {
  const running = new AsClock(50);
  running.run();
  const err = await t.throwsAsync(running.expired, { instanceOf: TemporarilyUnavailable });
  t.is(err?.error, 'temporarily_unavailable');
  t.is(err?.error_detail, 'timeout: no answer from the AS within 50 ms (asTimeoutMs); it goes on and is kept');

  const idle = new AsClock(50);
  t.false(await expiresWithin(idle, 200), 'never started');
  const paused = new AsClock(50);
  paused.run();
  paused.pause();
  t.false(await expiresWithin(paused, 200), 'paused at once');
  const stopped = new AsClock(50);
  stopped.run();
  stopped.stop();
  t.false(await expiresWithin(stopped, 200), 'stopped');
  stopped.run();
  t.false(await expiresWithin(stopped, 200), 'a stopped clock does not start again');
});

test('D6: run and pause nest: two runs need two pauses', async (t) => {
  const clock = new AsClock(100);
  clock.run();
  clock.run();
  clock.pause();
  t.true(await expiresWithin(clock, 5000), 'one pause of two runs leaves it running');

  const both = new AsClock(100);
  both.run();
  both.run();
  both.pause();
  both.pause();
  both.pause(); // one pause too many changes nothing
  t.false(await expiresWithin(both, 300));
  both.run();
  t.true(await expiresWithin(both, 5000), 'a run after the extra pause starts it again');
});

test('D6: a paused clock keeps the time it has run: it expires after what is left of its limit, not all of it', async (t) => {
  const clock = new AsClock(1000);
  clock.run();
  await sleep(600);
  clock.pause();
  t.false(await expiresWithin(clock, 400), 'no time passes while paused');
  clock.run();
  const left = await msToExpiry(clock);
  t.true(left >= 300 && left < 1000, `about 400 ms were left, not the whole second: ${Math.round(left)} ms`);
});

test('D6: a flight fans its phases out to its callers: one who joins while it waits on the AS runs at once, and stops when it leaves', async (t) => {
  const flight = new FlightClock();
  const early = flight.join(100);
  t.false(await expiresWithin(early, 250), 'the flight is not at the AS yet');
  flight.run();
  const late = flight.join(100);
  t.true(await expiresWithin(late, 5000), 'joined while the flight waits on the AS');
  t.true(await expiresWithin(early, 5000));

  const second = new FlightClock();
  const caller = second.join(150);
  second.run();
  second.leave(caller);
  t.false(await expiresWithin(caller, 400), 'a caller that left is stopped');

  // Nested phases: the callers pause only when the last phase ends; an extra pause changes nothing.
  const third = new FlightClock();
  const waiting = third.join(100);
  third.run();
  third.run();
  third.pause();
  t.true(await expiresWithin(waiting, 5000));
  const fourth = new FlightClock();
  const patient = fourth.join(100);
  fourth.pause();
  fourth.run();
  fourth.pause();
  t.false(await expiresWithin(patient, 300));
});

test('D6: timed() runs the callers’ clocks only while the AS call is out, and pauses them even when it fails', async (t) => {
  const flight = new FlightClock();
  const clock = flight.join(150);
  t.is(await flight.timed(async () => 'answer'), 'answer');
  await t.throwsAsync(
    flight.timed(async () => {
      throw new Error('refused');
    }),
    { message: 'refused' },
  );
  t.false(await expiresWithin(clock, 400), 'paused after each call');
  const slow = flight.timed(() => sleep(2000));
  t.true(await expiresWithin(clock, 5000), 'a call slower than the limit expires the clock');
  await slow;
});

test('D6: a pause with nothing running changes nothing: the clock still has its whole limit when it runs', async (t) => {
  const early = new AsClock(300);
  early.pause();
  early.run();
  t.false(await expiresWithin(early, 150), 'a pause before the first run takes no time off');
  early.pause();

  const clock = new AsClock(1000);
  clock.run();
  await sleep(300);
  clock.pause();
  await sleep(300);
  clock.pause(); // one pause too many, later: it must not count the time since the run again
  clock.run();
  const left = await msToExpiry(clock);
  t.true(left >= 500, `about 700 ms were left: ${Math.round(left)} ms`);
});

test('D6: a stopped clock stays stopped, even when it was paused at the time', async (t) => {
  const clock = new AsClock(50);
  clock.run();
  clock.pause();
  clock.stop();
  clock.run();
  t.false(await expiresWithin(clock, 300));
});

test('D6: a flight paused while nothing runs still starts its callers’ clocks at its next run', async (t) => {
  const flight = new FlightClock();
  const caller = flight.join(100);
  flight.pause();
  flight.run();
  t.true(await expiresWithin(caller, 5000));
});
