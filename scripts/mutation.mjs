#!/usr/bin/env node
// npm run test:mutation [part…] [-- stryker options]: one StrykerJS run per part of stryker.config.mjs
// (all of them by default), one after the other, each with its own report in reports/mutation/.
// Options that start with `-` go to every Stryker run, e.g. `--incremental` or
// `--mutate packages/koa/src/shared/csrf.ts:40-46`. Exits non-zero when a run fails.
import { spawnSync } from 'node:child_process';
import { parts } from '../stryker.config.mjs';

const args = process.argv.slice(2);
const flagAt = args.findIndex((arg) => arg.startsWith('-'));
const names = flagAt === -1 ? args : args.slice(0, flagAt);
const options = flagAt === -1 ? [] : args.slice(flagAt);
const unknown = names.filter((name) => !(name in parts));
if (unknown.length) {
  console.error(`test:mutation: no part ${unknown.join(', ')}; the parts are ${Object.keys(parts).join(', ')}`);
  process.exit(2);
}

for (const name of names.length ? names : Object.keys(parts)) {
  console.log(`\ntest:mutation: ${name}`);
  const run = spawnSync(
    process.execPath,
    ['node_modules/@stryker-mutator/core/bin/stryker.js', 'run', 'stryker.config.mjs', ...options],
    { stdio: 'inherit', env: { ...process.env, MUTATION_PART: name } },
  );
  if (run.status !== 0) process.exit(run.status ?? 1);
}
