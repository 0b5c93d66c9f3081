// Mutation testing: `npm run test:mutation [part…]` (scripts/mutation.mjs) runs StrykerJS once per part
// below. Each run mutates that part's source and, for every mutant, runs the part's fast unit tests with
// ava (Stryker's command runner: no per-test coverage, so each mutant runs the whole list; no
// `--fail-fast`, which makes a failing run wait seconds longer for the tests it interrupts).
// Reports land in reports/mutation/<part>.html and .json. `--incremental` reuses the last run's results
// for unchanged code (reports/mutation/<part>.incremental.json); with the command runner Stryker cannot
// see which test covers a mutant, so after a test changes, only a run without it (or `--force`) retests
// the survivors.
// Not part of `npm test` or CI: a full run takes tens of minutes on two cores.

/** The parts under test: what is mutated, and the test files that must kill its mutants. */
export const parts = {
  csrf: {
    mutate: ['packages/koa/src/shared/csrf.ts'],
    tests: ['packages/koa/test/shared-middleware.test.ts'],
  },
  tokens: {
    mutate: ['packages/koa/src/tokens/**/*.ts'],
    tests: [
      'packages/koa/test/token-service.test.ts',
      'packages/koa/test/grant-store.test.ts',
      'packages/koa/test/client-auth.test.ts',
    ],
  },
  'resource-server': {
    mutate: ['packages/resource-server/src/**/*.ts'],
    tests: ['packages/resource-server/test/*.test.ts'],
  },
  client: {
    mutate: ['packages/client/src/**/*.ts'],
    tests: ['packages/client/test/client.test.ts', 'packages/client/test/client-answers.test.ts'],
    // The size budget measures the source as it is, not the instrumented copy.
    skip: 'the SDK is small*',
  },
  'sign-in': {
    mutate: [
      'reference-backend/src/oauth/login.ts',
      'reference-backend/src/oauth/login-transaction.ts',
      'reference-backend/src/oauth/callback.ts',
      'reference-backend/src/oauth/return-to.ts',
    ],
    tests: [
      'reference-backend/test/return-to.test.ts',
      'reference-backend/test/callback.test.ts',
      'reference-backend/test/open-redirect.test.ts',
    ],
  },
};

const name = process.env.MUTATION_PART ?? 'csrf';
const part = parts[name];
if (!part) throw new Error(`MUTATION_PART=${name} is not a part: use one of ${Object.keys(parts).join(', ')}`);
// MUTATION_TESTS narrows a run to some of the part's test files (space-separated), with `--mutate` set to
// the source they cover: quicker while writing tests, not a replacement for the part's full run.
if (process.env.MUTATION_TESTS) part.tests = process.env.MUTATION_TESTS.split(' ').filter(Boolean);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'command',
  commandRunner: {
    command: [
      'node node_modules/ava/entrypoints/cli.mjs',
      ...part.tests,
      ...(part.skip ? [`--match '!${part.skip}'`] : []),
    ].join(' '),
  },
  // The command runner cannot tell which test covers which mutant.
  coverageAnalysis: 'off',
  // A slow run on a loaded machine is not a hang: only a mutant that runs 15 s past the first run's
  // time counts as a timeout (detected).
  timeoutMS: 15000,
  concurrency: 2,
  mutate: part.mutate,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  thresholds: { high: 90, low: 80, break: null },
  // Not needed by the tests of any part: kept out of each sandbox copy.
  ignorePatterns: ['/sample-spa', '/bench', '/portability', '/docs', '/test-results', 'dist', 'dist-test', '.data'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
