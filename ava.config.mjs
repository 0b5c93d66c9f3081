// One ava run for the whole repository: TypeScript through tsx, workspace packages from source.
export default {
  files: [
    'mock-as/test/**/*.test.ts',
    'packages/*/test/**/*.test.ts',
    'reference-backend/test/**/*.test.ts',
    'sample-spa/test/**/*.test.ts',
    'portability/test/**/*.test.ts',
    'bench/test/**/*.test.ts',
    'docs/test/**/*.test.ts',
    // The docs checks' fixture repositories hold test files to be read, not run.
    '!docs/test/fixtures/**',
    'scripts/test/**/*.test.ts',
  ],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx', '--conditions=development', '--no-warnings=ExperimentalWarning'],
  // Node 20 worker threads ignore --import, so test files run in child processes.
  workerThreads: false,
  concurrency: 2,
  timeout: '60s',
};
