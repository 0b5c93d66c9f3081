#!/usr/bin/env node
// Checks that the code the docs name still exists: every backticked identifier or repository path in
// docs/**/*.md (docs/test/ holds fixtures, not docs).
//
//   node docs/scripts/check-identifiers.mjs [--root <dir>]
//
// What is checked, in inline code spans outside fenced blocks (a span is the text between backticks):
//   a path    a span of `/`-separated segments of letters, digits, `.`, `_`, `@`, `-` (an optional
//             trailing `/`), not starting with `/` or `@`, whose first segment is a top-level entry
//             of the repository, or whose last segment has a file extension (`.ts`, `.md`…). It must
//             exist from the repository root, from the doc's folder, or from a workspace's folder or
//             its `src/` (`src/faults.ts` in a chapter about the mock AS, `shared/csrf.ts` in a row
//             about @tmi-bff/koa). A path through a generated folder (`dist`, `.data`,
//             `node_modules`…, the git-ignored ones) is not checked.
//   a name    a span that is a dotted chain of identifiers, optionally called (`bff.getSessionInfo()`,
//             `createTmiBff(options)`): each link that is camelCase (`selectTarget`: lower-case first,
//             then at least one upper-case letter) or PascalCase with two humps or more
//             (`TmiBffError`) must occur as a word in a .ts or .mjs source file under NAME_ROOTS.
// Not checked, as plainly not code of ours: everything else, such as names in CAPS (`BFF_ORIGIN`,
// `ERROR_CODES`), snake_case and kebab-case wire names (`access_token`, `invalid_grant`,
// `TMI-BFF-CSRF`, `Retry-After`), one-word names (`Secure`, `origin`), URLs and URL paths
// (`/.well-known/bff-token`), media types (`application/json`), and spans with spaces.
// Not checked either: the cells of a profile table (a table whose first column is headed `function`,
// as in docs/benchmarks.md), which name the profiled process's frames, Node's and libraries' own
// included; and FOREIGN: other products' names, each allowed in the one doc that cites it.
// Prints each stale span as file:line and exits 1.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Where code lives: a name must occur as a word in a .ts or .mjs file under one of these. */
export const NAME_ROOTS = [
  'packages',
  'reference-backend',
  'mock-as',
  'sample-spa/src',
  'bench',
  'scripts',
  'docs/scripts',
];
/**
 * Names and paths of other products that a doc cites as such, by doc: not code of this repository.
 * Everywhere else the same span is checked.
 */
const FOREIGN = {
  'docs/own-authorization-server.md': [
    'clientAuthenticatorType', // Keycloak's client representation
    'revokeSignInSessions', // Microsoft Graph
    'docs/identity-platform/v2-oauth2-auth-code-flow.md', // MicrosoftDocs/entra-docs
  ],
  'docs/walkthrough/07-own-frontend.md': [
    'server.hmr.clientPort', // Vite's configuration
    'assets/index-4f9a2c1b.js', // an example of a built app's hashed file name
  ],
};
/** Generated, git-ignored folders: never walked, and a path through one is not checked. */
const GENERATED = new Set([
  'node_modules',
  'dist',
  'dist-test',
  'dist-types',
  '.data',
  'coverage',
  'test-results',
  '.git',
]);

const CAMEL = /^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$/;
const PASCAL = /^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$/;
const CHAIN = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;
const PATH = /^[\w.@-]+(?:\/[\w.@-]+)+\/?$/;
const EXTENSION = /\.[a-z][a-z0-9]{0,4}$/;

function* files(dir, keep) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (GENERATED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path, keep);
    else if (keep(entry.name)) yield path;
  }
}

/** The workspaces' folders (the root package.json's `workspaces`, globs expanded). */
function workspaces(root) {
  let patterns = [];
  try {
    patterns = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces ?? [];
  } catch {
    return [];
  }
  return patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    try {
      return readdirSync(join(root, parent), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => `${parent}/${e.name}`);
    } catch {
      return [];
    }
  });
}

