/**
 * Builds the SPA with esbuild into `dist/`: `index.html`, `assets/app.js` (with its source map) and
 * `assets/app.css`. The reference backend serves that folder. `--watch` rebuilds on every change
 * (`npm run dev` runs it so); the browser tests build into a folder of their own.
 *
 * The docs view's renderer (`assets/docs-render.js`: marked, and mermaid in chunks of its own) is a
 * build apart, which the app imports when a chapter first opens. It is most of the build's time
 * and rarely changes, so it is built again only when its inputs changed (a stamp sits beside it).
 */
import { createHash } from 'node:crypto';
import { watch as watchFile } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
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
    // The docs view's renderer is built apart (buildDocsRenderer); the app imports it from assets/.
    external: ['./docs-render.js'],
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
            const bytes = Object.entries(result.metafile?.outputs ?? {})
              .filter(([file]) => !file.endsWith('.map'))
              .map(([file, o]) => `${file.split('/').pop()} ${(o.bytes / 1024).toFixed(1)} kB`);
            log(`sample-spa built into ${outdir} (${bytes.join(', ')})`);
            built();
          });
        },
      },
    ],
  };
}

const DOCS_RENDERER = join(SPA_ROOT, 'src', 'docs-render.ts');

/** What the docs renderer's build depends on: its source and the versions of what it bundles. */
/** How the renderer is built (its output folder aside): part of its stamp, so a change here rebuilds it. */
const RENDERER_BUILD = {
  entryPoints: [{ in: DOCS_RENDERER, out: 'docs-render' }],
  bundle: true,
  format: 'esm',
  // mermaid loads each kind of diagram on demand: chunks of their own.
  splitting: true,
  chunkNames: 'chunks-[name]-[hash]',
  target: 'es2022',
  // Third-party code, read through its source maps: minified, it is half the bytes (3.4 MB of
  // chunks instead of 6.8 MB; a chapter loads only the ones its diagrams need), for no build time.
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  metafile: true,
} satisfies esbuild.BuildOptions;

async function docsRendererStamp(): Promise<string> {
  const require = createRequire(import.meta.url);
  const hash = createHash('sha256')
    .update(await readFile(DOCS_RENDERER))
    .update(JSON.stringify(RENDERER_BUILD));
  for (const pkg of ['marked', 'mermaid', 'esbuild'])
    hash.update(await readFile(require.resolve(`${pkg}/package.json`)));
  return hash.digest('hex');
}

/** `assets/docs-render.js` and its chunks, unless the stamp beside them says they are current. */
async function buildDocsRenderer(outdir: string, log: (line: string) => void): Promise<void> {
  const stampFile = join(outdir, 'assets', 'docs-render.stamp');
  const stamp = await docsRendererStamp();
  if ((await readFile(stampFile, 'utf8').catch(() => '')) === stamp) return;
  const result = await esbuild.build({ ...RENDERER_BUILD, outdir: join(outdir, 'assets') });
  await writeFile(stampFile, stamp);
  const files = Object.entries(result.metafile.outputs).filter(([file]) => !file.endsWith('.map'));
  const kB = files.reduce((n, [, o]) => n + o.bytes, 0) / 1024;
  log(`sample-spa docs renderer built into ${outdir} (${files.length} files, ${kB.toFixed(1)} kB)`);
}

/** Builds once, or keeps rebuilding (`watch`). Resolves once the first build is written. */
export async function buildSpa({ outdir = DIST, watch = false, log = console.log }: BuildOptions = {}) {
  await mkdir(join(outdir, 'assets'), { recursive: true });
  if (!watch) {
    await Promise.all([esbuild.build(options(outdir, log, () => {})), buildDocsRenderer(outdir, log)]);
    return { outdir, dispose: async () => {} };
  }
  // The renderer: built when stale, and again when its source changes.
  const docs = buildDocsRenderer(outdir, log);
  const watcher = watchFile(DOCS_RENDERER, () => {
    buildDocsRenderer(outdir, log).catch((err: Error) =>
      log(`sample-spa: the docs renderer failed to build: ${err.message}`),
    );
  });
  // watch() makes the first build itself; wait for it to be written.
  let resolve = () => {};
  const first = new Promise<void>((r) => {
    resolve = r;
  });
  const context = await esbuild.context(options(outdir, log, () => resolve()));
  await context.watch();
  await Promise.all([first, docs]);
  return {
    outdir,
    dispose: async () => {
      watcher.close();
      await context.dispose();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const watch = process.argv.includes('--watch');
  buildSpa({ watch }).catch((err: Error) => {
    console.error(`sample-spa: the build failed: ${err.message}`);
    process.exit(1);
  });
}
