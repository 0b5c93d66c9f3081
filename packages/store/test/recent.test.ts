import test from 'ava';
import { Recent } from '../src/index.js';

test('Recent keeps the last `limit` keys set, forgetting the oldest first', (t) => {
  const recent = new Recent<string, number>(3);
  for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) recent.set(key, i);
  t.is(recent.size, 3);
  t.is(recent.get('a'), undefined);
  t.deepEqual(
    ['b', 'c', 'd'].map((k) => recent.get(k)),
    [1, 2, 3],
  );
});

test('Recent: setting a key it holds again forgets nothing', (t) => {
  const recent = new Recent<string, number>(2);
  recent.set('a', 1);
  recent.set('b', 2);
  recent.set('b', 3);
  t.is(recent.size, 2);
  t.is(recent.get('a'), 1);
  t.is(recent.get('b'), 3);
});

test('Recent refuses a limit that is not a whole number of at least 1', (t) => {
  for (const limit of [0, -1, 1.5, Number.NaN]) {
    t.throws(() => new Recent(limit), { instanceOf: RangeError, message: /limit must be a whole number/ });
  }
});
