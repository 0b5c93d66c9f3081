/**
 * The reference backend's configuration: one typed object, every default declared here. Only
 * `server.ts` reads the environment, through `configFromEnv()`; tests build the object directly.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DownscopingStrategy } from '@tmi-bff/koa';
import { parseSecret } from '@tmi-bff/store';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { isLoopback, type MockMode } from './mock-mode.js';
import type { SpaConfig } from './spa.js';

export interface BackendConfig {
  /**
   * The app's public origin: redirect URIs are built from it, and it is the only `Origin` the BFF
   * endpoints accept (D4). Default for `npm run dev`: http://localhost:3000.
   */
  origin: string;
  /** The authorization server's issuer identifier, exactly as its metadata states it. Required. */
  issuer: string;
  /** This backend as a confidential client of the AS (TMI-04). */
  client: ClientConfig;
  /** What sign-in asks for. */
  login: LoginConfig;
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
   * A Redis that keeps the store instead (`RedisStore`), shared by every instance that names it, e.g.
   * `redis://127.0.0.1:6379`. Every instance then needs the same `dataKey`. Default: none.
   */
  redisUrl?: string | undefined;
  /**
   * 32 random bytes that seal the store at rest (AES-256-GCM values, HMAC-hashed keys).
   * Default: generated at first start into `<dataDir>/bff.key` (mode 0600); in memory, per process.
   */
  dataKey?: Uint8Array | undefined;
  /** Cookie signing keys, newest first. Default: generated at first start and kept in `dataDir`. */
  cookieKeys?: string[] | undefined;
  /** Allow an http:// issuer (loopback development). Default: true when the issuer is http://. */
  allowInsecureRequests?: boolean | undefined;
  /** Where log lines go. Default: stdout, written asynchronously (log.ts `stdoutSink`). */
  log?: ((line: string) => void) | undefined;
  /**
   * The least severe lines logged: 'error', 'warn', 'info' or 'debug' (every bff-token and
   * bff-sessioninfo outcome, a client's errors included). Default: 'info'.
   */
  logLevel?: LogLevel | undefined;
  /** Behind a TLS-terminating proxy: trust X-Forwarded-Proto/-For (Koa `app.proxy`). Default: false. */
  trustProxy?: boolean | undefined;
  /**
   * Sign-out sends the session's ID token to the AS as `id_token_hint` (OIDC RP-Initiated Logout
   * 1.0 §2). That redirect goes through the browser, so the ID token (with the user's claims) would
   * land in its address bar and history: for an AS that requires it (Okta), or to skip Keycloak's
   * sign-out confirmation. Default: false, `client_id` instead: no ID token ever reaches the browser.
   */
  idTokenHint?: boolean | undefined;
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

/** RFC 7591 §2 `token_endpoint_auth_method`: how the backend authenticates at the AS. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** The backend's client registration at the AS. */
export interface ClientConfig {
  id: string;
  /** Default: `client_secret_basic` (RFC 8414 §2: what an AS supports when it names nothing). */
  authMethod?: ClientAuthMethod | undefined;
  /** For `client_secret_basic` and `client_secret_post`. */
  secret?: string | undefined;
  /**
   * For `private_key_jwt` (RFC 7523 §2.2): the private key as PEM (PKCS#8) or JWK (JSON) text.
   * `kid` default: the JWK's; `alg` default: from the key (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA).
   */
  privateKey?: { key: string; kid?: string | undefined; alg?: string | undefined } | undefined;
}

/** The authorization request of sign-in (RFC 6749 §4.1.1, OIDC Core §3.1.2.1). */
export interface LoginConfig {
  /** Default: `openid profile email offline_access` (most ASes issue a refresh token only for offline_access). */
  scope: string;
  /** RFC 8707 resources asked for at sign-in. Default: none. */
  resources: string[];
  /**
   * Further parameters of the authorization request, as the AS documents them: `audience`, `prompt`,
   * `acr_values`, `max_age`, `login_hint`, `ui_locales`… Default: none. Those the backend sets itself
   * (AUTHORIZATION_PARAMS_OF_THE_BACKEND) are refused.
   */
  params?: Record<string, string> | undefined;
}

