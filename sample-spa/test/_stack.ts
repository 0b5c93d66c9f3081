/**
 * The whole demo in the test process, on ephemeral loopback ports: the real mock AS, the reference
 * backend serving a fresh build of this SPA, and the demo APIs, whose resource identifiers are their
 * own URLs (as in `npm run dev`) so the browser can call them.
 */
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDemoApis } from '@tmi-bff/demo-apis';
import {
  backendSettings,
  CONTROL_PATH,
  DEFAULT_ADDRESSES,
  demoWorld,
  loadSeed,
  SEED_FILE,
  startMockAs,
} from '@tmi-bff/mock-as';
import { createBackend, withDefaults } from '@tmi-bff/reference-backend';
import type { ExecutionContext } from 'ava';
import { buildSpa } from '../scripts/build.js';

const DOCS = join(dirname(dirname(dirname(fileURLToPath(import.meta.url)))), 'docs');

async function listen(): Promise<{ server: Server; origin: string }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let built: Promise<string> | undefined;
/** One build per test file, into a temporary folder (never over `npm run dev`'s dist/). */
function spaBuild(): Promise<string> {
  built ??= mkdtemp(join(tmpdir(), 'tmi-bff-spa-')).then(async (outdir) => {
    await buildSpa({ outdir, log: () => {} });
    // 'exit' handlers run synchronously: an async rm would never finish.
    process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
    return outdir;
  });
  return built;
}

export interface Demo {
  /** The app's origin: the backend and the SPA. */
  origin: string;
  apiOrigin: string;
  issuer: string;
}

/**
 * `spa: false` serves the backend's plain home page instead of the sample SPA; `mock: true` turns
 * mock mode on (the scenario knobs, and the mock AS's faults they drive); `docsDir` serves other
 * chapters than the repository's docs/.
 */
export async function startDemo(
  t: ExecutionContext,
  options: { spa?: boolean; mock?: boolean; docsDir?: string } = {},
): Promise<Demo> {
  const bff = await listen();
  const api = await listen();
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: bff.origin, API_ORIGIN: api.origin });
  const as = await startMockAs({ seed, log: () => {}, faults: { enabled: options.mock === true } });
  const secret = (id: string) => seed.clients.find((c) => c.client_id === id)?.client_secret ?? '';
  const apis = createDemoApis({
    issuer: as.issuer,
    apiOrigin: api.origin,
    appOrigin: bff.origin,
    clients: {
      a: { id: 'service-a', secret: secret('service-a') },
      b: { id: 'service-b', secret: secret('service-b') },
    },
    log: () => {},
  });
  api.server.on('request', apis.callback());
  const backend = await createBackend({
    ...withDefaults({ origin: bff.origin, issuer: as.issuer, ...backendSettings(seed) }),
    log: () => {},
    ...(options.mock ? { mock: { enabled: true, control: `${as.issuer}${CONTROL_PATH}` } } : {}),
    spa:
      options.spa === false
        ? undefined
        : {
            dir: await spaBuild(),
            docsDir: options.docsDir ?? DOCS,
            settings: demoWorld(seed, backendSettings(seed).login.resources),
          },
  });
  bff.server.on('request', backend.app.callback());
  t.teardown(async () => {
    for (const { server } of [bff, api]) {
      server.close();
      server.closeAllConnections();
    }
    await backend.close();
    await as.close();
  });
  return { origin: bff.origin, apiOrigin: api.origin, issuer: as.issuer };
}
