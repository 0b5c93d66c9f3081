/**
 * The whole mock stack in one call, on loopback: the real mock AS, the reference backend in mock
 * mode (in front of your app, by proxy or from a folder), and the demo APIs. All three listen
 * first, so the seed's redirect URIs and resource identifiers name the addresses actually bound.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createDemoApis } from '@tmi-bff/demo-apis';
import { backendSettings, CONTROL_PATH, createMockAs, loadSeed, SEED_FILE, type Seed } from '@tmi-bff/mock-as';
import { type BackendConfig, createBackend, withDefaults } from '@tmi-bff/reference-backend';
import { type AdminClient, adminClient } from './admin-client.js';
import { type MockBffOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type SignedIn, signInTo, type Who } from './sign-in.js';

export interface MockBff {
  /** The app's origin, `http://localhost:<port>`: the BFF, and your app behind it. */
  url: string;
  /** The mock AS's issuer identifier. */
  issuer: string;
  /** The demo APIs' origin (their resource identifiers are `<apiUrl>/stocks`, `/a`, `/b`, `/c`). */
  apiUrl: string;
  /** Signs a persona (or a username and password) in through the real authorization code flow. */
  signIn(who: Who): Promise<SignedIn>;
  /** The dev-only admin API: scenario knobs at run time. */
  admin: AdminClient;
  /** Closes every server and store; afterwards no port listens and no timer is left. */
  stop(): Promise<void>;
}

async function listen(port: number): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

async function close(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = once(server, 'close');
  server.close();
  server.closeAllConnections();
  await closed;
}

/** Mock mode on, and where the app comes from: a dev server to proxy to, or a built folder. */
function mockModeConfig(options: ResolvedOptions, issuer: string): Pick<BackendConfig, 'frontend' | 'mock'> {
  const frontend = options.frontend
    ? { proxy: options.frontend }
    : options.static
      ? { static: resolve(options.static) }
      : undefined;
  // The AS and persona knobs call the mock AS's control routes.
  return { mock: { enabled: true, control: `${issuer}${CONTROL_PATH}` }, ...(frontend ? { frontend } : {}) };
}

/**
 * Starts the mock AS, the reference backend and the demo APIs on 127.0.0.1 (ephemeral ports unless
 * given), and returns the app's URL, a sign-in helper, the admin client and `stop()`.
 *
 *   const bff = await startMockBff({ frontend: 'http://localhost:5173' });
 *   const { cookieHeader } = await bff.signIn('alice');
 *   await fetch(`${bff.url}/.well-known/bff-token`, { headers: { cookie: cookieHeader, 'TMI-BFF-CSRF': '1' } });
 *   await bff.stop();
 */
export async function startMockBff(options: MockBffOptions = {}): Promise<MockBff> {
  const resolved = resolveOptions(options);
  const { log } = resolved;
  const servers: Server[] = [];
  const closers: Array<() => Promise<void>> = [];
  const stop = async () => {
    await Promise.all(servers.map(close));
    for (const closeOne of closers.splice(0).reverse()) await closeOne();
  };
  try {
    const bff = await listen(resolved.port);
    servers.push(bff.server);
    const as = await listen(resolved.asPort);
    servers.push(as.server);
    const api = await listen(resolved.apiPort);
    servers.push(api.server);
    const url = `http://localhost:${bff.port}`;
    const issuer = `http://127.0.0.1:${as.port}`;
    const apiUrl = `http://127.0.0.1:${api.port}`;

    const seed: Seed =
      typeof resolved.seed === 'object'
        ? resolved.seed
        : await loadSeed(resolved.seed ?? SEED_FILE, { ISSUER: issuer, BFF_ORIGIN: url, API_ORIGIN: apiUrl });
    // The AS knobs of the admin API are the AS's own faults, over HTTP.
    const mockAs = await createMockAs({ issuer, seed, log, faults: { enabled: true } });
    closers.push(() => mockAs.close());
    as.server.on('request', mockAs.provider.callback());

    const secret = (id: string) => seed.clients.find((c) => c.client_id === id)?.client_secret ?? '';
    const apis = createDemoApis({
      issuer,
      apiOrigin: apiUrl,
      appOrigin: url,
      clients: {
        a: { id: 'service-a', secret: secret('service-a') },
        b: { id: 'service-b', secret: secret('service-b') },
      },
      log,
    });
    api.server.on('request', apis.callback());

    // The seed's `bff` client, passed in as any AS's settings would be.
    const backend = await createBackend({
      ...withDefaults({ origin: url, issuer, ...backendSettings(seed) }),
      log,
      ...mockModeConfig(resolved, issuer),
    });
    closers.push(() => backend.close());
    bff.server.on('request', backend.app.callback());
    // Proxy mode: the dev server's WebSocket (hot module reload) through the BFF.
    bff.server.on('upgrade', backend.upgrade);

    log(`mock BFF: app ${url}, AS ${issuer}, APIs ${apiUrl}`);
    return {
      url,
      issuer,
      apiUrl,
      signIn: (who) => signInTo(url, who),
      admin: adminClient(url),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
