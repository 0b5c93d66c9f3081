/**
 * Builds the SPA with esbuild into `dist/`: `index.html`, `assets/app.js` (with its source map) and
 * `assets/app.css`. The reference backend serves that folder. `--watch` rebuilds on every change
 * (`npm run dev` runs it so); the browser tests build into a folder of their own.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

export const SPA_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const DIST = join(SPA_ROOT, 'dist');

export interface BuildOptions {
  /** Default: sample-spa/dist. */
  outdir?: string;
  watch?: boolean;
  log?: (line: string) => void;
}

function options(outdir: string, log: (line: string) => void, built: () => void): esbuild.BuildOptions {
  return {
    entryPoints: [
      { in: join(SPA_ROOT, 'src', 'main.ts'), out: 'app' },
      { in: join(SPA_ROOT, 'src', 'app.css'), out: 'app' },
    ],
    outdir: join(outdir, 'assets'),
    bundle: true,
    format: 'esm',
    // The docs view's renderer (marked, mermaid) is a dynamic import: chunks of its own, fetched
    // only when a chapter opens.
    splitting: true,
    chunkNames: 'chunks-[name]-[hash]',
    target: 'es2022',
    sourcemap: true,
    // Workspace packages from source (their "development" export), as the tests and the dev servers do.
    conditions: ['development'],
    logLevel: 'warning',
    metafile: true,
    plugins: [
      {
        name: 'index-html',
        setup(build) {
          // index.html is no import of the bundle; name it so that watching rebuilds when it changes.
          build.onLoad({ filter: /[\\/]src[\\/]main\.ts$/ }, async (args) => ({
            contents: await readFile(args.path, 'utf8'),
            loader: 'ts',
            watchFiles: [join(SPA_ROOT, 'index.html')],
          }));
          build.onEnd(async (result) => {
            if (result.errors.length) return;
            await copyFile(join(SPA_ROOT, 'index.html'), join(outdir, 'index.html'));
            const files = Object.entries(result.metafile?.outputs ?? {}).filter(([file]) => !file.endsWith('.map'));
            const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
            const lazy = files.filter(([file]) => file.split('/').pop()?.startsWith('chunks-'));
            const bytes = files
              .filter((f) => !lazy.includes(f))
              .map(([file, o]) => `${file.split('/').pop()} ${kB(o.bytes)}`);
            if (lazy.length) bytes.push(`${lazy.length} chunks ${kB(lazy.reduce((n, [, o]) => n + o.bytes, 0))}`);
            log(`sample-spa built into ${outdir} (${bytes.join(', ')})`);
            built();
          });
        },
      },
    ],
  };
}

/** Builds once, or keeps rebuilding (`watch`). Resolves once the first build is written. */
export async function buildSpa({ outdir = DIST, watch = false, log = console.log }: BuildOptions = {}) {
  await mkdir(join(outdir, 'assets'), { recursive: true });
  if (!watch) {
    await esbuild.build(options(outdir, log, () => {}));
    return { outdir, dispose: async () => {} };
  }
  // watch() makes the first build itself; wait for it to be written.
  let resolve = () => {};
  const first = new Promise<void>((r) => {
    resolve = r;
  });
  const context = await esbuild.context(options(outdir, log, () => resolve()));
  await context.watch();
  await first;
  return { outdir, dispose: () => context.dispose() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const watch = process.argv.includes('--watch');
  buildSpa({ watch }).catch((err: Error) => {
    console.error(`sample-spa: the build failed: ${err.message}`);
    process.exit(1);
  });
}
