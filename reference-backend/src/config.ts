/**
 * The reference backend's configuration: one typed object, every default declared here. Only
 * `server.ts` reads the environment, through `configFromEnv()`; tests build the object directly.
 */
import { join, resolve } from 'node:path';
import type { DownscopingStrategy } from '@tmi-bff/koa';
import { parseSecret } from '@tmi-bff/store';
import { isLoopback, type MockMode } from './mock-mode.js';
import type { SpaConfig } from './spa.js';

export interface BackendConfig {
  /**
   * The app's public origin: redirect URIs are built from it, and it is the only `Origin` the BFF
   * endpoints accept (D4). Default for `npm run dev`: http://localhost:3000.
   */
  origin: string;
  /** The authorization server's issuer identifier. Default: http://localhost:4000. */
  issuer: string;
  /** This backend as a confidential client of the AS. */
  client: { id: string; secret: string };
  /** What sign-in asks for: the scope string and the RFC 8707 resources. */
  login: { scope: string; resources: string[] };
  tokens: {
    /** D9. Default: 'refresh'. */
    strategy: DownscopingStrategy;
    /** D8. Default: 30. */
    expiryMarginSeconds: number;
    /** D6: how long a bff-token caller waits for the AS. Default: 5000. */
    asTimeoutMs: number;
    /** TMI-15: the resource of a request that names none. Default: the first login resource. */
    defaultResource?: string | undefined;
  };
  /** D5: how long a session lasts from sign-in, in ms. Default: 8 hours. */
  sessionMaxAgeMs: number;
  /**
   * How often expired sessions are swept from the store, and their refresh tokens revoked at the AS,
   * in ms. Default: 60 000.
   */
  sweepIntervalMs?: number | undefined;
  /** Folder for the lowdb store and the cookie keys. Default: none (in memory). */
  dataDir?: string | undefined;
  /**
   * 32 random bytes that seal the store at rest (AES-256-GCM values, HMAC-hashed keys).
   * Default: generated at first start into `<dataDir>/bff.key` (mode 0600); in memory, per process.
   */
  dataKey?: Uint8Array | undefined;
  /** Cookie signing keys, newest first. Default: generated at first start and kept in `dataDir`. */
  cookieKeys?: string[] | undefined;
  /** Allow an http:// issuer (loopback development). Default: true when the issuer is http://. */
  allowInsecureRequests?: boolean | undefined;
  /** Where log lines go. Default: console.log. */
  log?: ((line: string) => void) | undefined;
  /** Behind a TLS-terminating proxy: trust X-Forwarded-Proto/-For (Koa `app.proxy`). Default: false. */
  trustProxy?: boolean | undefined;
  /** The sample SPA served at `/`. Default for `npm run dev`: `sample-spa/dist`; none: a plain home page. */
  spa?: SpaConfig | undefined;
  /**
   * The origins the SPA's page may call besides its own (its CSP `connect-src`): the APIs it calls
   * with its tokens. Default: the origins of `login.resources`; `[]`: its own origin only.
   */
  connectSrc?: string[] | undefined;
  /**
   * The user's own app, in place of the sample SPA: `{ proxy: url }` forwards every request that is
   * not one of the backend's routes to a dev server (WebSocket upgrades included); `{ static: dir }`
   * serves a built app with a history fallback. Default: none (the sample SPA, `spa`).
   */
  frontend?: FrontendConfig | undefined;
  /**
   * Development only: mounts the scenario knobs (admin.ts) under `/_mock`. Refused unless the origin
   * and the issuer are http on a loopback host (mock-mode.ts). Default: none (off).
   */
  mock?: MockMode | undefined;
  /** Clock of the token cache, for tests. Default: Date.now. */
  now?: (() => number) | undefined;
}

/** Where the app's own pages come from: a dev server behind a proxy, or a built folder. */
export type FrontendConfig = { proxy: string } | { static: string };

export const DEFAULTS = {
  origin: 'http://localhost:3000',
  issuer: 'http://localhost:4000',
  strategy: 'refresh' as DownscopingStrategy,
  expiryMarginSeconds: 30,
  asTimeoutMs: 5000,
  sessionMaxAgeMs: 8 * 3600 * 1000,
};

/** Settings the seed of the mock AS can supply: the demo world's client, resources and scopes. */
export interface SeedDefaults {
  client: { id: string; secret: string };
  login: { scope: string; resources: string[] };
  /** What the sample SPA shows: the resources, their scopes, the personas. */
  spaSettings?: unknown;
}

export interface ServerSettings {
  config: BackendConfig;
  host: string;
  port: number;
}

