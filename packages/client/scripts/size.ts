/** Prints the SDK's size, bundled and minified, and gzipped (goal: under 5 kB). */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export async function measureSize(): Promise<{ minified: number; gzipped: number }> {
  const result = await build({
    entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return { minified: code.length, gzipped: gzipSync(code).length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { minified, gzipped } = await measureSize();
  console.log(
    `@tmi-bff/client: ${(minified / 1024).toFixed(2)} kB minified, ${(gzipped / 1024).toFixed(2)} kB min+gzip (goal < 5 kB)`,
  );
}
