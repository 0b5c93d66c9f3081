// A StrykerJS test runner for ava, one test file per "test": `testRunner: 'ava-files'` in
// stryker.config.mjs. Stryker's command runner runs every test file for every mutant and cannot tell an
// uncovered mutant from a survivor. This runner runs each file once at the start and records which mutants
// the file reached (scripts/mutation-coverage.mjs), so that Stryker runs each mutant against only the
// files that reach it, and reports a mutant no file reaches as "no coverage" without a run.
// Each run is a fresh `ava <files>` process with the mutant's id in __STRYKER_ACTIVE_MUTANT__, so a
// mutant in module-level code is active from the first import.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSTRUMENTER_CONSTANTS } from '@stryker-mutator/api/core';
import { commonTokens, declareClassPlugin, PluginKind, tokens } from '@stryker-mutator/api/plugin';
import { DryRunStatus, TestStatus, toMutantRunResult } from '@stryker-mutator/api/test-runner';

const coverageHook = fileURLToPath(new URL('./mutation-coverage.mjs', import.meta.url));

class AvaFilesTestRunner {
  static inject = tokens(commonTokens.options);
  #files;
  #arguments;
  #bundle;
  #running;

  constructor(options) {
    this.#files = options.avaFiles;
    this.#arguments = options.avaArguments ?? [];
    this.#bundle = options.avaBundle === true;
    if (!Array.isArray(this.#files) || this.#files.length === 0) {
      throw new Error('testRunner "ava-files" needs avaFiles: the test files to run, in stryker.config.mjs');
    }
  }

  capabilities() {
    return { reloadEnvironment: true };
  }

  /**
   * avaBundle: the files run as one, from a file in the sandbox that imports them all, so that a run
   * loads the modules they share once (most of a small file's run time) instead of once per file.
   */
  async init() {
    if (!this.#bundle) return;
    const folder = path.dirname(this.#files[0]);
    const bundle = path.join(folder, 'mutation-bundle.test.ts');
    const imports = this.#files.map((file) => `import './${path.relative(folder, file).replaceAll(path.sep, '/')}';`);
    writeFileSync(bundle, `${imports.join('\n')}\n`);
    this.#files = [bundle];
  }

  /** Each file on its own, recording the mutants it reaches. */
  async dryRun() {
    const tests = [];
    const perTest = {};
    for (const file of this.#files) {
      const folder = mkdtempSync(path.join(tmpdir(), 'mutation-coverage-'));
      try {
        const run = await this.#ava([file], {
          MUTATION_COVERAGE_DIR: folder,
          avaArguments: ['--serial', `--node-arguments=--import=${coverageHook}`],
        });
        tests.push(testResult(file, run));
        if (run.exitCode !== 0) return { status: DryRunStatus.Complete, tests };
        const reached = {};
        for (const name of readdirSync(folder)) {
          for (const id of JSON.parse(readFileSync(path.join(folder, name), 'utf8'))) reached[id] = 1;
        }
        perTest[file] = reached;
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    }
    return { status: DryRunStatus.Complete, tests, mutantCoverage: { static: {}, perTest } };
  }

  /**
   * The files that reach the mutant (all of them when Stryker gives no filter), with the mutant active.
   * One test at a time, stopping at the first failure: a detected mutant costs the tests up to the
   * one that fails, not all of them (ava starts a file's tests together, so without --serial a
   * failure stops nothing already running).
   */
  async mutantRun({ activeMutant, testFilter }) {
    const files = testFilter?.length ? testFilter : this.#files;
    const run = await this.#ava(files, {
      [INSTRUMENTER_CONSTANTS.ACTIVE_MUTANT_ENV_VARIABLE]: activeMutant.id,
      avaArguments: ['--serial', '--fail-fast'],
    });
    return toMutantRunResult({ status: DryRunStatus.Complete, tests: fileResults(files, run) });
  }

  /** A timed-out run is stopped with all of its worker processes. */
  async dispose() {
    if (this.#running) process.kill(-this.#running.pid, 'SIGKILL');
  }

  #ava(files, { avaArguments = [], ...env }) {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['node_modules/ava/entrypoints/cli.mjs', ...this.#arguments, ...avaArguments, ...files],
        {
          env: { ...process.env, ...env },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      this.#running = child;
      const output = [];
      child.stdout.on('data', (chunk) => output.push(chunk));
      child.stderr.on('data', (chunk) => output.push(chunk));
      child.on('error', reject);
      child.on('close', (exitCode) => {
        if (this.#running === child) this.#running = undefined;
        resolve({ exitCode, output: Buffer.concat(output).toString(), ms: performance.now() - started });
      });
    });
  }
}

/** One result per file: ava prefixes a failure with the file's name when it runs several files. */
function fileResults(files, run) {
  if (run.exitCode === 0 || files.length === 1) return files.map((file) => testResult(file, run));
  const failures = run.output.split('\n').filter((line) => /\[fail\]:|Uncaught exception in/.test(line));
  const failed = files.filter((file) => failures.some((line) => line.includes(path.basename(file, '.test.ts'))));
  return files.map((file) =>
    testResult(file, failed.length === 0 || failed.includes(file) ? run : { ...run, exitCode: 0 }),
  );
}

function testResult(name, run) {
  return run.exitCode === 0
    ? { id: name, name, status: TestStatus.Success, timeSpentMs: run.ms }
    : { id: name, name, status: TestStatus.Failed, timeSpentMs: run.ms, failureMessage: run.output.slice(-4000) };
}

export const strykerPlugins = [declareClassPlugin(PluginKind.TestRunner, 'ava-files', AvaFilesTestRunner)];
export const strykerValidationSchema = {
  properties: {
    avaFiles: { type: 'array', items: { type: 'string' }, description: 'The ava test files.' },
    avaArguments: { type: 'array', items: { type: 'string' }, description: 'More arguments for each ava run.' },
    avaBundle: { type: 'boolean', description: 'Run the files as one (one process, shared modules).' },
  },
};
