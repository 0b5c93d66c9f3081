/**
 * Builds the reference backend from a config object: the store, the session, the AS client, the
 * token service, and the routes. No listen: `server.ts` (or a test) does that.
 */

import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { clientAuthFor, createTmiBff, defaultSessionInfo, OpenIdClient, SPEC, TokenService } from '@tmi-bff/koa';
import {
  type KeyValueStore,
  LowdbStore,
  loadOrCreateSecret,
  MemoryStore,
  RedisStore,
  SealedStore,
} from '@tmi-bff/store';
import Koa from 'koa';
import { adminRoutes, MOCK_META } from './admin.js';
import type { BackendConfig } from './config.js';
import { FlowEvents, fromAsCall } from './flow-events.js';
import { atLevel, logsAt, stdoutSink } from './log.js';
import { assertMockModeAllowed } from './mock-mode.js';
import { backchannelLogout } from './oauth/backchannel-logout.js';
import { callbackRoute } from './oauth/callback.js';
import { consentRoute } from './oauth/consent.js';
import { loginRoute } from './oauth/login.js';
import { loginTransactions } from './oauth/login-transaction.js';
import { logoutRoute, signedOutRoute } from './oauth/logout.js';
import { pageSecurity } from './page-security.js';
import { frontendRoutes } from './proxy.js';
import { routes } from './routes.js';
import { CookieKeys } from './session/cookie-keys.js';
import { grantLifecycle } from './session/grant-lifecycle.js';
import { randomId, sessionMiddleware } from './session/session.js';
import { sessionReader } from './session/session-reader.js';
import { contentSecurityPolicy, spaRoutes } from './spa.js';
import { isGrantKey, STORE_KEYS } from './store-keys.js';
import { requireConfiguredTransport, transportWarning } from './transport.js';

