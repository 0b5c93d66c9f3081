/**
 * docs/scripts/check-security.mjs: every finding of the security chapter cites a test that exists,
 * under its exact title. Each kind of drift is shown failing on a fixture (docs/test/fixtures/security/:
 * a chapter, and the test files it cites under `_repo/`; the underscore keeps ava from running them).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';

const root = join(import.meta.dirname, '..', '..');
const fixtures = join('docs', 'test', 'fixtures', 'security');

function check(chapter?: string, repo = join(fixtures, '_repo')) {
  const args = ['docs/scripts/check-security.mjs', '--root', repo, ...(chapter ? [join(fixtures, chapter)] : [])];
  const { status, stdout, stderr } = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return { status, stdout, problems: stderr.split('\n').filter((line) => line.startsWith('- ')) };
}

test('the security check passes when every cited title is in its file, template titles and quoted titles included', (t) => {
  const { status, stdout, problems } = check();
  t.deepEqual(problems, []);
  t.is(status, 0);
  t.is(stdout.trim(), 'security: 3 findings, 5 test titles cited, each found in its file');
});

test('a finding that cites a renamed test fails, naming the row, the title it cites and the new one', (t) => {
  // The chapter is the passing one; only the test file changed.
  const { status, problems } = check(join('_repo', 'docs', 'security.md'), join(fixtures, '_renamed'));
  t.is(status, 1);
  t.deepEqual(problems, [
    `- ${join(fixtures, '_repo', 'docs', 'security.md')}:8: finding 2 (Cross-site sign-out.): app/test/session.test.ts has no test titled "sign-out is refused from another origin"; the closest is "sign-out from another origin is refused": cite the exact title, or rename the test back`,
    `- ${join(fixtures, '_repo', 'docs', 'security.md')}:11: citation: app/test/session.test.ts has no test titled "sign-out is refused from another origin"; the closest is "sign-out from another origin is refused": cite the exact title, or rename the test back`,
  ]);
});

test('a finding that cites a test file which does not exist fails, naming the file', (t) => {
  const { status, problems } = check('missing-file.md');
  t.is(status, 1);
  t.deepEqual(problems, [
    `- ${join(fixtures, 'missing-file.md')}:7: finding 1 (A readable cookie.): app/test/cookie.test.ts does not exist (name a test file by its path from the repository root)`,
  ]);
});

test('a finding with no test, or a test file without a title, fails', (t) => {
  const { status, problems } = check('no-title.md');
  t.is(status, 1);
  t.deepEqual(problems, [
    `- ${join(fixtures, 'no-title.md')}:7: finding 1 (A readable cookie.) cites app/test/session.test.ts without a test title: add › "the exact title"`,
    `- ${join(fixtures, 'no-title.md')}:9: finding 3 (A stack trace on an error page.) cites no test: name one under "Proven by"`,
  ]);
});

test('a citation in the prose around the findings is checked the same way', (t) => {
  const { status, problems } = check('prose.md');
  t.is(status, 1);
  t.deepEqual(problems, [
    `- ${join(fixtures, 'prose.md')}:11: citation: app/test/session.test.ts has no test titled "sign-out is refused from any origin"; the closest is "sign-out is refused from another origin": cite the exact title, or rename the test back`,
  ]);
});
