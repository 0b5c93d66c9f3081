#!/usr/bin/env node
// Every ```mermaid block in the docs parses, with Mermaid's own parser (the one GitHub and the sample
// SPA render with), so a diagram cannot break unnoticed.
//   node docs/scripts/check-mermaid.mjs          docs/**/*.md (but docs/test, the fixtures), and the README.md of
//                                                the repository and of each workspace
//   node docs/scripts/check-mermaid.mjs <dir>    every .md under <dir>
// A block that does not parse is reported as `file:line: <Mermaid's message>` and the exit code is 1.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const markdown = (dir, skip = new Set()) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'node_modules' || skip.has(join(dir, e.name))
        ? []
        : markdown(join(dir, e.name), skip)
      : e.name.endsWith('.md')
        ? [join(dir, e.name)]
        : [],
  );

/** The README.md of the repository and of each npm workspace (`packages/*` and the like). */
function readmes() {
  const { workspaces = [] } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const dirs = workspaces.flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(join(repo, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => join(repo, pattern.slice(0, -2), e.name))
      : [join(repo, pattern)],
  );
  return [repo, ...dirs].map((dir) => join(dir, 'README.md')).filter((file) => existsSync(file));
}

/**
 * The ```mermaid blocks of a Markdown text, with the line (1-based) of each block's first line. Fences
 * are tracked as CommonMark does: a ```mermaid shown inside a longer or another fence is not a diagram.
 */
function mermaidBlocks(text) {
  const lines = text.split(/\r?\n/);
  const blocks = [];
  let open;
  for (const [i, line] of lines.entries()) {
    if (open) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
      if (close && close[1][0] === open.fence[0] && close[1].length >= open.fence.length) {
        if (open.mermaid) blocks.push({ line: open.start + 1, text: open.body.join('\n') });
        open = undefined;
      } else {
        open.body.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
      }
      continue;
    }
    const start = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
    if (start) {
      open = { fence: start[2], indent: start[1].length, mermaid: start[3] === 'mermaid', start: i + 1, body: [] };
    }
  }
  // CommonMark: a fence left open runs to the end of the document.
  if (open?.mermaid) blocks.push({ line: open.start + 1, text: open.body.join('\n') });
  return blocks;
}

const dir = process.argv[2];
if (dir && !existsSync(dir)) {
  console.error(`mermaid check: there is no directory ${dir}: name a folder of Markdown files, or none for docs/`);
  process.exit(2);
}
const files = dir
  ? markdown(resolve(dir))
  : // docs/test holds the checks' fixtures, broken on purpose.
    [...markdown(join(repo, 'docs'), new Set([join(repo, 'docs', 'test')])), ...readmes()];

const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, logLevel: 'fatal' });

/** A file as the report names it: from the repository's root, or as given when outside it. */
const shown = (file) => (relative(repo, file).startsWith('..') ? file : relative(repo, file));

const problems = [];
let count = 0;
for (const file of files.sort()) {
  for (const block of mermaidBlocks(readFileSync(file, 'utf8'))) {
    count += 1;
    try {
      await mermaid.parse(block.text);
    } catch (err) {
      // Mermaid's parsers say where, counting from the block's first line; other errors (no diagram
      // type detected) are about the block as a whole.
      const at = err?.hash?.loc?.first_line ?? err?.hash?.line + 1;
      const line = block.line + (Number.isInteger(at) ? at - 1 : 0);
      const [first, ...rest] = String(err?.message ?? err)
        .split('\n')
        .filter((l) => l.trim());
      problems.push([`${shown(file)}:${line}: ${first}`, ...rest.map((l) => `    ${l}`)].join('\n'));
    }
  }
}
if (problems.length > 0) {
  console.error(`mermaid check failed: ${problems.length} of ${count} diagrams do not parse:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`mermaid: ${count} diagrams parse`);