/** Parameters every authorization request of the backend sets itself, and the setting that owns each. */
export const AUTHORIZATION_PARAMS_OF_THE_BACKEND: Record<string, string> = {
  response_type: 'the code flow (always code)',
  client_id: 'BFF_CLIENT_ID',
  redirect_uri: 'BFF_ORIGIN (<origin>/auth/callback)',
  scope: 'BFF_SCOPE',
  resource: 'BFF_RESOURCES',
  state: 'the backend (one per sign-in)',
  nonce: 'the backend (one per sign-in)',
  code_challenge: 'the backend (PKCE S256)',
  code_challenge_method: 'the backend (PKCE S256)',
  claims: 'the backend (asks for sid and auth_time where the AS takes the claims parameter)',
  request: 'the backend (plain parameters only)',
  request_uri: 'the backend (plain parameters only)',
};

/** Where the app's own pages come from: a dev server behind a proxy, or a built folder. */
export type FrontendConfig = { proxy: string } | { static: string };

export const DEFAULTS = {
  origin: 'http://localhost:3000',
  scope: 'openid profile email offline_access',
  strategy: 'refresh' as DownscopingStrategy,
  expiryMarginSeconds: 30,
  asTimeoutMs: 5000,
  sessionMaxAgeMs: 8 * 3600 * 1000,
};

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
 * Nothing here knows the mock AS: `npm run dev` and the mock BFF pass its values in, as any other
 * AS's values would be (docs/own-authorization-server.md).
 *
 * | variable | default (unset) | set but empty |
 * |---|---|---|
 * | `BFF_ORIGIN` | `http://localhost:3000` | refused |
 * | `BFF_ISSUER` | required; kept verbatim, as discovery must match it exactly (a trailing slash included) | refused |
 * | `BFF_CLIENT_ID` | required | refused |
 * | `BFF_CLIENT_AUTH` | `client_secret_basic`; or `client_secret_post`, `private_key_jwt` | refused |
 * | `BFF_CLIENT_SECRET` | required for `client_secret_basic` and `client_secret_post` | refused |
 * | `BFF_CLIENT_KEY_FILE` | required for `private_key_jwt`: a private key file, PEM (PKCS#8) or JWK (JSON) | refused |
 * | `BFF_CLIENT_KEY_ID`, `BFF_CLIENT_KEY_ALG` | the JWK's `kid`; the algorithm of the key's type | refused |
 * | `BFF_SCOPE` | `openid profile email offline_access` | refused: sign-in needs a scope |
 * | `BFF_RESOURCES` (space-separated) | none | none |
 * | `BFF_AUTHORIZATION_PARAMS` | none; more authorization request parameters in query syntax, e.g. `audience=https://api.example.com&prompt=consent` | none |
 * | `BFF_DOWNSCOPING` | `refresh` (or `exchange`) | refused |
 * | `BFF_EXPIRY_MARGIN_SECONDS` | `30` | refused |
 * | `BFF_AS_TIMEOUT_MS` | `5000` | refused |
 * | `BFF_DATA_DIR` | `<reference-backend>/.data`; `memory` keeps everything in memory | refused |
 * | `BFF_DATA_KEY` | a key generated into `<BFF_DATA_DIR>/bff.key`; else 32 bytes, base64url or hex | refused |
 * | `BFF_STORE` (or `REDIS_URL`) | none: the store is lowdb in `BFF_DATA_DIR`; `redis://…` or `rediss://…`: a Redis shared by every instance (give them one `BFF_DATA_KEY`) | refused |
 * | `BFF_HOST` | `127.0.0.1` (the listen address, apart from the public `BFF_ORIGIN`) | refused |
 * | `BFF_PORT` | the port of `BFF_ORIGIN` | refused |
 * | `BFF_TRUST_PROXY` | off; `1` behind a TLS-terminating proxy | off |
 * | `BFF_LOGOUT_ID_TOKEN_HINT` | off (sign-out sends `client_id`); `1` sends the ID token as `id_token_hint` | off |
 * | `BFF_SPA_DIR` | the sample SPA (`<repo>/sample-spa/dist`); a folder: a built app served with a history fallback; `none`: a plain home page | a plain home page |
 * | `BFF_SPA_SETTINGS` | none; JSON: the resources and personas the sample SPA shows (`npm run dev` passes the mock AS's) | none |
 * | `BFF_CONNECT_SRC` (space-separated origins) | the origins of the resources | only the app's own origin |
 * | `BFF_FRONTEND` | none; the URL of a dev server to proxy every other request to (e.g. http://localhost:5173) | none |
 * | `BFF_MOCK` | off; `1` turns mock mode on: the development-only scenario knobs under `/_mock` (loopback http only) | off |
 * | `BFF_LOG_LEVEL` | `info`; or `error`, `warn`, `debug` (a line per bff-token and bff-sessioninfo outcome) | refused |
 * | `BFF_MOCK_AS_CONTROL` | none; in mock mode, the mock AS's control routes (e.g. http://localhost:4000/_mock) for the AS and persona knobs | none |
 */
export function configFromEnv(env: Record<string, string | undefined>, root: string): ServerSettings {
  const origin = (setting(env, 'BFF_ORIGIN', 'unset it for the default') ?? DEFAULTS.origin).replace(/\/$/, '');
  if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
    throw new TypeError(`BFF_ORIGIN must be an origin such as http://localhost:3000, got "${origin}"`);
  }
  const url = new URL(origin);
  // OIDC Discovery 1.0 §4.3: the issuer in the metadata must be identical to the one configured, so
  // it is kept verbatim (a trailing slash included, as in https://tenant.example.com/).
  const issuer = required(env, 'BFF_ISSUER', "the authorization server's issuer, e.g. https://login.example.com");
  if (!URL.canParse(issuer) || !/^https?:$/.test(new URL(issuer).protocol)) {
    throw new TypeError(`BFF_ISSUER must be the authorization server's issuer URL, got "${issuer}"`);
  }
  const strategy = setting(env, 'BFF_DOWNSCOPING', '"refresh" or "exchange"') ?? DEFAULTS.strategy;
  if (strategy !== 'refresh' && strategy !== 'exchange') {
    throw new TypeError(`BFF_DOWNSCOPING must be "refresh" or "exchange", got "${strategy}"`);
  }
  const frontend = frontendFromEnv(env);
  // Set but empty: sign-in asks for no resource, and bff-token has no default resource.
  const resources = (env.BFF_RESOURCES ?? '').split(/\s+/).filter(Boolean);
  const connectSrc = env.BFF_CONNECT_SRC === undefined ? undefined : origins(env.BFF_CONNECT_SRC, 'BFF_CONNECT_SRC');
  const scope = setting(env, 'BFF_SCOPE', 'sign-in needs a scope (e.g. "openid"); unset it for the default');
  const host = setting(env, 'BFF_HOST', 'unset it to listen on 127.0.0.1');
  const listen = setting(env, 'BFF_PORT', "unset it to listen on BFF_ORIGIN's port");
  const dataDir = setting(env, 'BFF_DATA_DIR', 'a folder, or "memory"; unset it for the default');
  const dataKey = setting(env, 'BFF_DATA_KEY', 'unset it to generate one');
  const redisUrl = setting(env, 'BFF_STORE', 'a redis:// URL; unset it for the lowdb store') ?? env.REDIS_URL?.trim();
  if (redisUrl !== undefined && redisUrl !== '' && !/^rediss?:\/\/./.test(redisUrl)) {
    throw new TypeError(
      `BFF_STORE (or REDIS_URL) must be a Redis URL such as redis://127.0.0.1:6379, got "${redisUrl}"; unset it for the lowdb store`,
    );
  }
  const logLevel = setting(env, 'BFF_LOG_LEVEL', 'unset it for the default (info)');
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new TypeError(`BFF_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const mock = env.BFF_MOCK === '1';
  // Mock mode is for this machine only: a listen address beyond loopback is refused too.
  if (mock && host && !isLoopback(host)) {
    throw new TypeError(
      `BFF_MOCK (mock mode) is for local development only: BFF_HOST ${host} is not a loopback address. ` +
        'Turn mock mode off (BFF_MOCK=0; npm run dev turns it on), or listen on 127.0.0.1.',
    );
  }
  const control = env.BFF_MOCK_AS_CONTROL?.trim() || undefined;
  if (control && (!URL.canParse(control) || !/^https?:$/.test(new URL(control).protocol))) {
    throw new TypeError(`BFF_MOCK_AS_CONTROL must be the mock AS's control URL, e.g. http://localhost:4000/_mock`);
  }
  return {
    host: host ?? '127.0.0.1',
    port: listen ? listenPort(listen) : Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    config: {
      origin,
      issuer,
      client: clientFromEnv(env),
      login: {
        scope: scope ?? DEFAULTS.scope,
        resources,
        ...(env.BFF_AUTHORIZATION_PARAMS?.trim() ? { params: authorizationParams(env.BFF_AUTHORIZATION_PARAMS) } : {}),
      },
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
      redisUrl: redisUrl || undefined,
      trustProxy: env.BFF_TRUST_PROXY === '1',
      idTokenHint: env.BFF_LOGOUT_ID_TOKEN_HINT === '1',
      ...(logLevel ? { logLevel: logLevel as LogLevel } : {}),
      frontend,
      connectSrc,
      mock: mock ? { enabled: true, ...(control ? { control } : {}) } : undefined,
      spa:
        env.BFF_SPA_DIR === 'none' || env.BFF_SPA_DIR?.trim() === '' || frontend
          ? undefined
          : {
              dir: env.BFF_SPA_DIR ?? join(root, '..', 'sample-spa', 'dist'),
              docsDir: join(root, '..', 'docs'),
              settings: spaSettings(env.BFF_SPA_SETTINGS),
            },
    },
  };
}

/**
 * A complete configuration from the settings that have no default (origin, issuer, client, sign-in
 * request), with every other default as configFromEnv applies it. For tests and tools.
 */
export function withDefaults(
  required: Pick<BackendConfig, 'origin' | 'issuer' | 'client'> & { login?: Partial<LoginConfig> | undefined },
): BackendConfig {
  const resources = required.login?.resources ?? [];
  return {
    ...required,
    login: { scope: DEFAULTS.scope, ...required.login, resources },
    tokens: {
      strategy: DEFAULTS.strategy,
      expiryMarginSeconds: DEFAULTS.expiryMarginSeconds,
      asTimeoutMs: DEFAULTS.asTimeoutMs,
      defaultResource: resources[0],
    },
    sessionMaxAgeMs: DEFAULTS.sessionMaxAgeMs,
  };
}

/** A required setting: unset or empty is refused, saying what it is. */
function required(env: Record<string, string | undefined>, name: string, what: string): string {
  const value = setting(env, name, `it is required: ${what}`);
  if (value === undefined) throw new TypeError(`${name} is not set: it is required: ${what}`);
  return value;
}

const AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** The client registration: its id, and what its authentication method needs (a secret, or a key file). */
function clientFromEnv(env: Record<string, string | undefined>): ClientConfig {
  const id = required(env, 'BFF_CLIENT_ID', 'the client id this backend is registered under at the AS');
  const authMethod = (setting(env, 'BFF_CLIENT_AUTH', `one of ${AUTH_METHODS.join(', ')}`) ??
    'client_secret_basic') as ClientAuthMethod;
  if (!AUTH_METHODS.includes(authMethod)) {
    throw new TypeError(`BFF_CLIENT_AUTH must be one of ${AUTH_METHODS.join(', ')}, got "${authMethod}"`);
  }
  if (authMethod !== 'private_key_jwt') {
    const secret = required(env, 'BFF_CLIENT_SECRET', `the client secret (BFF_CLIENT_AUTH is ${authMethod})`);
    return { id, authMethod, secret };
  }
  const file = required(
    env,
    'BFF_CLIENT_KEY_FILE',
    'the private key file, PEM (PKCS#8) or JWK (BFF_CLIENT_AUTH is private_key_jwt)',
  );
  let key: string;
  try {
    key = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TypeError(`BFF_CLIENT_KEY_FILE ${file} cannot be read: ${(err as Error).message}`);
  }
  const kid = setting(env, 'BFF_CLIENT_KEY_ID', "unset it to use the JWK's kid");
  const alg = setting(env, 'BFF_CLIENT_KEY_ALG', "unset it to use the key type's algorithm");
  return { id, authMethod, privateKey: { key, ...(kid ? { kid } : {}), ...(alg ? { alg } : {}) } };
}

/** `BFF_AUTHORIZATION_PARAMS`: query syntax; a parameter the backend sets itself is refused, naming its owner. */
export function authorizationParams(value: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, v] of new URLSearchParams(value.trim().replace(/^\?/, ''))) {
    const owner = AUTHORIZATION_PARAMS_OF_THE_BACKEND[name];
    if (owner) throw new TypeError(`BFF_AUTHORIZATION_PARAMS cannot set "${name}": it is set by ${owner}`);
    if (name in params) throw new TypeError(`BFF_AUTHORIZATION_PARAMS sets "${name}" twice`);
    params[name] = v;
  }
  return params;
}

/** `BFF_SPA_SETTINGS`: the JSON the sample SPA shows (resources and personas). */
function spaSettings(value: string | undefined): unknown {
  if (!value?.trim()) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new TypeError("BFF_SPA_SETTINGS must be JSON (npm run dev passes the mock AS seed's), or unset");
  }
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
