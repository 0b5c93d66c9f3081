/**
 * What the reliability and security tests tried, for the table in docs/reliability.md. Each test
 * records one row (what was tried, how many cases, figures) into `test-results/reliability/`; the
 * row's result is the test's own, known when it ends. `npm run docs:reliability` then writes the
 * table from the last run's rows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ResultRow {
  /** The chapter's section: 'Load', 'Crash safety', 'AS faults', 'Hostile input', 'CSRF and cookies', 'Token hygiene'. */
  area: string;
  /** What was tried, in a few words ("bff-token query, body, headers and cookies, fuzzed"). */
  tried: string;
  /** How many cases, requests or runs. */
  cases: number;
  /** What was measured, in words with units ("0 5xx, 0 lost sessions, 1 412 refreshes, p99 38 ms"). */
  figures?: string;
}

/** The part of ava's ExecutionContext this needs. */
interface TestContext {
  readonly title: string;
  readonly passed: boolean;
  teardown(fn: () => void): void;
}

/** Where rows are written: RELIABILITY_RESULTS_DIR, else test-results/reliability under the run's folder. */
export const RESULTS_DIR = process.env.RELIABILITY_RESULTS_DIR ?? join(process.cwd(), 'test-results', 'reliability');

/**
 * Records the row of test `t` when it ends, with its result ("passed" or "failed"). Call it once the
 * figures are known; a later call replaces the row.
 */
export function recordResult(t: TestContext, row: ResultRow): void {
  const file = join(RESULTS_DIR, `${t.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 120)}.json`);
  t.teardown(() => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const record = {
      ...row,
      test: t.title,
      result: t.passed ? 'passed' : 'failed',
      node: process.version,
      at: new Date().toISOString(),
    };
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  });
}
