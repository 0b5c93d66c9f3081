/**
 * `npm run dev` / `npm start`: the only file that reads the environment. It loads the seed, starts the
 * AS on loopback and prints its URL once it answers. Settings: see `configFromEnv` in config.ts.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockAs } from './app.js';
import { configFromEnv } from './config.js';
import { loadSeed, SeedError } from './seed.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function fail(message: string): never {
  console.error(`mock-as: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let settings: ReturnType<typeof configFromEnv>;
  try {
    settings = configFromEnv(process.env, root);
  } catch (err) {
    fail((err as Error).message);
  }
  const started = performance.now();
  const seed = await loadSeed(settings.seedFile, settings.variables);
  const as = await startMockAs({
    issuer: settings.issuer,
    host: settings.host,
    port: settings.port,
    seed,
    dataDir: settings.dataDir,
    faults: settings.faults,
    log: (line) => console.log(line),
  });
  const where = settings.dataDir ? `data in ${settings.dataDir} (npm run reset clears it)` : 'data in memory';
  console.log(
    `mock-as ready at ${settings.issuer} in ${Math.round(performance.now() - started)} ms; ${where}; ` +
      `users: ${seed.users.map((u) => `${u.username}/${u.password}`).join(', ')}`,
  );

  const stop = async (signal: string) => {
    console.log(`mock-as: ${signal}, closing`);
    await as.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: NodeJS.ErrnoException) => {
  if (err instanceof SeedError) fail(`invalid seed: ${err.message}`);
  if (err.code === 'EADDRINUSE') {
    fail(`${err.message}: another process holds the port. Stop it, or set MOCK_AS_ISSUER / MOCK_AS_PORT.`);
  }
  fail(err.message);
});
