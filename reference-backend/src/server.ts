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
import { answerClientError } from './client-error.js';
import { type BackendConfig, configFromEnv } from './config.js';
import { effectiveConfiguration } from './effective-config.js';
import { checkAuthorizationServer, type Finding, type StartupReport } from './startup-check.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function fail(message: string): never {
  console.error(`reference-backend: ${message}`);
  process.exit(1);
}

/** How often an AS that could not be reached at start is asked again. */
const RECHECK_MS = 2000;

const line = (f: Finding) => `${f.setting}: ${f.message}`;

/** Prints the findings; the errors end the process, as the AS cannot serve this configuration. */
function report(found: StartupReport): void {
  for (const warning of found.warnings) console.log(`reference-backend: warning: ${line(warning)}`);
  if (found.errors.length) {
    fail(`the authorization server cannot serve this configuration:\n  ${found.errors.map(line).join('\n  ')}`);
  }
}

/**
 * Until the AS answers: the backend serves meanwhile (sign-in and bff-token say the AS is not
 * reachable), and runs the whole check once it does.
 */
async function recheckUntilReachable(config: BackendConfig, client: Parameters<typeof checkAuthorizationServer>[1]) {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, RECHECK_MS).unref());
    const found = await checkAuthorizationServer(config, client);
    if (found.unreachable) continue;
    console.log(`reference-backend: the authorization server at ${config.issuer} answers now`);
    report(found);
    return;
  }
}

/**
 * Errors of a data folder that cannot be written: not ours, read-only, or its disk full. (A folder
 * that cannot be made on a read-only file system is ENOENT from a recursive mkdir.)
 */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EFBIG', 'ENOENT']);

async function main(): Promise<void> {
  const { config, host, port } = configFromEnv(process.env, root);
  const started = performance.now();
  console.log(effectiveConfiguration(config, { env: process.env }));
  const backend = await createBackend(config).catch((err: NodeJS.ErrnoException) => {
    const dataDir = config.dataDir;
    const inDataDir = dataDir !== undefined && err.path?.startsWith(dataDir) && NOT_WRITABLE.has(String(err.code));
    if (!inDataDir && err.code !== 'TMI_BFF_STORE_WRITE_FAILED') throw err;
    fail(
      `BFF_DATA_DIR ${config.dataDir} cannot be written (${err.message}): give this user write access to it ` +
        'and free space on its disk, or set BFF_DATA_DIR to another folder ("memory" keeps everything in memory)',
    );
  });
  // The AS's metadata against these settings, before serving (docs/configuration.md).
  const found = await checkAuthorizationServer(config, backend.client);
  if (found.unreachable) {
    console.log(`reference-backend: warning: ${line(found.unreachable)}; starting anyway, and checking again`);
  } else {
    report(found);
  }
  const server = createServer(backend.app.callback());
  server.on('upgrade', backend.upgrade);
  // What the HTTP parser refuses (a head over its size limit) gets a JSON error too (client-error.ts).
  server.on('clientError', answerClientError);
  server.listen(port, host);
  await once(server, 'listening');
  const front = config.frontend
    ? 'proxy' in config.frontend
      ? `; the app proxied from ${config.frontend.proxy}`
      : `; the app served from ${config.frontend.static}`
    : '';
  const listening = new URL(config.origin).port === String(port) ? '' : ` (listening on ${host}:${port})`;
  const where = config.redisUrl
    ? `data in Redis at ${new URL(config.redisUrl).host}`
    : config.dataDir
      ? `data in ${config.dataDir} (npm run reset clears it)`
      : 'data in memory';
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
  if (found.unreachable) void recheckUntilReachable(config, backend.client);
}

main().catch((err: NodeJS.ErrnoException) => {
  if (err.code === 'EADDRINUSE')
    fail(`${err.message}: another process holds the port. Stop it, or set BFF_ORIGIN (or BFF_PORT).`);
  fail(err.message);
});
