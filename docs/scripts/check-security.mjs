#!/usr/bin/env node
// Every finding of the security chapter cites a test that exists. In docs/security.md a citation is
//   `reference-backend/test/open-redirect.test.ts` › "the test's exact title"
// and further titles of the same file follow as › "…". The check:
// - each row of a table with a "Proven by" column cites at least one test, with its title;
// - every cited file exists (a path from the repository root) and holds a test with that exact title,
//   read from its source (test-titles.mjs): test('…'), test.serial("…"), browserTest(`…`); a ${…} in a
//   template title stands for any text, so `fuzz: 2,000 random requests…` matches `fuzz: ${RUNS} random…`.
// Citations outside the tables (prose, lists) are checked the same way.
//   node docs/scripts/check-security.mjs [--root DIR] [CHAPTER]   (default: DIR/docs/security.md)
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distance, titlesOf as titlesOfFile } from './test-titles.mjs';

const args = process.argv.slice(2);
const rootAt = args.indexOf('--root');
const root = rootAt >= 0 ? resolve(args[rootAt + 1]) : join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const positional = args.filter((_, i) => rootAt < 0 || (i !== rootAt && i !== rootAt + 1));
const chapter = positional[0] ? resolve(positional[0]) : join(root, 'docs', 'security.md');
const shown = relative(process.cwd(), chapter) || chapter;

const titlesOf = (file) => titlesOfFile(root, file);

// ---- Citations, read from the chapter -------------------------------------------------------------

// A title ends at the quote that is followed by the end, the next citation or the rest of the sentence,
// so a title may hold quotes of its own: › "logs "does not advertise", not "unreachable"".
const CITATION = /`([^`\s]+\.test\.ts)`|›\s*"(.*?)"(?=[.,;:]?(?:\s*(?:›|`|\||<br>|$)|\s+\())/g;
const problems = [];
let findings = 0;
let cited = 0;

/** Checks the citations in one piece of text: how many titles it cites, and the files it names with none. */
function checkCitations(text, line, where) {
  let file;
  let exists = false;
  let titles = 0;
  const bare = new Set();
  for (const m of text.matchAll(CITATION)) {
    if (m[1] !== undefined) {
      file = m[1];
      exists = existsSync(join(root, file));
      bare.add(file);
      if (!exists) {
        problems.push(
          `${shown}:${line}: ${where}: ${file} does not exist (name a test file by its path from the repository root)`,
        );
      }
      continue;
    }
    const title = m[2].replace(/\\\|/g, '|');
    titles += 1;
    cited += 1;
    if (file === undefined) {
      problems.push(`${shown}:${line}: ${where}: the title "${title}" follows no test file: put the file's path first`);
      continue;
    }
    bare.delete(file);
    if (!exists) continue;
    const tests = titlesOf(file);
    if (tests.some((t) => t.matches.test(title))) continue;
    const closest = tests.map((t) => ({ t, d: distance(title, t.source) })).sort((a, b) => a.d - b.d)[0];
    problems.push(
      `${shown}:${line}: ${where}: ${file} has no test titled "${title}"` +
        (closest ? `; the closest is "${closest.t.source}": cite the exact title, or rename the test back` : ''),
    );
  }
  return { titles, bare };
}

if (!existsSync(chapter)) {
  console.error(`security check failed:\n- ${shown} does not exist`);
  process.exit(1);
}
const lines = readFileSync(chapter, 'utf8').split('\n');
const cellsOf = (row) =>
  row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
/** A row's name: the bold words that open its cell, or else its first words. */
const plain = (cell) =>
  (/^\*\*(.+?)\*\*/.exec(cell)?.[1] ?? cell)
    .replace(/\*\*|`/g, '')
    .replace(/\s+/g, ' ')
    .slice(0, 60);

let fenced = false;
let block = [];
const flush = () => {
  if (block.length) checkCitations(block.map((b) => b.text.trim()).join(' '), block[0].line, 'citation');
  block = [];
};
for (let i = 0; i < lines.length; i += 1) {
  const text = lines[i];
  if (/^\s*(```|~~~)/.test(text)) {
    flush();
    fenced = !fenced;
    continue;
  }
  if (fenced) continue;
  if (text.trim().startsWith('|') && /^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1] ?? '')) {
    flush();
    const header = cellsOf(text).map((c) => c.toLowerCase());
    const proven = header.indexOf('proven by');
    const named = Math.max(
      header.findIndex((c) => c !== '#' && c !== ''),
      0,
    );
    i += 2;
    for (; i < lines.length && lines[i].trim().startsWith('|'); i += 1) {
      const cells = cellsOf(lines[i]);
      const label =
        proven >= 0 ? `finding ${header[0] === '#' ? `${cells[0]} ` : ''}(${plain(cells[named] ?? '')})` : 'table row';
      if (proven >= 0) findings += 1;
      const { titles, bare } = checkCitations(lines[i], i + 1, label);
      if (proven < 0) continue;
      const cell = cells[proven] ?? '';
      if (!/\.test\.ts`/.test(cell))
        problems.push(`${shown}:${i + 1}: ${label} cites no test: name one under "Proven by"`);
      else if (titles === 0 || bare.size > 0) {
        for (const file of bare.size ? bare : ['its file']) {
          problems.push(`${shown}:${i + 1}: ${label} cites ${file} without a test title: add › "the exact title"`);
        }
      }
    }
    i -= 1;
    continue;
  }
  if (text.trim() === '' || /^\s*(#|- |\* |\d+\. )/.test(text)) flush();
  if (text.trim() !== '') block.push({ text, line: i + 1 });
}
flush();

if (findings === 0)
  problems.push(`${shown}: no table with a "Proven by" column: the findings and their tests are missing`);
if (problems.length) {
  console.error(`security check failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`security: ${findings} findings, ${cited} test titles cited, each found in its file`);
