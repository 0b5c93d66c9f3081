/**
 * Builds the mock authorization server from a config object: oidc-provider, its storage adapter, the
 * token-exchange grant and the login/consent pages. `createMockAs` does not listen, so tests can embed
 * it; `startMockAs` listens on loopback (an ephemeral port when asked for port 0).
 */
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { JWK } from 'jose';
import Provider from 'oidc-provider';
import { accessTokenVerifier, liveAccessTokenVerifier } from './access-tokens.js';
import { Accounts } from './accounts.js';
import { advertiseEndpointAuthMethods, requireRegisteredSecretMethod } from './client-auth.js';
import { DEFAULT_LIFETIMES, type MockAsConfig } from './config.js';
import { buildConfiguration } from './configuration.js';
import { controlSignIn } from './control-sign-in.js';
import { createFaults, type Faults } from './faults.js';
import { TOKEN_EXCHANGE_DUPLICABLE, TOKEN_EXCHANGE_PARAMETERS, tokenExchangeGrant } from './grants/token-exchange.js';
import { interactionRoutes } from './interactions/routes.js';
import { loadOrCreateKeys } from './keys.js';
import { answerClientError } from './middleware/client-error.js';
import { interactionErrors } from './middleware/interaction-errors.js';
import { introspectJwtAccessTokens } from './middleware/jwt-introspection.js';
import { logRequests } from './middleware/log-request.js';
import { pageSecurity } from './middleware/page-security.js';
import { postAsGet } from './middleware/post-as-get.js';
import { tokenErrors } from './middleware/token-errors.js';
import { TokenStore } from './persistence/adapter.js';
import { SeedError, TOKEN_EXCHANGE } from './seed.js';

export interface MockAs {
  issuer: string;
  provider: Provider;
  /** The AS's public signing keys (what `/jwks` serves). */
  publicKeys: JWK[];
  store: TokenStore;
  /** The fault injection, when enabled (development only). */
  faults: Faults | undefined;
  /** Stops the sweeper and waits for the last write to the data file. */
  close(): Promise<void>;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const toPublic = (jwk: JWK): JWK =>
  Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_MEMBERS.includes(k)));

export async function createMockAs(config: MockAsConfig): Promise<MockAs> {
  const log = config.log ?? console.log;
  const { seed } = config;
  const keys = config.keys ?? (await loadOrCreateKeys(config.dataDir));
  const store = new TokenStore({ file: config.dataDir ? join(config.dataDir, 'oidc.json') : undefined });
  await store.open();
  const accounts = new Accounts(seed);
  const publicKeys = keys.signing.map(toPublic);
  // The provider is built below; the grant is looked up when a token is verified.
  const verifyAccessToken = liveAccessTokenVerifier(
    accessTokenVerifier(config.issuer, publicKeys, config.clockTolerance ?? 5),
    (id) => provider.Grant.find(id),
  );

  const provider = new Provider(
    config.issuer,
    buildConfiguration({
      seed,
      accounts,
      signingKeys: keys.signing,
      cookieKeys: keys.cookies,
      lifetimes: { ...DEFAULT_LIFETIMES, ...config.lifetimes },
      adapter: store.adapter,
    }),
  );

  requireRegisteredSecretMethod(provider);
  provider.registerGrantType(
    TOKEN_EXCHANGE,
    tokenExchangeGrant({ provider, seed, accounts, verifyAccessToken }),
    [...TOKEN_EXCHANGE_PARAMETERS],
    [...TOKEN_EXCHANGE_DUPLICABLE],
  );

  // Static clients are validated lazily by oidc-provider; load each now so a bad one stops start-up.
  for (const [i, c] of seed.clients.entries()) {
    try {
      await provider.Client.find(c.client_id);
    } catch (err) {
      const e = err as { error_description?: string; message: string };
      await store.close();
      throw new SeedError(`clients[${i}] (${c.client_id}): ${e.error_description ?? e.message}`);
    }
  }

  // Development only: first of all, so "down" refuses every request and failures precede the grant.
  const faults = config.faults?.enabled ? createFaults(provider) : undefined;
  for (const middleware of faults?.middleware ?? []) provider.use(middleware);
  if (faults) provider.use(controlSignIn({ provider, issuer: config.issuer, accounts }));
  provider.use(logRequests(log));
  provider.use(pageSecurity(seed));
  provider.use(tokenErrors(provider, accounts));
  provider.use(advertiseEndpointAuthMethods());
  provider.use(interactionErrors(log));
  provider.use(introspectJwtAccessTokens(verifyAccessToken, seed));
  provider.use(postAsGet(['/auth', '/session/end'])); // oidc-provider's default routes

  const router = interactionRoutes({ provider, seed, accounts });
  provider.use(router.routes());
  provider.use(router.allowedMethods());

  provider.on('server_error', (_ctx, err) => log(`server_error: ${err.stack ?? err.message}`));

  return {
    issuer: config.issuer,
    provider,
    publicKeys,
    store,
    faults,
    close: () => {
      faults?.close();
      return store.close();
    },
  };
}

export interface RunningMockAs extends MockAs {
  server: Server;
  /** Base URL of the listener; equals the issuer unless the issuer is set explicitly. */
  url: string;
}

export interface StartOptions extends Omit<MockAsConfig, 'issuer'> {
  /** Default: `http://<host>:<port>` once listening. */
  issuer?: string | undefined;
  /** Default: 127.0.0.1 (loopback only). */
  host?: string | undefined;
  /** Default: 0, an ephemeral port. */
  port?: number | undefined;
}

/** Listens first (so the issuer can name an ephemeral port), then builds the AS behind it. */
export async function startMockAs(options: StartOptions): Promise<RunningMockAs> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer();
  // What the HTTP parser refuses (a head over its size limit) gets a page too (client-error.ts).
  server.on('clientError', answerClientError);
  // Requests that arrive while the AS is still being built (key generation on a first start) wait
  // for it, rather than hanging on a server with no handler.
  let handler: RequestListener | undefined;
  const waiting: Array<Parameters<RequestListener>> = [];
  server.on('request', (req, res) => (handler ? handler(req, res) : waiting.push([req, res])));
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let as: MockAs;
  try {
    as = await createMockAs({ ...options, issuer: options.issuer ?? url });
  } catch (err) {
    for (const [, res] of waiting) res.writeHead(503).end();
    server.close();
    throw err;
  }
  handler = as.provider.callback();
  for (const [req, res] of waiting.splice(0)) handler(req, res);
  return {
    ...as,
    server,
    url,
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
      await as.close();
    },
  };
}
