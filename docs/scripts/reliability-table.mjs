#!/usr/bin/env node
// `npm run docs:reliability`: writes the results table of docs/reliability.md from the last run. Each
// reliability test records one row when it ends (`recordResult`, packages/store/src/testing/results.ts)
// as a JSON file in test-results/reliability/: its area, what it tried, how many cases, its figures,
// its title, its result, the Node it ran on and when. This reads those rows, finds each test's file by
// its title (test-titles.mjs), and replaces what stands between the chapter's two markers with:
//
//   | area | what was tried | cases | result | figures |      one row per test, in the chapter's order of
//   |---|---|---|---|---|                                     areas (AREAS), then by title; "what was
//   | Load | … <br>`file.test.ts` › "title" | 12,000 | … |     tried" ends with the test's citation
//   Last run: when, on which Node, how many passed.
//
// A row whose test no longer exists in any test file (renamed or removed since it ran) is left out,
// with a warning. Without any row it says what to run and exits 1; so does a row it cannot read.
//   node docs/scripts/reliability-table.mjs [--root DIR] [--results DIR] [--chapter FILE]
//   (defaults: the repository; RELIABILITY_RESULTS_DIR, else DIR/test-results/reliability; DIR/docs/reliability.md)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { testFiles, titlesOf } from './test-titles.mjs';

/** The markers around the table in the chapter; what stands between them is rewritten. */
export const BEGIN = '<!-- reliability-table:begin -->';
export const END = '<!-- reliability-table:end -->';
/** The chapter's sections, in its order: the table's rows follow it. */
export const AREAS = ['Load', 'Crash safety', 'AS faults', 'Hostile input', 'CSRF and cookies', 'Token hygiene'];

/** The folders of reliability tests under `root` (`<workspace>/test/reliability`), as paths from it. */
export function reliabilityFolders(root) {
  const parents = ['.', 'packages'].flatMap((base) => {
    try {
      return readdirSync(join(root, base), { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
        .map((e) => (base === '.' ? e.name : `${base}/${e.name}`));
    } catch {
      return [];
    }
  });
  return parents
    .map((p) => `${p}/test/reliability/`)
    .filter((p) => existsSync(join(root, p)))
    .sort();
}

/** What to run for rows to exist. */
function whatToRun(root) {
  const folders = reliabilityFolders(root);
  const ava = folders.length ? `, or only them: npx ava ${folders.join(' ')}` : '';
  return `run the reliability tests first (npm test${ava}), then npm run docs:reliability`;
}

/** Reads every row under `dir`; a row that is not what `recordResult` writes is a problem naming its file. */
export function readRows(dir) {
  const rows = [];
  const problems = [];
  let names = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    // no folder: no rows
  }
  for (const name of names.sort()) {
    const file = join(dir, name);
    let row;
    try {
      row = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`${file}: not JSON (${err.message}): delete it, or run its test again`);
      continue;
    }
    const wrong = [
      ['area', 'string'],
      ['tried', 'string'],
      ['cases', 'number'],
      ['test', 'string'],
      ['result', 'string'],
      ['node', 'string'],
      ['at', 'string'],
    ].filter(([field, type]) => typeof row?.[field] !== type);
    if (row?.figures !== undefined && typeof row.figures !== 'string') wrong.push(['figures', 'string']);
    if (Number.isNaN(Date.parse(row?.at))) wrong.push(['at', 'ISO date']);
    if (wrong.length) {
      const fields = wrong.map(([field, type]) => `${field} (${type})`).join(', ');
      problems.push(`${file}: not a row of recordResult: ${fields} missing or of another type`);
      continue;
    }
    rows.push({ ...row, source: file });
  }
  return { rows, problems };
}

/**
 * Finds the test file of each row by its title: a file under a test/reliability/ folder first, then
 * any other. A row whose title no test file declares is left out, with a warning.
 */
export function citeTests(root, rows) {
  const files = testFiles(root).sort(
    (a, b) => Number(!a.includes('/reliability/')) - Number(!b.includes('/reliability/')),
  );
  const cited = [];
  const warnings = [];
  for (const row of rows) {
    const exact = files.find((f) => titlesOf(root, f).some((t) => t.source === row.test));
    const file = exact ?? files.find((f) => titlesOf(root, f).some((t) => t.matches.test(row.test)));
    if (file) cited.push({ ...row, file });
    else {
      warnings.push(
        `left out: no test file declares a test titled "${row.test}" (a row of an earlier run, its test renamed or removed since: delete ${relative(process.cwd(), row.source) || row.source}; a title computed at run time: write it as a literal or a template)`,
      );
    }
  }
  return { rows: cited, warnings };
}

