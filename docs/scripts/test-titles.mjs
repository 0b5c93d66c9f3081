// The tests a test file declares, read from its source, for the checks that cite tests by title
// (check-security.mjs, check-reliability.mjs) and for the reliability table (reliability-table.mjs).
// A title is the string literal that opens test('…'), test.serial("…"), browserTest(`…`); a ${…} in a
// template title stands for any text, so `fuzz: 2,000 random requests…` matches `fuzz: ${RUNS} random…`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ESCAPES = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', 0: '\0' };

/** Reads the string literal that opens at `text[at]`: its parts, with `null` for each `${…}`. */
function readLiteral(text, at) {
  const quote = text[at];
  const parts = [''];
  for (let i = at + 1; i < text.length; i += 1) {
    const c = text[i];
    if (c === quote) return { parts, end: i + 1 };
    if (c === '\\') {
      const n = text[i + 1];
      if (n === 'u' && text[i + 2] === '{') {
        const close = text.indexOf('}', i);
        parts[parts.length - 1] += String.fromCodePoint(Number.parseInt(text.slice(i + 3, close), 16));
        i = close;
      } else if (n === 'u' || n === 'x') {
        const len = n === 'u' ? 4 : 2;
        parts[parts.length - 1] += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 2 + len), 16));
        i += 1 + len;
      } else if (n === '\n') {
        i += 1;
      } else {
        parts[parts.length - 1] += ESCAPES[n] ?? n;
        i += 1;
      }
    } else if (quote === '`' && c === '$' && text[i + 1] === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < text.length && depth > 0; j += 1) {
        if (text[j] === '{') depth += 1;
        else if (text[j] === '}') depth -= 1;
      }
      parts.push(null, '');
      i = j - 1;
    } else {
      parts[parts.length - 1] += c;
    }
  }
  return undefined;
}

const cache = new Map();

/**
 * The tests the file `file` (a path from `root`) declares: each as its source form (`${…}` for a
 * template's expressions), a matcher for a title as the test ran it, and where it is declared (`at`).
 */
export function titlesOf(root, file) {
  // Read each time, parsed once per content: a file changed meanwhile is read as it is now.
  const text = readFileSync(join(root, file), 'utf8');
  if (cache.has(text)) return cache.get(text);
  const titles = [];
  for (const m of text.matchAll(/\b(?:test|browserTest)(?:\.(?:serial|failing|only|skip))*\(\s*(?=['"`])/g)) {
    const literal = readLiteral(text, m.index + m[0].length);
    if (!literal) continue;
    const source = literal.parts.map((p) => p ?? '${…}').join('');
    const pattern = literal.parts.map((p) => (p === null ? '.+?' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    titles.push({ source, matches: new RegExp(`^${pattern.join('')}$`, 's'), at: m.index });
  }
  cache.set(text, titles);
  return titles;
}

/** Folders never walked for test files: generated ones, and ava's helpers and fixtures (`_name`). */
const SKIPPED = /^(?:node_modules|dist|dist-test|dist-types|coverage|test-results|\.[\w-]*|_.*)$/;

/** Every `*.test.ts` file under `root`'s test folders, as paths from `root`, `/`-separated and sorted. */
export function testFiles(root) {
  const found = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (SKIPPED.test(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.test.ts')) found.push(relative(root, path).split('\\').join('/'));
    }
  };
  walk(root);
  return found.sort();
}

/** The edit distance between two strings, to name the closest title when a cited one is gone. */
export function distance(a, b) {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const next = [i];
    for (let j = 1; j <= b.length; j += 1) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}