export interface Backend {
  app: Koa;
  /** The configuration it was built from. */
  config: BackendConfig;
  tokens: TokenService;
  store: KeyValueStore;
  client: OpenIdClient;
  /**
   * The server's `upgrade` listener: in proxy mode, WebSocket upgrades (hot module reload) go to the
   * dev server; otherwise they are refused. `server.on('upgrade', backend.upgrade)`.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

/**
 * The cookie-signing keys: configured, or kept in the store. Made under the store's lock, so
 * instances starting together on one shared store (Redis) agree on one set: a cookie signed by one
 * is accepted by every other.
 */
async function cookieKeys(config: BackendConfig, store: KeyValueStore): Promise<string[]> {
  if (config.cookieKeys?.length) return config.cookieKeys;
  const key = STORE_KEYS.config('cookie-keys');
  return store.withLock(key, async () => {
    const kept = await store.get<string[]>(key);
    if (kept?.length) return [...kept];
    const keys = [randomId()];
    await store.set(key, keys);
    return keys;
  });
}

/** The key that seals the store: configured, or kept in `<dataDir>/bff.key`, or (in memory) made now. */
async function dataKey(config: BackendConfig): Promise<Uint8Array> {
  if (config.dataKey) return config.dataKey;
  if (config.dataDir) return loadOrCreateSecret(join(config.dataDir, 'bff.key'));
  return new Uint8Array(randomBytes(32));
}

export async function createBackend(config: BackendConfig): Promise<Backend> {
  assertMockModeAllowed(config);
  // Info and above by default (BFF_LOG_LEVEL); debug lines (each bff-token success) only when asked.
  const sink = config.log ?? stdoutSink();
  const level = config.logLevel ?? 'info';
  const log = atLevel(sink, level, 'info');
  const storeOptions = {
    ...(config.now ? { now: config.now } : {}),
    ...(config.sweepIntervalMs !== undefined ? { sweepIntervalMs: config.sweepIntervalMs } : {}),
  };
  // The session's end is the grant's end: the store tells when it drops an expired grant record.
  const onExpired = (key: string, raw: unknown) => {
    if (!isGrantKey(key)) return;
    void grants.expired(store.unseal(key, raw)).catch((err: Error) => log(`grant.expiry failed: ${err.message}`));
  };
  // Known before the store opens: entries found expired at open are reported right after it.
  const secret = await dataKey(config);
  if (config.redisUrl && !config.dataKey && !config.dataDir) {
    throw new TypeError('a Redis store (BFF_STORE) is shared by instances: set BFF_DATA_KEY, the same on each of them');
  }
  const inner = config.redisUrl
    ? await RedisStore.connect({ url: config.redisUrl, onExpired, ...storeOptions })
    : config.dataDir
      ? await LowdbStore.open({
          file: join(config.dataDir, 'bff.json'),
          onExpired,
          // Past LOWDB_MAX_ENTRIES: the start-up log says to move to Redis.
          onWarning: (message) => log(`store: ${message}`),
          // After a failed write (disk full, folder read-only): the store writes again until it can.
          onRecovered: (message) => log(`store: ${message}`),
          ...storeOptions,
        })
      : new MemoryStore({ onExpired, ...storeOptions });
  // Data at rest: values sealed with AES-256-GCM, keys (such as the session cookie's id) hashed.
  const store = new SealedStore(inner, {
    secret,
    onError: (message) => log(`store: ${message}`),
  });

  const client = new OpenIdClient({
    issuer: config.issuer,
    clientId: config.client.id,
    clientAuth: await clientAuthFor(config.client),
    allowInsecureRequests: config.allowInsecureRequests ?? config.issuer.startsWith('http:'),
  });
  // Mock mode only: the backend's own exchanges, per session, for the flow inspector (flow-events.ts).
  const flow = config.mock?.enabled ? new FlowEvents() : undefined;
  const tokens = new TokenService({
    store,
    authorizationServer: client,
    strategy: config.tokens.strategy,
    expiryMarginSeconds: config.tokens.expiryMarginSeconds,
    asTimeoutMs: config.tokens.asTimeoutMs,
    defaultResource: config.tokens.defaultResource,
    // An event with data, or a sentence of its own (the grants' revocation lines).
    log: (event, data) => log(Object.keys(data).length > 0 ? `${event} ${JSON.stringify(data)}` : event),
    ...(config.now ? { now: config.now } : {}),
    ...(flow
      ? {
          onAs: (call) => {
            const { kind, ms, data } = fromAsCall(call);
            flow.publish(call.sessionId, kind, data, ms);
          },
        }
      : {}),
  });
  const grants = grantLifecycle({ tokens, store, now: config.now });
  // The TMI-BFF endpoints only read the session: they read it without koa-session (session-reader.ts).
  const reader = sessionReader(store, config.origin);
  const bff = createTmiBff({
    ack: SPEC.draft,
    origin: config.origin,
    // A session is valid while its grant record exists: back-channel logout ends it by ending the grant.
    getSession: (ctx) => grants.current(ctx, reader),
    tokens,
    // D12: the user's claims and the session's end; D13: when no token can be had for this session
    // without the user (no refresh token), why and what helps, so the app learns before it asks.
    sessionInfo: async (session, ctx) => {
      const unavailable = await tokens.unavailable(session.id, ctx);
      return {
        ...defaultSessionInfo(session),
        ...(unavailable
          ? {
              tokens_unavailable: {
                error: unavailable.error,
                error_description: unavailable.error_description,
                remediation: unavailable.remediation,
              },
            }
          : {}),
      };
    },
    logger: {
      debug: logsAt(level, 'debug') ? (event, data) => sink(`${event} ${JSON.stringify(data ?? {})}`) : () => {},
      warn: logsAt(level, 'warn') ? (event, data) => sink(`${event} ${JSON.stringify(data ?? {})}`) : () => {},
      error: (event, data) => sink(`${event} ${JSON.stringify(data ?? {})}`),
    },
  });

  const app = new Koa({ proxy: config.trustProxy ?? false });
  // D5: one HMAC-SHA-256 per signed cookie checked (session/cookie-keys.ts).
  app.keys = new CookieKeys(await cookieKeys(config, store));
  const warning = transportWarning(config);
  if (warning) log(warning);
  // The two TMI-BFF endpoints first, each stack composed once (routes.ts lists them): they answer
  // JSON with their own headers (no-store, nosniff) and their own https check (TMI-02), and they read
  // the session through `reader`, before koa-session, never writing it.
  app.use(bff.middleware());
  app.use(pageSecurity);
  app.use(requireConfiguredTransport(config, Object.values(bff.options.paths)));
  app.use(sessionMiddleware(app, store, config.origin, config.sessionMaxAgeMs));
  // The user's app (config.frontend) answers every path that is not the backend's own.
  const frontend = frontendRoutes(config, Object.values(bff.options.paths), bff.metaTags(), log);
  if (frontend) app.use(frontend.serve);
  // With the user's app in front, the sample SPA is not served.
  const spa = config.frontend ? undefined : config.spa;
  const signIn = { config, client, store, tokens, grants, transactions: loginTransactions(config, store), flow };
  const router = routes({
    bff,
    log,
    asOrigin: new URL(config.issuer).origin,
    login: loginRoute(signIn),
    consent: consentRoute(signIn),
    callback: callbackRoute(signIn),
    logout: logoutRoute({ config, client, grants, flow }),
    signedOut: signedOutRoute(config),
    backchannelLogout: backchannelLogout({ config, client, store, grants, flow }),
    session: (ctx) => grants.current(ctx),
    admin: flow ? adminRoutes({ config, bff, tokens, store, grants, log, flow }) : undefined,
    spa:
      spa &&
      spaRoutes(
        spa,
        // In mock mode the app learns where the scenario knobs are, and shows their panel.
        config.mock?.enabled ? `${bff.metaTags()}\n${MOCK_META}` : bff.metaTags(),
        // The APIs the app calls with its tokens; the AS, where sign-out's form ends.
        contentSecurityPolicy(
          config.connectSrc ??
            [...new Set(config.login.resources.map((r) => (URL.canParse(r) ? new URL(r).origin : 'null')))].filter(
              (o) => o !== 'null',
            ),
          [new URL(config.issuer).origin],
        ),
      ),
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.on('error', (err: Error) => log(`server error: ${err.stack ?? err.message}`));

  return {
    app,
    config,
    tokens,
    store,
    client,
    upgrade: (req, socket, head) => (frontend ? frontend.upgrade(req, socket, head) : socket.destroy()),
    close: async () => {
      frontend?.close();
      await store.close();
    },
  };
}