// A cell's text: on one line, its | escaped (a column break otherwise), and its * too (two in a
// cell, as in `Sec-Fetch-*` and `/_mock/*`, would set the text between them in italics).
const cell = (text) =>
  String(text ?? '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[|*]/g, '\\$&')
    .trim();
const areaRank = (area) => {
  const at = AREAS.indexOf(area);
  return at < 0 ? AREAS.length : at;
};
const byAreaThenTest = (a, b) =>
  areaRank(a.area) - areaRank(b.area) || a.area.localeCompare(b.area, 'en') || a.test.localeCompare(b.test, 'en');
const minute = (iso) => iso.slice(11, 16);

/** When the rows ran, on which Node, and how many passed: the line under the table. */
function runLine(rows) {
  const times = rows.map((r) => new Date(r.at).toISOString()).sort();
  const first = times[0];
  const last = times[times.length - 1];
  const when =
    first.slice(0, 10) === last.slice(0, 10)
      ? `${first.slice(0, 10)}, ${minute(first)}${minute(last) === minute(first) ? '' : `–${minute(last)}`} UTC`
      : `${first.slice(0, 10)} ${minute(first)} to ${last.slice(0, 10)} ${minute(last)} UTC`;
  const nodes = new Map();
  for (const r of rows) nodes.set(r.node, (nodes.get(r.node) ?? 0) + 1);
  const node =
    nodes.size === 1
      ? `Node ${rows[0].node}`
      : `Node ${[...nodes].map(([version, n]) => `${version} (${n} ${n === 1 ? 'test' : 'tests'})`).join(', ')}`;
  const passed = rows.filter((r) => r.result === 'passed').length;
  const tests = `${rows.length} ${rows.length === 1 ? 'test' : 'tests'}`;
  const failed = rows.length - passed;
  return `Last run: ${when}, on ${node}; ${tests}, ${passed} passed${failed ? `, **${failed} failed**` : ''}.`;
}

/**
 * The tests of the test/reliability/ folders that record a row but have none: they did not run, or
 * ended before recording it (an assertion that fails throws, so a test that records last records no
 * failure). A test records a row when `recordResult(` stands in its body (from its declaration to the
 * next), or before the file's first test (a helper that every test of the file calls).
 */
export function unrecorded(root, rows) {
  const missing = [];
  for (const folder of reliabilityFolders(root)) {
    for (const name of readdirSync(join(root, folder)).sort()) {
      if (!name.endsWith('.test.ts') || name.startsWith('_')) continue;
      const file = `${folder}${name}`;
      const text = readFileSync(join(root, file), 'utf8');
      const tests = titlesOf(root, file);
      const records = (from, to) => text.slice(from, to).includes('recordResult(');
      const all = tests.length > 0 && records(0, tests[0].at);
      tests.forEach((t, i) => {
        if (!all && !records(t.at, tests[i + 1]?.at ?? text.length)) return;
        if (!rows.some((r) => r.file === file && t.matches.test(r.test))) missing.push({ file, title: t.source });
      });
    }
  }
  return missing;
}

/** The table and the lines under it, from rows that cite their test files, and the tests without one. */
export function renderTable(rows, missing = []) {
  const sorted = [...rows].sort(byAreaThenTest);
  const lines = [
    '| area | what was tried | cases | result | figures |',
    '|---|---|---|---|---|',
    ...sorted.map((r) => {
      const tried = `${cell(r.tried)}<br>\`${r.file}\` › "${cell(r.test)}"`;
      const result = r.result === 'passed' ? 'passed' : `**${cell(r.result)}**`;
      return `| ${cell(r.area)} | ${tried} | ${r.cases.toLocaleString('en-US')} | ${result} | ${cell(r.figures)} |`;
    }),
  ];
  const unseen = missing.length
    ? [
        '',
        `${missing.length === 1 ? 'One reliability test' : `${missing.length} reliability tests`} recorded no row in this run (${missing.length === 1 ? 'it' : 'each'} did not run, or ended before recording it):`,
        '',
        ...missing.map((m) => `- \`${m.file}\` › "${cell(m.title)}"`),
      ]
    : [];
  return [...lines, '', runLine(sorted), ...unseen].join('\n');
}

/** The chapter's text with `body` between the markers, or a problem when they are missing. */
export function replaceTable(text, body) {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) return { problem: `the markers ${BEGIN} and ${END} (in this order) are missing` };
  return { text: `${text.slice(0, begin + BEGIN.length)}\n${body}\n${text.slice(end)}` };
}

/**
 * Rewrites the table of `chapter` from the rows in `results`. Returns the problems (the chapter is then
 * left as it was), the warnings, and the rows written.
 */
export function writeReliabilityTable({ root, results, chapter }) {
  const shown = relative(process.cwd(), chapter) || chapter;
  const read = readRows(results);
  if (read.problems.length) return { problems: read.problems, warnings: [], rows: [] };
  const { rows, warnings } = citeTests(root, read.rows);
  if (rows.length === 0) {
    const none = read.rows.length ? 'no row whose test still exists' : 'no rows';
    return {
      problems: [`${none} in ${relative(process.cwd(), results) || results}: ${whatToRun(root)}`],
      warnings,
      rows,
    };
  }
  if (!existsSync(chapter)) return { problems: [`${shown} does not exist`], warnings, rows };
  const missing = unrecorded(root, rows);
  for (const m of missing)
    warnings.push(`no row from ${m.file} › "${m.title}": it did not run, or ended before recording it`);
  const replaced = replaceTable(readFileSync(chapter, 'utf8'), renderTable(rows, missing));
  if (replaced.problem) return { problems: [`${shown}: ${replaced.problem}`], warnings, rows };
  writeFileSync(chapter, replaced.text);
  return { problems: [], warnings, rows };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) {
  const { values } = parseArgs({
    options: { root: { type: 'string' }, results: { type: 'string' }, chapter: { type: 'string' } },
  });
  const root = resolve(values.root ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
  const results = resolve(
    values.results ?? process.env.RELIABILITY_RESULTS_DIR ?? join(root, 'test-results', 'reliability'),
  );
  const chapter = resolve(values.chapter ?? join(root, 'docs', 'reliability.md'));
  const { problems, warnings, rows } = writeReliabilityTable({ root, results, chapter });
  for (const w of warnings) console.error(`reliability table: ${w}`);
  for (const p of problems) console.error(`reliability table: ${p}`);
  if (problems.length) process.exit(1);
  const failed = rows.filter((r) => r.result !== 'passed').length;
  console.log(
    `reliability table: ${relative(process.cwd(), chapter) || chapter} now lists ${rows.length} ${rows.length === 1 ? 'test' : 'tests'}` +
      (failed ? `, ${failed} of them failed` : ', all passed'),
  );
}
