// The servers of `npm run dev` run from one JavaScript file each, which esbuild bundles from their
// TypeScript (and the workspace packages they import) and bundles again whenever a source changes.
// Node's own watcher restarts a server when its bundle changes. Loading the TypeScript module by
// module through tsx instead costs each server about a second of CPU at every start and restart.
//
// esbuild's own watch mode polls a random few files at a time, and can take many seconds to see a
// save in a graph this size; the folders of the bundle's sources are watched here instead, and a
// save rebuilds at once (incrementally: tens of milliseconds). A bundle that comes out the same is
// not written, so a server restarts only when its own code changed; one that fails to build leaves
// the last one in place.
//
// A bundle sits in the workspace's `.dev/` folder, so that paths computed from `import.meta.url`
// (the workspace's root, its seed) point where they do from `src/`. npm packages stay imports.
import { watch } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import * as esbuild from 'esbuild';

/** Where the bundle of the workspace at `dir` is written. */
export const bundleFile = (dir) => join(dir, '.dev', 'server.mjs');

/**
 * Bundles `<dir>/src/server.ts`, then rebuilds it whenever one of its sources changes. Resolves once
 * the first bundle is written; rejects with esbuild's messages (file, line, what is wrong) if it
 * cannot be built. Later failures are reported through `log`, and the server keeps its last bundle.
 * @param {string} dir the workspace
 * @param {(line: string) => void} log
 * @returns {Promise<{ file: string, dispose: () => Promise<void> }>}
 */
export async function watchServerBundle(dir, log) {
  const file = bundleFile(dir);
  const ctx = await esbuild.context({
    entryPoints: [join(dir, 'src', 'server.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Stack traces name the TypeScript sources (the servers run with --enable-source-maps).
    sourcemap: 'linked',
    // Workspace packages from source (their "development" export), as the tests do.
    conditions: ['development'],
    logLevel: 'silent',
    metafile: true,
    // Written below, and only when it changed: esbuild would delete the last bundle on a failed build.
    write: false,
    plugins: [
      {
        name: 'npm-packages-external',
        setup(build) {
          // Bare imports stay imports (Node resolves them from the bundle's folder, as from src/),
          // except the workspace packages, which are sources to bundle.
          build.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@tmi-bff/') ? undefined : { external: true },
          );
        },
      },
    ],
  });
  const messages = async (err) =>
    (
      await esbuild.formatMessages(err.errors ?? [{ text: String(err.message ?? err) }], {
        kind: 'error',
        color: false,
      })
    )
      .join('')
      .trimEnd();
  /** Output path → the bytes last written there. */
  const written = new Map();
  /** Writes what changed (the source map first, so the bundle's change that restarts the server comes last). */
  const write = async (result) => {
    const files = [...result.outputFiles].sort((a, b) =>
      a.path.endsWith('.map') ? -1 : b.path.endsWith('.map') ? 1 : 0,
    );
    for (const out of files) {
      // At the first build, what an earlier run left there counts: the same bytes restart nothing
      // (not even a server that another run still has watching them).
      if (!written.has(out.path)) {
        const old = await readFile(out.path).catch(() => undefined);
        if (old && Buffer.compare(old, out.contents) === 0) written.set(out.path, out.hash);
      }
      if (written.get(out.path) === out.hash) continue;
      await mkdir(dirname(out.path), { recursive: true });
      await writeFile(out.path, out.contents);
      written.set(out.path, out.hash);
    }
    return result;
  };
  /** Source folder → its watcher. */
  const watchers = new Map();
  let timer;
  let building = Promise.resolve();
  const rebuild = () => {
    clearTimeout(timer);
    // A save often comes as several events: build once they settle.
    timer = setTimeout(() => {
      building = building.then(async () => {
        try {
          follow(await write(await ctx.rebuild()));
        } catch (err) {
          log(`cannot rebuild ${relative(dir, file)}, the server keeps running its last build:`);
          for (const line of (await messages(err)).split('\n')) log(line);
        }
      });
    }, 30);
  };
  /** Watches the folders of every source the last build read (new files included, as they appear there). */
  const follow = (result) => {
    const folders = new Set(
      Object.keys(result.metafile.inputs)
        .filter((input) => !input.includes('node_modules'))
        .map((input) => dirname(resolve(input))),
    );
    for (const folder of folders) {
      if (watchers.has(folder)) continue;
      watchers.set(
        folder,
        watch(folder, (_event, name) => {
          if (name && /\.(ts|json)$/.test(name)) rebuild();
        }),
      );
    }
  };
  try {
    follow(await write(await ctx.rebuild()));
  } catch (err) {
    await ctx.dispose();
    throw new Error(
      `${relative(process.cwd(), join(dir, 'src', 'server.ts'))} does not build:\n${await messages(err)}`,
    );
  }
  return {
    file,
    dispose: async () => {
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      await building;
      await ctx.dispose();
    },
  };
}
