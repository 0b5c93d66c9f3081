// docs/scripts/check-identifiers.mjs on a fixture (docs/test/fixtures/identifiers): a doc that names
// code (`selectTarget`, `defaultSessionInfo`, paths) and the sources it names. A rename in the code,
// made in a copy of the fixture, must fail the check, naming the doc's file and line: the command
// itself once (its exit status and output), its function for the other cases.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
// @ts-expect-error: a plain .mjs script, without types
import { checkIdentifiers } from '../scripts/check-identifiers.mjs';

const script = join(import.meta.dirname, '..', 'scripts', 'check-identifiers.mjs');
const fixture = join(import.meta.dirname, 'fixtures', 'identifiers');

/** A copy of the fixture, changed by `change`, given to `run`; the copy is removed. */
function inCopy<T>(change: ((root: string) => void) | undefined, run: (root: string) => T): T {
  const root = mkdtempSync(join(tmpdir(), 'check-identifiers-'));
  try {
    cpSync(fixture, root, { recursive: true });
    change?.(root);
    return run(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The check's function on a changed copy: whether it failed, and its problems, one line each. */
function check(change?: (root: string) => void) {
  return inCopy(change, (root) => {
    const { problems, counted } = checkIdentifiers(root) as {
      problems: string[];
      counted: { names: number; paths: number; docs: number };
    };
    return { status: problems.length > 0 ? 1 : 0, stderr: problems.join('\n'), counted };
  });
}

/** Replaces `from` with `to` in one file of the copy. */
const replace = (file: string, from: string, to: string) => (root: string) => {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no ${from}`);
  writeFileSync(path, text.replaceAll(from, to));
};

test('a doc whose code names and paths all exist passes; wire names, CAPS, fences and profile tables are not checked', (t) => {
  const { status, stderr, counted } = check();
  t.is(stderr, '');
  t.is(status, 0);
  t.deepEqual(counted, { names: 3, paths: 2, docs: 1 });
});

test('the command exits 1 and names file:line when selectTarget is renamed in the code', (t) => {
  const rename = replace('mock-as/src/grants/token-exchange.ts', 'selectTarget', 'pickTarget');
  const { status, stderr } = inCopy(rename, (root) =>
    spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' }),
  );
  t.is(status, 1);
  t.regex(
    stderr,
    /^check-identifiers: docs\/deviations\.md:6: `selectTarget`: `selectTarget` occurs in no source file/m,
  );
});

test('renaming selectTarget in the code leaves the doc stale, and the check names file:line', (t) => {
  const { status, stderr } = check(replace('mock-as/src/grants/token-exchange.ts', 'selectTarget', 'pickTarget'));
  t.is(status, 1);
  t.regex(stderr, /docs\/deviations\.md:6: `selectTarget`: `selectTarget` occurs in no source file/);
  t.notRegex(stderr, /defaultSessionInfo/);
});

test('renaming defaultSessionInfo in the code leaves the doc stale, and the check names file:line', (t) => {
  const { status, stderr } = check(replace('packages/koa/src/options.ts', 'defaultSessionInfo', 'sessionInfoBody'));
  t.is(status, 1);
  t.regex(stderr, /docs\/deviations\.md:5: `defaultSessionInfo`: `defaultSessionInfo` occurs in no source file/);
});

test('moving a file the doc names by path fails the check, naming the path and the line', (t) => {
  const { status, stderr } = check((root) =>
    renameSync(join(root, 'mock-as/src/grants/token-exchange.ts'), join(root, 'mock-as/src/grants/exchange.ts')),
  );
  t.is(status, 1);
  t.regex(stderr, /docs\/deviations\.md:6: `grants\/token-exchange\.ts` is no file or folder of the repository/);
});

test('a name checked nowhere else (in a fenced block, a profile table) fails once it is in prose', (t) => {
  const prose = check(replace('docs/deviations.md', 'the setting `BFF_ORIGIN`', 'the hook `renamedLongAgo`'));
  t.is(prose.status, 1);
  t.regex(prose.stderr, /docs\/deviations\.md:10: `renamedLongAgo`: `renamedLongAgo` occurs in no source file/);
  t.notRegex(prose.stderr, /runMicrotasks/);
});
