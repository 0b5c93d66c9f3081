#!/usr/bin/env node
// The tests docs/reliability.md names exist. The results table is written by `npm run docs:reliability`
// (reliability-table.mjs) from the last run; each row's "what was tried" ends with its test, and the
// findings elsewhere in the chapter cite theirs the same way, as docs/security.md does:
//   `reference-backend/test/reliability/soak.test.ts` › "the test's exact title"; › "another title"
// The check, which needs no run (a fresh clone has no test-results/):
// - the chapter has the table's two markers;
// - every test file the chapter cites exists, and declares a test with each title cited after it
//   (test-titles.mjs; a ${…} in a template title stands for any text, as the table records the
//   title that ran), in the table, in other tables and in prose (fenced blocks aside);
// - every RELIABILITY_* setting that a file of a test/reliability/ folder reads is a row of the
//   chapter's settings table (a row that opens with it in backticks).
//   node docs/scripts/check-reliability.mjs [--root DIR] [--chapter FILE]   (default: DIR/docs/reliability.md)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BEGIN, END, reliabilityFolders } from './reliability-table.mjs';
import { distance, titlesOf } from './test-titles.mjs';

// A test file, or a title after it. A title ends at the quote followed by the end, the next citation
// or the rest of the sentence, so it may hold quotes of its own; in a table its | and * are escaped.
const CITATION = /`([^`\s]+\.test\.ts)`|›\s*"(.*?)"(?=[.,;:]?(?:\s*(?:›|`|\||<br>|$)|\s+\())/g;

/** The RELIABILITY_* settings the files of the test/reliability/ folders read: name → first file. */
export function settingsRead(root) {
  const read = new Map();
  for (const folder of reliabilityFolders(root)) {
    for (const name of readdirSync(join(root, folder)).sort()) {
      if (!/\.(ts|mjs)$/.test(name)) continue;
      const text = readFileSync(join(root, folder, name), 'utf8');
      for (const [setting] of text.matchAll(/\bRELIABILITY_[A-Z0-9_]+/g)) {
        if (!read.has(setting)) read.set(setting, `${folder}${name}`);
      }
    }
  }
  return read;
}

/** The problems of the chapter's table and settings (one line each), and how many tests it names. */
export function checkReliability(root, chapter = join(root, 'docs', 'reliability.md')) {
  const shown = relative(root, chapter) || chapter;
  if (!existsSync(chapter)) return { problems: [`${shown} does not exist`], cited: 0 };
  const lines = readFileSync(chapter, 'utf8').split('\n');
  const begin = lines.findIndex((l) => l.trim() === BEGIN);
  const end = lines.findIndex((l) => l.trim() === END);
  if (begin < 0 || end < begin) {
    return { problems: [`${shown}: the markers ${BEGIN} and ${END} (in this order) are missing`], cited: 0 };
  }
  const problems = [];
  let cited = 0;
  // In the results table the fix is a new run; elsewhere, an edit of the citation.
  const fix = (line) =>
    line > begin && line <= end ? ': run the tests and npm run docs:reliability again' : ': cite the exact title';
  /** Checks the citations of one table row or paragraph, which starts at line `line`. */
  const check = (text, line) => {
    let file;
    let exists = false;
    for (const m of text.matchAll(CITATION)) {
      if (m[1] !== undefined) {
        file = m[1];
        exists = existsSync(join(root, file));
        if (!exists) problems.push(`${shown}:${line}: ${file} does not exist${fix(line)}`);
        continue;
      }
      const title = m[2].replace(/\\([|*])/g, '$1');
      cited += 1;
      if (file === undefined) {
        problems.push(`${shown}:${line}: the title "${title}" follows no test file: put the file's path first`);
        continue;
      }
      if (!exists) continue;
      const tests = titlesOf(root, file);
      if (tests.some((t) => t.matches.test(title))) continue;
      const closest = tests.map((t) => ({ t, d: distance(title, t.source) })).sort((a, b) => a.d - b.d)[0];
      problems.push(
        `${shown}:${line}: ${file} has no test titled "${title}"` +
          (closest ? ` (the closest is "${closest.t.source}")` : '') +
          `${fix(line)}, or rename the test back`,
      );
    }
  };
  let fenced = false;
  let block = [];
  const flush = () => {
    if (block.length) check(block.map((b) => b.text.trim()).join(' '), block[0].line);
    block = [];
  };
  lines.forEach((text, i) => {
    if (/^\s*(```|~~~)/.test(text)) {
      flush();
      fenced = !fenced;
    } else if (fenced) {
      // code, not citations
    } else if (text.trim().startsWith('|')) {
      flush();
      check(text, i + 1);
    } else {
      if (text.trim() === '' || /^\s*(#|- |\* |\d+\. |<!--)/.test(text)) flush();
      if (text.trim() !== '') block.push({ text, line: i + 1 });
    }
  });
  flush();
  // The settings: each one read is documented. (A row may come before its test: the chapter can be
  // written ahead of the tests it describes.)
  const read = settingsRead(root);
  const documented = new Set(lines.map((line) => /^\|\s*`(RELIABILITY_[A-Z0-9_]+)`\s*\|/.exec(line)?.[1]));
  for (const [setting, file] of read) {
    if (!documented.has(setting)) {
      problems.push(
        `${shown}: ${setting}, read by ${file}, is not in the settings table: add a row | \`${setting}\` | default | what it sizes |`,
      );
    }
  }
  return { problems, cited, settings: read.size };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) {
  const { values } = parseArgs({ options: { root: { type: 'string' }, chapter: { type: 'string' } } });
  const root = resolve(values.root ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
  const { problems, cited, settings } = checkReliability(root, values.chapter && resolve(values.chapter));
  if (problems.length) {
    console.error(`reliability check failed:\n- ${problems.join('\n- ')}`);
    process.exit(1);
  }
  console.log(
    `reliability: ${cited} test titles cited, each found in its file; ${settings} RELIABILITY_* settings, each documented`,
  );
}
