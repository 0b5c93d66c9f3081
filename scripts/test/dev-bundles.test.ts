// The servers' bundles of `npm run dev` (scripts/dev-bundles.mjs), on a small workspace of their own:
// a save rebuilds at once, npm packages stay imports, and a syntax error keeps the last bundle.
import { watch } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';

type Bundle = { file: string; dispose: () => Promise<void> };
const { watchServerBundle } = (await import(
  pathToFileURL(resolve(import.meta.dirname, '../dev-bundles.mjs')).href
)) as {
  watchServerBundle: (dir: string, log: (line: string) => void) => Promise<Bundle>;
};

async function workspace(t: { teardown: (fn: () => Promise<void>) => void }, value: string) {
  const dir = await mkdtemp(join(tmpdir(), 'dev-bundle-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'src'));
  await writeFile(
    join(dir, 'src', 'server.ts'),
    "import Koa from 'koa';\nimport { value } from './value.js';\nconsole.log(value, Koa);\n",
  );
  await writeFile(join(dir, 'src', 'value.ts'), `export const value: string = '${value}';\n`);
  return dir;
}

/** Resolves with the bundle's text once it is written again (its folder is watched: a write may replace the file). */
function nextWrite(file: string): Promise<string> {
  const before = readFile(file, 'utf8');
  return new Promise((done) => {
    const watcher = watch(dirname(file), (_event, name) => {
      if (name !== basename(file)) return;
      void Promise.all([before, readFile(file, 'utf8')]).then(
        ([old, text]) => {
          if (!text || text === old) return; // caught mid-write, or another event of the same write
          watcher.close();
          done(text);
        },
        () => {}, // gone for an instant while it is replaced
      );
    });
  });
}

test('a saved source is in the bundle at once; npm packages stay imports', async (t) => {
  const dir = await workspace(t, 'first');
  const bundle = await watchServerBundle(dir, (line) => t.log(line));
  t.teardown(bundle.dispose);
  t.is(bundle.file, join(dir, '.dev', 'server.mjs'));
  const first = await readFile(bundle.file, 'utf8');
  t.true(first.includes('"first"'));
  t.regex(first, /import Koa from "koa"/);
  t.regex(first, /\/\/# sourceMappingURL=server\.mjs\.map/);

  const written = nextWrite(bundle.file);
  const started = Date.now();
  await writeFile(join(dir, 'src', 'value.ts'), "export const value: string = 'second';\n");
  const second = await written;
  t.true(second.includes('"second"'));
  // esbuild's own watch mode polls and could take seconds; the folder watcher answers in well under one.
  t.true(Date.now() - started < 1500, `rebuilt after ${Date.now() - started} ms`);
});

test('a syntax error is reported with its place, and the last bundle stays until the fix', async (t) => {
  const dir = await workspace(t, 'good');
  const lines: string[] = [];
  let reported: () => void;
  const failure = new Promise<void>((done) => {
    reported = done;
  });
  const bundle = await watchServerBundle(dir, (line) => {
    lines.push(line);
    if (/value\.ts:1:\d+/.test(line)) reported();
  });
  t.teardown(bundle.dispose);

  await writeFile(join(dir, 'src', 'value.ts'), "export const value: string = 'broken\n");
  await failure;
  t.regex(lines[0] ?? '', /^cannot rebuild \.dev\/server\.mjs, the server keeps running its last build:$/);
  t.true(lines.some((line) => line.includes('[ERROR]')));
  t.true((await readFile(bundle.file, 'utf8')).includes('"good"'));

  const fixed = nextWrite(bundle.file);
  await writeFile(join(dir, 'src', 'value.ts'), "export const value: string = 'fixed';\n");
  t.true((await fixed).includes('"fixed"'));
});

test('a server that does not build at start is refused, naming the file and the line', async (t) => {
  const dir = await workspace(t, 'x');
  await writeFile(join(dir, 'src', 'value.ts'), 'export const = ;\n');
  const err = await t.throwsAsync(watchServerBundle(dir, () => {}));
  t.regex(err?.message ?? '', /src\/server\.ts does not build:/);
  t.regex(err?.message ?? '', /value\.ts:1:\d+/);
});
