#!/usr/bin/env node
// `npm run docs:check`: every check of the docs against the code, each a script of its own. The spec
// map and the walkthrough's excerpts (run with --check), then every docs/scripts/check-*.mjs.
// Each prints what drifted and exits non-zero; this runs them all and fails if any failed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const checks = [
  ['spec-map.mjs', '--check'],
  ['excerpts.mjs', '--check'],
  ...readdirSync(here)
    .filter((f) => /^check-.+\.mjs$/.test(f))
    .sort()
    .map((f) => [f]),
];
let failed = 0;
for (const [script, ...args] of checks) {
  const { status } = spawnSync(process.execPath, [join(here, script), ...args], { stdio: 'inherit' });
  if (status !== 0) failed += 1;
}
if (failed > 0) {
  console.error(`docs check: ${failed} of ${checks.length} checks failed`);
  process.exit(1);
}