/**
 * A setting's value, `undefined` when the variable is unset. An empty value means empty: for a
 * setting that cannot be empty (an origin, a credential, a scope, a number…) it is refused here,
 * naming the variable, instead of silently falling back to the default.
 */
function setting(env: Record<string, string | undefined>, name: string, why: string): string | undefined {
  const value = env[name];
  if (value !== undefined && value.trim() === '') throw new TypeError(`${name} is set but empty: ${why}`);
  return value;
}

const positive = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (value.trim() === '') throw new TypeError(`${name} is set but empty: unset it for the default (${fallback})`);
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new TypeError(`${name} must be a non-negative number, got "${value}"`);
  return n;
};

/**
 * Reads the settings from an environment object (`process.env` at the edge).
 *
 * The default applies only when a variable is unset: an empty value means empty (last column).
 *
 * | variable | default (unset) | set but empty |
 * |---|---|---|
 * | `BFF_ORIGIN` | `http://localhost:3000` | refused |
 * | `MOCK_AS_ISSUER` / `BFF_ISSUER` | `http://localhost:4000`; kept verbatim, as discovery must match it exactly | refused |
 * | `BFF_CLIENT_ID`, `BFF_CLIENT_SECRET` | from the mock AS seed (`bff`) | refused |
 * | `BFF_SCOPE` | from the mock AS seed | refused: sign-in needs a scope |
 * | `BFF_RESOURCES` (space-separated) | from the mock AS seed | no resources |
 * | `BFF_DOWNSCOPING` | `refresh` (or `exchange`) | refused |
 * | `BFF_EXPIRY_MARGIN_SECONDS` | `30` | refused |
 * | `BFF_AS_TIMEOUT_MS` | `5000` | refused |
 * | `BFF_DATA_DIR` | `<reference-backend>/.data`; `memory` keeps everything in memory | refused |
 * | `BFF_DATA_KEY` | a key generated into `<BFF_DATA_DIR>/bff.key`; else 32 bytes, base64url or hex | refused |
 * | `BFF_HOST` | `127.0.0.1` (the listen address, apart from the public `BFF_ORIGIN`) | refused |
 * | `BFF_PORT` | the port of `BFF_ORIGIN` | refused |
 * | `BFF_TRUST_PROXY` | off; `1` behind a TLS-terminating proxy | off |
 * | `BFF_SPA_DIR` | the sample SPA (`<repo>/sample-spa/dist`); a folder: a built app served with a history fallback; `none`: a plain home page | a plain home page |
 * | `BFF_CONNECT_SRC` (space-separated origins) | the origins of the resources | only the app's own origin |
 * | `BFF_FRONTEND` | none; the URL of a dev server to proxy every other request to (e.g. http://localhost:5173) | none |
 * | `BFF_MOCK` | off; `1` turns mock mode on: the development-only scenario knobs under `/_mock` (loopback http only) | off |
 */