/** Every word of the source files under NAME_ROOTS. */
function sourceWords(root) {
  const words = new Set();
  for (const base of NAME_ROOTS) {
    for (const file of files(join(root, base), (name) => /\.(ts|mjs)$/.test(name))) {
      for (const [word] of readFileSync(file, 'utf8').matchAll(/[A-Za-z_$][\w$]*/g)) words.add(word);
    }
  }
  return words;
}

/** The inline code spans of a Markdown text, with their line numbers; fenced blocks skipped. */
export function codeSpans(text) {
  const spans = [];
  let fence;
  let profile = false;
  text.split('\n').forEach((line, i) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (!fence || (marker[0] === fence[0] && marker.length >= fence.length))) {
      fence = fence ? undefined : marker;
      return;
    }
    if (fence) return;
    // A profile table, from its header to its last row: the frames of a profiled process.
    if (/^\|\s*function\s*\|/.test(line)) profile = true;
    else if (!line.startsWith('|')) profile = false;
    if (profile) return;
    for (const m of line.matchAll(/(`+)([^`]+?)\1(?!`)/g)) spans.push({ line: i + 1, text: m[2].trim() });
  });
  return spans;
}

/** Why a span is stale, or undefined; `counted` tallies what was checked. */
function stale(span, { root, docDir, words, topLevel, bases, foreign, counted }) {
  const text = span.text;
  if (foreign.includes(text)) return undefined;
  if (PATH.test(text) && !text.startsWith('@')) {
    const segments = text.replace(/\/$/, '').split('/');
    if (!topLevel.has(segments[0]) && !EXTENSION.test(segments.at(-1))) return undefined;
    if (segments.some((s) => GENERATED.has(s))) return undefined;
    counted.paths += 1;
    if ([root, docDir, ...bases].some((base) => existsSync(join(base, text)))) return undefined;
    return `\`${text}\` is no file or folder of the repository`;
  }
  const chain = text.replace(/\(.*\)$/, '');
  if (!CHAIN.test(chain)) return undefined;
  const names = chain.split('.').filter((link) => CAMEL.test(link) || PASCAL.test(link));
  counted.names += names.length;
  const missing = names.filter((name) => !words.has(name));
  if (missing.length === 0) return undefined;
  return `\`${text}\`: ${missing.map((m) => `\`${m}\``).join(', ')} occurs in no source file (${NAME_ROOTS.join(', ')})`;
}

/** Every stale span of docs/**\/*.md under `root`, one line each, and how many names and paths were checked. */
export function checkIdentifiers(root) {
  const counted = { names: 0, paths: 0, docs: 0 };
  const words = sourceWords(root);
  const topLevel = new Set(readdirSync(root).filter((name) => !GENERATED.has(name)));
  const bases = workspaces(root).flatMap((w) => [join(root, w), join(root, w, 'src')]);
  const problems = [];
  const docs = join(root, 'docs');
  for (const file of files(docs, (name) => name.endsWith('.md'))) {
    if (relative(docs, file).split(/[\\/]/)[0] === 'test') continue;
    counted.docs += 1;
    const foreign = FOREIGN[relative(root, file).split('\\').join('/')] ?? [];
    const context = { root, docDir: dirname(file), words, topLevel, bases, foreign, counted };
    for (const span of codeSpans(readFileSync(file, 'utf8'))) {
      const why = stale(span, context);
      if (why) problems.push(`${relative(root, file)}:${span.line}: ${why}: rename it to what the code says now`);
    }
  }
  return { problems, counted };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { values } = parseArgs({ options: { root: { type: 'string' } } });
  const root = values.root ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const { problems, counted } = checkIdentifiers(root);
  for (const p of problems) console.error(`check-identifiers: ${p}`);
  if (problems.length > 0) process.exit(1);
  console.log(
    `identifiers: ${counted.names} code names and ${counted.paths} paths in ${counted.docs} docs, each found in the code`,
  );
}
