// Loaded into each ava worker by scripts/mutation-ava-runner.mjs during Stryker's first run: when the
// worker exits, it writes the ids of the mutants its test file reached (Stryker's instrumented code counts
// them in globalThis.__stryker__.mutantCoverage) to MUTATION_COVERAGE_DIR, one file per process.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const folder = process.env.MUTATION_COVERAGE_DIR;
if (folder) {
  process.on('exit', function writeMutantCoverage() {
    const coverage = globalThis.__stryker__?.mutantCoverage;
    const reached = new Set(Object.keys(coverage?.static ?? {}));
    for (const perTest of Object.values(coverage?.perTest ?? {})) {
      for (const id of Object.keys(perTest)) reached.add(id);
    }
    writeFileSync(path.join(folder, `${process.pid}.json`), JSON.stringify([...reached]));
  });
}
