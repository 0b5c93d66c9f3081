/**
 * @tmi-bff/mock-as/testing/fuzz: the fast-check generators and the seeded run that the fuzzing tests
 * of the mock AS and of the reference backend share. A separate entry from `@tmi-bff/mock-as/testing`,
 * whose sign-in helpers the mock BFF runs outside tests: only this one needs fast-check, which the
 * test projects that import it declare themselves.
 *
 *   const { printable, anyText } = fuzzText({ maxLength: 30, tricky: ['%', '%zz', ''] });
 *   const { runs, ms } = await fuzzRun(request, { numRuns: 2000, seed: 20261130 }, async (r) => { … });
 */
import fc from 'fast-check';

/** Weighted 4 to 1 towards `good`, so most requests get past the checks that `bad` trips. */
export const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: bad, weight: 1 });

export interface FuzzTextOptions {
  /** The longest printable string. */
  maxLength: number;
  /** The longest string of any code points; default `maxLength`. */
  binaryMaxLength?: number;
  /** Values `anyText` also draws as they are: broken percent escapes, form syntax. */
  tricky: readonly string[];
}

/**
 * The text of the fuzzing tests: `printable`, visible ASCII and space (0x20–0x7E); `anyText`, a
 * printable string, a string of any code points (controls, non-ASCII, lone surrogates) or one of
 * the `tricky` values.
 */
export function fuzzText({ maxLength, binaryMaxLength = maxLength, tricky }: FuzzTextOptions): {
  printable: fc.Arbitrary<string>;
  anyText: fc.Arbitrary<string>;
} {
  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength,
  });
  const anyText = fc.oneof(
    printable,
    fc.string({ unit: 'binary', maxLength: binaryMaxLength }),
    fc.constantFrom(...tricky),
  );
  return { printable, anyText };
}

/** Percent-encodes every byte (UTF-8; a lone surrogate as U+FFFD) of the characters `unsafe` matches. */
export const percentEncode = (text: string, unsafe = /[^\w.~-]/g): string =>
  text.replace(unsafe, (c) => Buffer.from(c).toString('hex').replace(/../g, '%$&'));

/**
 * Checks `property` on `numRuns` values of `arbitrary` drawn from `seed` (a failure reports the seed,
 * the shrunk value and the error `property` threw). Returns how many values ran, and in how many ms.
 */
export async function fuzzRun<T>(
  arbitrary: fc.Arbitrary<T>,
  { numRuns, seed }: { numRuns: number; seed: number },
  property: (value: T) => Promise<void>,
): Promise<{ runs: number; ms: number }> {
  let runs = 0;
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      runs += 1;
      await property(value);
    }),
    { numRuns, seed, includeErrorInReport: true },
  );
  return { runs, ms: Math.round(performance.now() - started) };
}
