// docs/scripts/reliability-table.mjs and check-reliability.mjs on a fixture (docs/test/fixtures/reliability):
// a chapter with the table's markers, the test files it will name under `_repo/`, and the rows of a run
// under `_results/` (one of them from a test renamed since). The table is written into a copy of the
// fixture: the command itself once (its exit status and output), its functions for the other cases.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
// @ts-expect-error: a plain .mjs script, without types
import { checkReliability } from '../scripts/check-reliability.mjs';
// @ts-expect-error: a plain .mjs script, without types
import { writeReliabilityTable } from '../scripts/reliability-table.mjs';

const scripts = join(import.meta.dirname, '..', 'scripts');
const fixture = join(import.meta.dirname, 'fixtures', 'reliability');

interface Outcome {
  problems: string[];
  warnings: string[];
  rows: unknown[];
}

/** A copy of the fixture, changed by `change`, given to `run`; the copy is removed. */
function inCopy<T>(change: ((dir: string) => void) | undefined, run: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'reliability-table-'));
  try {
    cpSync(fixture, dir, { recursive: true });
    change?.(dir);
    return run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const paths = (dir: string) => ({
  root: join(dir, '_repo'),
  results: join(dir, '_results'),
  chapter: join(dir, '_repo', 'docs', 'reliability.md'),
});
const write = (dir: string): Outcome => writeReliabilityTable(paths(dir));
const chapterOf = (dir: string) => readFileSync(paths(dir).chapter, 'utf8');
const tableOf = (chapter: string) =>
  chapter.slice(chapter.indexOf('begin -->') + 10, chapter.indexOf('<!-- reliability-table:end'));

const TABLE = `| area | what was tried | cases | result | figures |
|---|---|---|---|---|
| Load | 50 sessions, bff-token and bff-sessioninfo for 5 s<br>\`app/test/reliability/soak.test.ts\` › "soak: 50 sessions call both endpoints; no 5xx, no session lost" | 12,345 | passed | 0 5xx, 0 lost sessions, p99 38 ms |
| Crash safety | SIGKILL of the backend in a write burst<br>\`app/test/reliability/soak.test.ts\` › "crash: a SIGKILL in a write burst loses no acknowledged session" | 3 | **failed** | 3 of 3 restarts \\| every acknowledged session works |
| CSRF and cookies | cross-site form POST on every session route (/_mock/\\* and Sec-Fetch-\\* included)<br>\`app/test/csrf.test.ts\` › "csrf: a cross-site form POST is refused on every session route \\| sign-out included" | 14 | passed |  |

Last run: 2026-12-01, 03:50–03:52 UTC, on Node v20.19.5 (2 tests), v24.12.0 (1 test); 3 tests, 2 passed, **1 failed**.

One reliability test recorded no row in this run (it did not run, or ended before recording it):

- \`app/test/reliability/soak.test.ts\` › "crash: the AS SIGKILLed in a refresh burst loses no acknowledged refresh token"
`;

test('the command writes the table between the markers: areas in the chapter’s order, each row naming its test; it exits 0', (t) => {
  inCopy(undefined, (dir) => {
    const before = chapterOf(dir);
    const { root, results, chapter } = paths(dir);
    const args = ['--root', root, '--results', results, '--chapter', chapter];
    const run = spawnSync(process.execPath, [join(scripts, 'reliability-table.mjs'), ...args], { encoding: 'utf8' });
    t.is(run.status, 0, run.stderr);
    t.regex(run.stdout, /reliability\.md now lists 3 tests, 1 of them failed\n$/);
    const after = chapterOf(dir);
    t.is(tableOf(after), TABLE);
    // Only what stands between the markers changed.
    t.is(after.replace(TABLE, ''), before.replace('No run recorded yet.\n', ''));
    // A second run writes the same chapter.
    t.deepEqual(write(dir).problems, []);
    t.is(chapterOf(dir), after);
  });
});

test('a row whose test no longer exists is left out, and a recording test without a row is named; each with a warning', (t) => {
  inCopy(undefined, (dir) => {
    const { problems, warnings, rows } = write(dir);
    t.deepEqual(problems, []);
    t.is(rows.length, 3);
    t.is(warnings.length, 2);
    t.regex(
      warnings[0],
      /^left out: no test file declares a test titled "soak: a title since renamed" \(.*stale\.json;/,
    );
    // A test of the folder that never records a row is not named.
    t.is(
      warnings[1],
      'no row from app/test/reliability/soak.test.ts › "crash: the AS SIGKILLed in a refresh burst loses no acknowledged refresh token": it did not run, or ended before recording it',
    );
    t.false(chapterOf(dir).includes('a title since renamed'));
  });
});

test('without rows it says what to run, naming the reliability folders, exits 1 and leaves the chapter as it was', (t) => {
  inCopy(
    (dir) => rmSync(join(dir, '_results'), { recursive: true }),
    (dir) => {
      const before = chapterOf(dir);
      const { root, results, chapter } = paths(dir);
      const { problems } = writeReliabilityTable({ root, results, chapter }) as Outcome;
      t.is(problems.length, 1);
      t.regex(
        problems[0],
        /^no rows in .*_results: run the reliability tests first \(npm test, or only them: npx ava app\/test\/reliability\/\), then npm run docs:reliability$/,
      );
      t.is(chapterOf(dir), before);
    },
  );
});

test('a row that is not what recordResult writes is named with its missing field; the chapter is left as it was', (t) => {
  inCopy(
    (dir) =>
      writeFileSync(join(dir, '_results', 'broken.json'), JSON.stringify({ area: 'Load', tried: 'x', cases: '3' })),
    (dir) => {
      const before = chapterOf(dir);
      const { problems } = write(dir);
      t.is(problems.length, 1);
      t.regex(
        problems[0],
        /broken\.json: not a row of recordResult: cases \(number\), test \(string\), result \(string\)/,
      );
      t.is(chapterOf(dir), before);
    },
  );
});

test('a chapter without the markers is refused, naming them', (t) => {
  inCopy(
    (dir) => writeFileSync(paths(dir).chapter, '# Reliability\n\nNo table here.\n'),
    (dir) => {
      const { problems } = write(dir);
      t.is(problems.length, 1);
      t.regex(
        problems[0],
        /reliability\.md: the markers <!-- reliability-table:begin --> and <!-- reliability-table:end -->/,
      );
    },
  );
});

test('the check passes on the written table and on a chapter with no run yet, and fails when a test it names, in the table or in prose, is renamed', (t) => {
  inCopy(undefined, (dir) => {
    const { root, chapter } = paths(dir);
    t.deepEqual(checkReliability(root, chapter), { problems: [], cited: 1, settings: 1 });
    write(dir);
    t.deepEqual(checkReliability(root, chapter), { problems: [], cited: 5, settings: 1 });
    const file = join(root, 'app', 'test', 'csrf.test.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('every session route', 'each session route'));
    const { problems } = checkReliability(root, chapter);
    t.deepEqual(problems, [
      'docs/reliability.md:12: app/test/csrf.test.ts has no test titled "csrf: a cross-site form POST is refused on every session route | sign-out included" (the closest is "csrf: a cross-site form POST is refused on each session route | sign-out included"): run the tests and npm run docs:reliability again, or rename the test back',
      'docs/reliability.md:23: app/test/csrf.test.ts has no test titled "csrf: a cross-site form POST is refused on every session route | sign-out included" (the closest is "csrf: a cross-site form POST is refused on each session route | sign-out included"): cite the exact title, or rename the test back',
    ]);
  });
});

test('the check fails when a reliability test reads a RELIABILITY_* setting the chapter does not document, naming it and its file', (t) => {
  inCopy(
    (dir) => {
      const file = join(dir, '_repo', 'app', 'test', 'reliability', 'soak.test.ts');
      writeFileSync(
        file,
        `${readFileSync(file, 'utf8')}\nconst SECONDS = Number(process.env.RELIABILITY_SOAK_SECONDS ?? 5);\n`,
      );
    },
    (dir) => {
      const { root, chapter } = paths(dir);
      t.deepEqual(checkReliability(root, chapter).problems, [
        'docs/reliability.md: RELIABILITY_SOAK_SECONDS, read by app/test/reliability/soak.test.ts, is not in the settings table: add a row | `RELIABILITY_SOAK_SECONDS` | default | what it sizes |',
      ]);
    },
  );
});
