/**
 * One instance of the reference backend for the load soak, in a process of its own (forked by
 * _soak.ts), on `port`, with the demo world's settings against the soak's AS. Its warn and error log
 * lines go to the parent.
 *
 *   SOAK_BACKEND={"origin":"http://127.0.0.1:…","port":…,"issuer":"…","dataDir"?,"redisUrl"?,"dataKey"?,"marginSeconds":…}
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { backendSettings, DEFAULT_ADDRESSES, loadSeed, SEED_FILE } from '@tmi-bff/mock-as';
import { createBackend, withDefaults } from '../../src/index.js';

export interface SoakBackendOptions {
  /** The app's public origin (every instance shares it). */
  origin: string;
  port: number;
  issuer: string;
  dataDir?: string;
  redisUrl?: string;
  /** base64url, the same in every instance on one Redis. */
  dataKey?: string;
  marginSeconds: number;
}

/** How long an idle connection is kept, in ms (Node's default: 5 000). */
export const KEEP_ALIVE_MS = 60_000;

const options = JSON.parse(process.env.SOAK_BACKEND ?? '{}') as SoakBackendOptions;
const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: options.origin });
const config = withDefaults({ origin: options.origin, issuer: options.issuer, ...backendSettings(seed) });
const backend = await createBackend({
  ...config,
  tokens: { ...config.tokens, expiryMarginSeconds: options.marginSeconds },
  dataDir: options.dataDir,
  redisUrl: options.redisUrl,
  dataKey: options.dataKey ? new Uint8Array(Buffer.from(options.dataKey, 'base64url')) : undefined,
  logLevel: 'warn',
  log: (line) => process.send?.({ log: line }),
});
const server = createServer(backend.app.callback());
// As behind a load balancer: idle connections are kept longer than the client (the balancer, here
// the soak's one process driving every session, whose event loop lags under load) keeps them. With
// Node's 5 s default, the server closes a connection the lagging client is just reusing, and that
// request fails with a reset before the backend sees it.
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.headersTimeout = KEEP_ALIVE_MS + 1000;
server.listen(options.port, '127.0.0.1');
await once(server, 'listening');
process.on('disconnect', () => {
  server.close();
  server.closeAllConnections();
  void backend.close().then(() => process.exit(0));
});
process.send?.({ listening: options.port });
