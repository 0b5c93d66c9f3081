/**
 * The reference backend's settings for the demo world, as its environment variables: the seed's `bff`
 * client, its resources and scopes, and what the sample SPA shows (backend-settings.ts), read from
 * the same environment the mock AS reads. `npm run dev` imports `mockAsBackendEnv` and passes them to
 * the backend, as a user would pass another AS's values. Run as a script, it prints them as one JSON
 * object:
 *
 *   tsx --conditions=development mock-as/src/backend-env.ts [--mock]
 *
 * `--mock` adds BFF_MOCK_AS_CONTROL: where the backend's scenario knobs reach this AS's control routes.
 */
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { backendEnv, CONTROL_PATH } from './backend-settings.js';
import { configFromEnv } from './config.js';
import { loadSeed } from './seed.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * The backend's variables for the mock AS that `env` describes (`MOCK_AS_ISSUER`, `MOCK_AS_SEED`, …).
 * Throws the seed's or the address's error, one line naming the setting.
 */
export async function mockAsBackendEnv(
  env: Record<string, string | undefined>,
  { mock = false }: { mock?: boolean } = {},
): Promise<Record<string, string>> {
  const settings = configFromEnv(env, root);
  const seed = await loadSeed(settings.seedFile, settings.variables);
  const values = backendEnv(seed, settings.issuer);
  if (mock) values.BFF_MOCK_AS_CONTROL = `${settings.issuer.replace(/\/$/, '')}${CONTROL_PATH}`;
  return values;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const values = await mockAsBackendEnv(process.env, { mock: process.argv.includes('--mock') });
    process.stdout.write(`${JSON.stringify(values)}\n`);
  } catch (err) {
    console.error(`mock-as: ${(err as Error).message}`);
    process.exit(1);
  }
}
