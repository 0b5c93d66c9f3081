// Mutation testing: `npm run test:mutation [part…]` (scripts/mutation.mjs) runs StrykerJS once per part
// below. Each run mutates that part's source and runs the part's ava test files against each mutant,
// through scripts/mutation-ava-runner.mjs: each file runs once at the start to record which mutants it
// reaches, then each mutant runs only the files that reach it, one test at a time up to the first
// failure, and a mutant no file reaches is "no coverage".
// Reports land in reports/mutation/<part>.html and .json. `--incremental` reuses the last run's results
// for unchanged code and unchanged test files (reports/mutation/<part>.incremental.json).
// Not part of `npm test` or CI: a full run takes tens of minutes on two cores.

import { readdirSync } from 'node:fs';

/** Every test file in a folder. */
function testFiles(folder) {
  return readdirSync(folder)
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => `${folder}/${name}`);
}

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
      'packages/koa/test/token-cache.test.ts',
      'packages/koa/test/as-clock.test.ts',
      'packages/koa/test/as-failure.test.ts',
      'packages/koa/test/openid-client.test.ts',
    ],
  },
  'resource-server': {
    mutate: ['packages/resource-server/src/**/*.ts'],
    // Not bundled: a file that declares tests after a top-level await cannot be imported by another.
    tests: testFiles('packages/resource-server/test'),
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
      'reference-backend/test/sign-in.test.ts',
      'reference-backend/test/return-to.test.ts',
      'reference-backend/test/callback.test.ts',
      'reference-backend/test/open-redirect.test.ts',
      'reference-backend/test/grant-lifecycle.test.ts',
      'reference-backend/test/flow-events.test.ts',
    ],
    // Each file signs in through the mock AS, so each reaches most mutants: one process loads it all once.
    bundle: true,
  },
};

const name = process.env.MUTATION_PART ?? 'csrf';
const part = parts[name];
if (!part) throw new Error(`MUTATION_PART=${name} is not a part: use one of ${Object.keys(parts).join(', ')}`);
// MUTATION_TESTS narrows a run to some of the part's test files (space-separated), with `--mutate` set to
// the source they cover: quicker while writing tests, not a replacement for the part's full run.
// MUTATION_REPORT names the reports of a run that covers less than the part (with `--mutate`), so that
// the part's full reports stay.
const report = process.env.MUTATION_REPORT ?? name;
if (process.env.MUTATION_TESTS) part.tests = process.env.MUTATION_TESTS.split(' ').filter(Boolean);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // scripts/mutation-ava-runner.mjs: each test file is run once at the start to record which mutants it
  // reaches; each mutant then runs only the files that reach it, and one that none reaches is "no coverage".
  plugins: ['@stryker-mutator/*', './scripts/mutation-ava-runner.mjs', './scripts/mutation-survivors.mjs'],
  testRunner: 'ava-files',
  avaFiles: part.tests,
  avaArguments: part.skip ? [`--match=!${part.skip}`] : [],
  avaBundle: part.bundle === true,
  coverageAnalysis: 'perTest',
  // A slow run on a loaded machine is not a hang: only a mutant that runs 15 s past the first run's
  // time counts as a timeout (detected).
  timeoutMS: 15000,
  concurrency: 2,
  mutate: part.mutate,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ['clear-text', 'progress', 'html', 'json', 'survivors'],
  survivorsFile: `reports/mutation/${report}.survivors.jsonl`,
  htmlReporter: { fileName: `reports/mutation/${report}.html` },
  jsonReporter: { fileName: `reports/mutation/${report}.json` },
  thresholds: { high: 90, low: 80, break: null },
  // Not needed by the tests of any part: kept out of each sandbox copy.
  ignorePatterns: [
    '/.stryker-tmp*',
    '/sample-spa',
    '/bench',
    '/portability',
    '/docs',
    '/test-results',
    'dist',
    'dist-test',
    '.data',
  ],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