export function configFromEnv(
  env: Record<string, string | undefined>,
  root: string,
  seed: SeedDefaults,
): ServerSettings {
  const origin = (setting(env, 'BFF_ORIGIN', 'unset it for the default') ?? DEFAULTS.origin).replace(/\/$/, '');
  if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
    throw new TypeError(`BFF_ORIGIN must be an origin such as http://localhost:3000, got "${origin}"`);
  }
  const url = new URL(origin);
  // OIDC Discovery 1.0 §4.3: the issuer in the metadata must be identical to the one configured, so
  // it is kept verbatim (a trailing slash included, as in https://tenant.example.com/).
  const issuer =
    setting(env, 'BFF_ISSUER', 'the authorization server is needed') ??
    setting(env, 'MOCK_AS_ISSUER', 'the authorization server is needed') ??
    DEFAULTS.issuer;
  if (!URL.canParse(issuer) || !/^https?:$/.test(new URL(issuer).protocol)) {
    throw new TypeError(`BFF_ISSUER must be the authorization server's issuer URL, got "${issuer}"`);
  }
  const strategy = setting(env, 'BFF_DOWNSCOPING', '"refresh" or "exchange"') ?? DEFAULTS.strategy;
  if (strategy !== 'refresh' && strategy !== 'exchange') {
    throw new TypeError(`BFF_DOWNSCOPING must be "refresh" or "exchange", got "${strategy}"`);
  }
  const frontend = frontendFromEnv(env);
  // Set but empty: sign-in asks for no resource, and bff-token has no default resource.
  const resources =
    env.BFF_RESOURCES === undefined ? seed.login.resources : env.BFF_RESOURCES.split(/\s+/).filter(Boolean);
  const connectSrc = env.BFF_CONNECT_SRC === undefined ? undefined : origins(env.BFF_CONNECT_SRC, 'BFF_CONNECT_SRC');
  const scope = setting(env, 'BFF_SCOPE', 'sign-in needs a scope (e.g. "openid"); unset it for the default');
  const credential = 'the confidential client needs one; unset it for the default';
  const clientId = setting(env, 'BFF_CLIENT_ID', credential);
  const clientSecret = setting(env, 'BFF_CLIENT_SECRET', credential);
  const host = setting(env, 'BFF_HOST', 'unset it to listen on 127.0.0.1');
  const listen = setting(env, 'BFF_PORT', "unset it to listen on BFF_ORIGIN's port");
  const dataDir = setting(env, 'BFF_DATA_DIR', 'a folder, or "memory"; unset it for the default');
  const dataKey = setting(env, 'BFF_DATA_KEY', 'unset it to generate one');
  // Mock mode is for this machine only: a listen address beyond loopback is refused too.
  if (env.BFF_MOCK === '1' && host && !isLoopback(host)) {
    throw new TypeError(
      `BFF_MOCK (mock mode) is for local development only: BFF_HOST ${host} is not a loopback address. ` +
        'Turn mock mode off (BFF_MOCK=0; npm run dev turns it on), or listen on 127.0.0.1.',
    );
  }
  return {
    host: host ?? '127.0.0.1',
    port: listen ? listenPort(listen) : Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    config: {
      origin,
      issuer,
      client: { id: clientId ?? seed.client.id, secret: clientSecret ?? seed.client.secret },
      login: { scope: scope ?? seed.login.scope, resources },
      tokens: {
        strategy,
        expiryMarginSeconds: positive(
          'BFF_EXPIRY_MARGIN_SECONDS',
          env.BFF_EXPIRY_MARGIN_SECONDS,
          DEFAULTS.expiryMarginSeconds,
        ),
        asTimeoutMs: positive('BFF_AS_TIMEOUT_MS', env.BFF_AS_TIMEOUT_MS, DEFAULTS.asTimeoutMs),
        defaultResource: resources[0],
      },
      sessionMaxAgeMs: DEFAULTS.sessionMaxAgeMs,
      dataDir: dataDir === 'memory' ? undefined : (dataDir ?? join(root, '.data')),
      dataKey: dataKey ? parseSecret(dataKey, 'BFF_DATA_KEY') : undefined,
      trustProxy: env.BFF_TRUST_PROXY === '1',
      frontend,
      connectSrc,
      mock: env.BFF_MOCK === '1' ? { enabled: true } : undefined,
      spa:
        env.BFF_SPA_DIR === 'none' || env.BFF_SPA_DIR?.trim() === '' || frontend
          ? undefined
          : {
              dir: env.BFF_SPA_DIR ?? join(root, '..', 'sample-spa', 'dist'),
              docsDir: join(root, '..', 'docs'),
              settings: seed.spaSettings,
            },
    },
  };
}

/** Space-separated http(s) or ws(s) origins, e.g. `https://api.example.com wss://live.example.com`. */
function origins(value: string, name: string): string[] {
  return value
    .split(/\s+/)
    .filter(Boolean)
    .map((entry) => {
      const origin = entry.replace(/\/$/, '');
      if (
        !URL.canParse(origin) ||
        new URL(origin).origin !== origin ||
        !/^(https?|wss?):$/.test(new URL(origin).protocol)
      ) {
        throw new TypeError(`${name} must be space-separated origins such as https://api.example.com, got "${entry}"`);
      }
      return origin;
    });
}

function listenPort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TypeError(`BFF_PORT must be a port number, got "${value}"`);
  return n;
}

/** `BFF_FRONTEND` (a dev server's URL) or `BFF_SPA_DIR` (a built app's folder), not both. */
function frontendFromEnv(env: Record<string, string | undefined>): FrontendConfig | undefined {
  const url = env.BFF_FRONTEND;
  const dir = env.BFF_SPA_DIR && env.BFF_SPA_DIR !== 'none' ? env.BFF_SPA_DIR : undefined;
  if (url && dir)
    throw new TypeError('BFF_FRONTEND and BFF_SPA_DIR are exclusive: proxy a dev server or serve a folder');
  if (url) {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new TypeError(`BFF_FRONTEND must be an http(s) URL such as http://localhost:5173, got "${url}"`);
    }
    return { proxy: url };
  }
  return dir ? { static: resolve(dir) } : undefined;
}
