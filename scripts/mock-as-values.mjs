// The mock AS's values for the backend (mock-as/src/backend-env.ts: its issuer, the seed's client,
// scopes and resources, what the sample SPA shows), kept between runs in node_modules/.cache.
// Computing them loads tsx and the seed's validation, and the backend's start waits for them.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'tmi-bff', 'mock-as-backend-env.json');
const SOURCES = join(ROOT, 'mock-as', 'src');

/** What the values depend on: the mock AS's settings, the seed's bytes, and the code that reads them. */
function cacheKey(env, seedFile, mock) {
  const hash = createHash('sha256');
  // The settings backend-env.ts reads (configFromEnv's issuer, seed file and addresses).
  const settings = ['MOCK_AS_ISSUER', 'MOCK_AS_SEED', 'BFF_ORIGIN', 'API_ORIGIN'].map((name) => env[name]);
  hash.update(JSON.stringify([mock, settings]));
  hash.update(readFileSync(seedFile));
  for (const file of readdirSync(SOURCES, { recursive: true }).sort()) {
    const { size, mtimeMs } = statSync(join(SOURCES, file));
    hash.update(`\n${file} ${size} ${mtimeMs}`);
  }
  return hash.digest('hex');
}

/** The backend's variables for the mock AS that `env` describes; throws the seed's or a setting's error. */
export async function mockAsValues(env, { seedFile, mock }) {
  let key;
  try {
    key = cacheKey(env, seedFile, mock);
    const cached = JSON.parse(readFileSync(CACHE, 'utf8'));
    if (cached.key === key) return cached.values;
  } catch {
    // nothing cached yet, or the seed cannot be read (the mock AS says why below)
  }
  const { tsImport } = await import('tsx/esm/api');
  const { mockAsBackendEnv } = await tsImport('../mock-as/src/backend-env.ts', import.meta.url);
  const values = await mockAsBackendEnv(env, { mock });
  if (key) {
    mkdirSync(dirname(CACHE), { recursive: true });
    writeFileSync(CACHE, JSON.stringify({ key, values }));
  }
  return values;
}
