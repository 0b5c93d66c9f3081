/** The scale run's pure parts: percentiles, and the targets judged on its rows. No load. */
import test from 'ava';
import type { Row } from '../lib/result.js';
import { judge, percentile, ROW } from '../scale/report.js';

test('percentile: nearest rank, NaN without values', (t) => {
  const values = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
  t.is(percentile(values, 50), 5);
  t.is(percentile(values, 99), 10);
  t.is(percentile([42], 99), 42);
  t.true(Number.isNaN(percentile([], 50)));
});

const row = (name: string, store: string, sessions: number, p50Ms: number, p99Ms: number, note?: string): Row => ({
  name,
  store,
  sessions,
  p50Ms,
  p99Ms,
  ...(note ? { note } : {}),
});

test('judge: cache-hit p99 at the largest size against the smallest, per store; lowdb sign-in p50 and event-loop max', (t) => {
  const rows = [
    row(ROW.cacheHit, 'lowdb', 100, 1, 4),
    row(ROW.cacheHit, 'lowdb', 100_000, 1, 5),
    row(ROW.callback, 'lowdb', 100_000, 40, 90, '30 of 30 sign-ins'),
    row(ROW.wrkEventLoop, 'lowdb', 100_000, 0, 3, 'max 20 ms, during the wrk run'),
    row(ROW.signInEventLoop, 'lowdb', 100_000, 0, 30, 'max 120.5 ms, during the sign-ins'),
    row(ROW.cacheHit, 'redis', 100, 1, 4),
    row(ROW.cacheHit, 'redis', 100_000, 1, 8),
    row(ROW.callback, 'redis', 100_000, 40, 90),
  ];
  judge(rows);
  const [lowdbSmall, lowdbLarge, callback, , , , redisLarge, redisCallback] = rows;
  t.like(lowdbLarge, { ratio: 1.25, met: true, target: 'p99 ≤ 1.5 × p99 at 100 sessions (4 ms)' });
  t.is(lowdbSmall?.met, undefined);
  t.like(redisLarge, { ratio: 2, met: false });
  // p50 40 ms is within 50 ms, but the event loop was held 120.5 ms during the sign-ins.
  t.like(callback, { met: false, note: '30 of 30 sign-ins; event-loop max 120.5 ms' });
  t.is(redisCallback?.met, undefined);
});
