// docs/scripts/check-config.mjs on a fixture (docs/test/fixtures/config): a typed options object, the
// environment, a command's flags and a file's schema, against a reference that documents them. Each
// kind of drift is made in a copy of the fixture and must fail the check, naming the option: the
// command itself once (its exit status and output), its function for the other kinds.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
// @ts-expect-error: a plain .mjs script, without types
import { checkConfig } from '../scripts/check-config.mjs';

const script = join(import.meta.dirname, '..', 'scripts', 'check-config.mjs');
const fixture = join(import.meta.dirname, 'fixtures', 'config');

interface Edit {
  file: string;
  from: string;
  to: string;
}

/** A copy of the fixture with `edit` applied to one of its files, given to `run`; the copy is removed. */
function inCopy<T>(edit: Edit | undefined, run: (root: string) => T): T {
  const root = mkdtempSync(join(tmpdir(), 'check-config-'));
  try {
    cpSync(fixture, root, { recursive: true });
    if (edit) {
      const file = join(root, edit.file);
      const text = readFileSync(file, 'utf8');
      if (!text.includes(edit.from)) throw new Error(`${edit.file} has no ${edit.from}`);
      writeFileSync(file, text.replace(edit.from, edit.to));
    }
    return run(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The check's function on a changed copy: whether it failed, and its problems, one line each. */
function check(edit?: Edit) {
  return inCopy(edit, (root) => {
    const sources = JSON.parse(readFileSync(join(root, 'sources.json'), 'utf8'));
    const { problems } = checkConfig({ root, reference: join(root, 'configuration.md'), sources }) as {
      problems: string[];
    };
    return { status: problems.length > 0 ? 1 : 0, stderr: problems.join('\n') };
  });
}

test('the command exits 1 and names the option a reference lacks', (t) => {
  const edit = { file: 'configuration.md', from: '| `WIDGET_ATTEMPTS` | number | `3` |\n', to: '' };
  const { status, stderr } = inCopy(edit, (root) => {
    const reference = join(root, 'configuration.md');
    const args = ['--root', root, '--reference', reference, '--sources', join(root, 'sources.json')];
    return spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  });
  t.is(status, 1);
  t.regex(stderr, /^check-config: configuration\.md: src\/config\.ts reads `WIDGET_ATTEMPTS`/m);
});

test('a reference that documents every option passes', (t) => {
  const { status, stderr } = check();
  t.is(stderr, '');
  t.is(status, 0);
});

test('an environment variable the code reads and the reference lacks fails, naming it', (t) => {
  const { status, stderr } = check({
    file: 'configuration.md',
    from: '| `WIDGET_ATTEMPTS` | number | `3` |\n',
    to: '',
  });
  t.is(status, 1);
  t.regex(
    stderr,
    /configuration\.md: src\/config\.ts reads `WIDGET_ATTEMPTS`, which "## The widget" does not document/,
  );
});

test('a field of the options object (one of an imported type) missing from the reference fails, naming it', (t) => {
  const { status, stderr } = check({
    file: 'configuration.md',
    from: '| `limits.maxLines` | number | none |\n',
    to: '',
  });
  t.is(status, 1);
  t.regex(stderr, /src\/config\.ts declares `limits\.maxLines`, which "## The widget" does not document/);
});

test('a flag and a schema key missing from the reference fail, naming them', (t) => {
  const flag = check({ file: 'configuration.md', from: '| `--out-dir` | where to write |\n', to: '' });
  t.is(flag.status, 1);
  t.regex(flag.stderr, /src\/cli\.ts declares `--out-dir`/);
  const key = check({ file: 'configuration.md', from: '| `parts[].tags` | string list |\n', to: '' });
  t.is(key.status, 1);
  t.regex(key.stderr, /src\/schema\.ts declares `parts\[\]\.tags`, which "## The widget file" does not document/);
});

test('an option renamed in the code fails twice: the new name is undocumented, the old row is stale at its line', (t) => {
  const { status, stderr } = check({ file: 'src/config.ts', from: 'delayMs?:', to: 'backoffMs?:' });
  t.is(status, 1);
  t.regex(stderr, /declares `retry\.backoffMs`, which "## The widget" does not document/);
  t.regex(
    stderr,
    /configuration\.md:14: `retry\.delayMs` is documented as a "`WidgetConfig` field" of The widget, but src\/config\.ts has no such option/,
  );
});

test('a table in another part does not document the option', (t) => {
  const { status, stderr } = check({ file: 'configuration.md', from: '## The widget file', to: '## Elsewhere' });
  t.is(status, 1);
  t.regex(stderr, /no table with a "key" column under "## The widget file"/);
});
