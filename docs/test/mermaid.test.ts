/** docs/scripts/check-mermaid.mjs: every ```mermaid block parses, and one that does not is named by file and line. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';

const root = join(import.meta.dirname, '..', '..');
const script = join(root, 'docs', 'scripts', 'check-mermaid.mjs');

/** Runs the check as `npm run docs:check` does, from the repository's root. */
function check(...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: root });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('a diagram that does not parse fails the check, named by file and line, with Mermaid’s message', async (t) => {
  const { code, out } = await check('docs/test/fixtures/mermaid');
  t.is(code, 1, out);
  // The broken arrow is on line 10 of broken.md (the diagram's fifth line).
  t.regex(out, /^docs\/test\/fixtures\/mermaid\/broken\.md:10: Parse error on line 5:$/m);
  t.regex(out, /Expecting .*got 'INVALID'/);
  // valid.md parses; its ```mermaid shown inside a ````md fence is text, not a second diagram.
  t.notRegex(out, /valid\.md/);
  t.regex(out, /1 of 2 diagrams do not parse/);
});

test('a folder that does not exist is said so, not reported as no diagrams', async (t) => {
  const { code, out } = await check('docs/test/fixtures/no-such-folder');
  t.is(code, 2);
  t.regex(out, /there is no directory docs\/test\/fixtures\/no-such-folder/);
});

test('every Mermaid diagram of the docs and the READMEs parses', async (t) => {
  const { code, out } = await check();
  t.is(code, 0, out);
  const count = Number(/^mermaid: (\d+) diagrams parse$/m.exec(out)?.[1]);
  // The walkthrough draws sign-in, sessioninfo, bff-token (three), sign-out, back-channel logout and the chain.
  t.true(count >= 8, out);
});
