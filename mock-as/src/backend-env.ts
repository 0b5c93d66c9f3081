/**
 * Prints, as one JSON object, the reference backend's settings for the demo world: the seed's `bff`
 * client, its resources and scopes, and what the sample SPA shows (backend-settings.ts), read from
 * the same environment the mock AS reads. `npm run dev` passes them to the backend, as a user would
 * pass another AS's values.
 *
 *   tsx --conditions=development mock-as/src/backend-env.ts [--mock]
 *
 * `--mock` adds BFF_MOCK_AS_CONTROL: where the backend's scenario knobs reach this AS's control routes.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendEnv, CONTROL_PATH } from './backend-settings.js';
import { configFromEnv } from './config.js';
import { loadSeed } from './seed.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

try {
  const settings = configFromEnv(process.env, root);
  const seed = await loadSeed(settings.seedFile, settings.variables);
  const env = backendEnv(seed, settings.issuer);
  if (process.argv.includes('--mock')) env.BFF_MOCK_AS_CONTROL = `${settings.issuer.replace(/\/$/, '')}${CONTROL_PATH}`;
  process.stdout.write(`${JSON.stringify(env)}\n`);
} catch (err) {
  console.error(`mock-as: ${(err as Error).message}`);
  process.exit(1);
}
