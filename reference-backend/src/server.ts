/**
 * `npm run dev` / `npm start`: the only file that reads the environment (settings: `configFromEnv`
 * in config.ts). `npm run dev` passes the mock AS's values in; against another AS, set them yourself
 * (docs/own-authorization-server.md).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend } from './app.js';
import { configFromEnv } from './config.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function fail(message: string): never {
  console.error(`reference-backend: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const { config, host, port } = configFromEnv(process.env, root);
  const started = performance.now();
  const backend = await createBackend({ ...config, log: (line) => console.log(line) });
  const server = createServer(backend.app.callback());
  server.on('upgrade', backend.upgrade);
  server.listen(port, host);
  await once(server, 'listening');
  const front = config.frontend
    ? 'proxy' in config.frontend
      ? `; the app proxied from ${config.frontend.proxy}`
      : `; the app served from ${config.frontend.static}`
    : '';
  const listening = new URL(config.origin).port === String(port) ? '' : ` (listening on ${host}:${port})`;
  const where = config.dataDir ? `data in ${config.dataDir} (npm run reset clears it)` : 'data in memory';
  console.log(
    `reference-backend ready at ${config.origin}${listening} in ${Math.round(performance.now() - started)} ms; ` +
      `AS ${config.issuer}; downscoping by ${config.tokens.strategy}; ${where}${front}`,
  );
  const stop = async (signal: string) => {
    console.log(`reference-backend: ${signal}, closing`);
    server.close();
    server.closeAllConnections();
    await backend.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: NodeJS.ErrnoException) => {
  if (err.code === 'EADDRINUSE')
    fail(`${err.message}: another process holds the port. Stop it, or set BFF_ORIGIN (or BFF_PORT).`);
  fail(err.message);
});
