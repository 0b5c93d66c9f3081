/**
 * The settings the backend runs with, one line each, for the start-up log: what every setting
 * resolved to and whether it was set or is the default. A secret shows only whether it is there:
 *
 *   BFF_ISSUER                 https://as.example.com/                    (set)
 *   BFF_CLIENT_AUTH            client_secret_basic                        (default)
 *   BFF_CLIENT_SECRET          <set>                                      (set)
 */
import { join } from 'node:path';
import { type BackendConfig, DEFAULTS } from './config.js';

export interface EffectiveConfigurationOptions {
  /**
   * The environment the configuration was read from (`process.env`): a setting is `set` when its
   * variable is. Default: none; then a value equal to its declared default counts as the default.
   */
  env?: Record<string, string | undefined> | undefined;
}

interface Row {
  /** The environment variable, or a plain label for a setting no variable sets. */
  name: string;
  value: string;
  /** The variables that set it, when `options.env` tells. */
  env?: string[];
  /** Whether the value is the default, where the configuration alone tells. */
  isDefault?: boolean;
}

const SET = '<set>';
const NONE = '(none)';

/** A URL without the password of its userinfo, if it has one. */
function withoutPassword(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  if (!url.username && !url.password) return value;
  return `${url.protocol}//<redacted>@${url.host}${url.pathname}${url.search}`;
}

/** One line per value: control characters (a newline in a value) never start a line of their own. */
const oneLine = (value: string) => value.replace(/\p{Cc}/gu, ' ');

function rows(config: BackendConfig): Row[] {
  const { client, login } = config;
  const method = client.authMethod ?? 'client_secret_basic';
  const params = Object.entries(login.params ?? {});
  const resourceOrigins = [
    ...new Set(login.resources.filter((r) => URL.canParse(r)).map((r) => new URL(r).origin)),
  ].filter((o) => o !== 'null');
  const connectSrc = config.connectSrc ?? resourceOrigins;
  const frontend = config.frontend
    ? 'proxy' in config.frontend
      ? `proxy to ${withoutPassword(config.frontend.proxy)}`
      : `the app in ${config.frontend.static}`
    : config.spa
      ? `the sample SPA in ${config.spa.dir}`
      : 'none: a plain home page';
  const kept = (what: string) => (config.dataDir ? `generated, kept in ${what}` : 'generated per process (in memory)');
  const secretMethod = method === 'client_secret_basic' || method === 'client_secret_post';
  const keyMethod = method === 'private_key_jwt';

  return [
    {
      name: 'BFF_ISSUER',
      value: withoutPassword(config.issuer),
      env: ['BFF_ISSUER', 'MOCK_AS_ISSUER'],
      isDefault: false,
    },
    { name: 'BFF_CLIENT_ID', value: client.id, env: ['BFF_CLIENT_ID'], isDefault: false },
    {
      name: 'BFF_CLIENT_AUTH',
      value: method,
      env: ['BFF_CLIENT_AUTH'],
      isDefault: client.authMethod === undefined,
    },
    ...(secretMethod || client.secret !== undefined
      ? [
          {
            name: 'BFF_CLIENT_SECRET',
            value: client.secret === undefined ? NONE : SET,
            env: ['BFF_CLIENT_SECRET'],
            isDefault: client.secret === undefined,
          },
        ]
      : []),
    ...(keyMethod || client.privateKey
      ? [
          {
            name: 'BFF_CLIENT_KEY_FILE',
            value: client.privateKey ? SET : NONE,
            env: ['BFF_CLIENT_KEY_FILE'],
            isDefault: !client.privateKey,
          },
          {
            name: 'BFF_CLIENT_KEY_ID',
            value: client.privateKey?.kid ?? "the key's own",
            env: ['BFF_CLIENT_KEY_ID'],
            isDefault: client.privateKey?.kid === undefined,
          },
          {
            name: 'BFF_CLIENT_KEY_ALG',
            value: client.privateKey?.alg ?? "from the key's type",
            env: ['BFF_CLIENT_KEY_ALG'],
            isDefault: client.privateKey?.alg === undefined,
          },
        ]
      : []),
    {
      name: 'BFF_SCOPE',
      value: login.scope,
      env: ['BFF_SCOPE'],
      isDefault: login.scope === DEFAULTS.scope,
    },
    {
      name: 'BFF_RESOURCES',
      value: login.resources.join(' ') || NONE,
      env: ['BFF_RESOURCES'],
      isDefault: login.resources.length === 0,
    },
    {
      name: 'BFF_AUTHORIZATION_PARAMS',
      value: params.length ? new URLSearchParams(params).toString() : NONE,
      env: ['BFF_AUTHORIZATION_PARAMS'],
      isDefault: params.length === 0,
    },
    {
      name: 'BFF_DOWNSCOPING',
      value: config.tokens.strategy,
      env: ['BFF_DOWNSCOPING'],
      isDefault: config.tokens.strategy === DEFAULTS.strategy,
    },
    {
      name: 'BFF_EXPIRY_MARGIN_SECONDS',
      value: String(config.tokens.expiryMarginSeconds),
      env: ['BFF_EXPIRY_MARGIN_SECONDS'],
      isDefault: config.tokens.expiryMarginSeconds === DEFAULTS.expiryMarginSeconds,
    },
    {
      name: 'BFF_AS_TIMEOUT_MS',
      value: String(config.tokens.asTimeoutMs),
      env: ['BFF_AS_TIMEOUT_MS'],
      isDefault: config.tokens.asTimeoutMs === DEFAULTS.asTimeoutMs,
    },
    {
      name: 'session max age',
      value: `${config.sessionMaxAgeMs} ms (${+(config.sessionMaxAgeMs / 3600_000).toFixed(2)} h)`,
      isDefault: config.sessionMaxAgeMs === DEFAULTS.sessionMaxAgeMs,
    },
    {
      name: 'BFF_STORE',
      value: config.redisUrl ? withoutPassword(config.redisUrl) : config.dataDir ? 'lowdb' : 'memory',
      env: ['BFF_STORE', 'REDIS_URL'],
      isDefault: !config.redisUrl,
    },
    {
      name: 'BFF_DATA_DIR',
      value: config.dataDir ?? 'memory (nothing kept across restarts)',
      env: ['BFF_DATA_DIR'],
    },
    {
      name: 'BFF_DATA_KEY',
      value: config.dataKey ? SET : kept(join(config.dataDir ?? '', 'bff.key')),
      env: ['BFF_DATA_KEY'],
      isDefault: !config.dataKey,
    },
    {
      name: 'cookie keys',
      value: config.cookieKeys?.length ? `${SET} (${config.cookieKeys.length})` : kept('the store'),
      isDefault: !config.cookieKeys?.length,
    },
    { name: 'BFF_ORIGIN', value: config.origin, env: ['BFF_ORIGIN'], isDefault: config.origin === DEFAULTS.origin },
    {
      name: 'BFF_FRONTEND',
      value: frontend,
      env: ['BFF_FRONTEND', 'BFF_SPA_DIR'],
      ...(config.frontend ? { isDefault: false } : {}),
    },
    {
      name: 'BFF_CONNECT_SRC',
      value: connectSrc.length ? connectSrc.join(' ') : "(only the app's own origin)",
      env: ['BFF_CONNECT_SRC'],
      isDefault: config.connectSrc === undefined,
    },
    {
      name: 'BFF_TRUST_PROXY',
      value: config.trustProxy ? 'on' : 'off',
      env: ['BFF_TRUST_PROXY'],
      isDefault: !config.trustProxy,
    },
    {
      name: 'BFF_LOGOUT_ID_TOKEN_HINT',
      value: config.idTokenHint ? 'on: sign-out sends the ID token' : 'off: sign-out sends client_id',
      env: ['BFF_LOGOUT_ID_TOKEN_HINT'],
      isDefault: !config.idTokenHint,
    },
    {
      name: 'BFF_LOG_LEVEL',
      value: config.logLevel ?? 'info',
      env: ['BFF_LOG_LEVEL'],
      isDefault: config.logLevel === undefined,
    },
    {
      name: 'BFF_MOCK',
      value: config.mock?.enabled ? 'on' : 'off',
      env: ['BFF_MOCK'],
      isDefault: !config.mock?.enabled,
    },
  ];
}

/**
 * The effective configuration as one block of text: a line per setting, `NAME  value  (default|set)`.
 * Secrets (the client secret, the private key, the data key, the cookie keys) show as `<set>`, never
 * any part of their value.
 */
export function effectiveConfiguration(config: BackendConfig, options: EffectiveConfigurationOptions = {}): string {
  const { env } = options;
  const lines = rows(config).map((row) => {
    // Without the environment, a value whose default depends on it (the data folder) has no mark.
    const isDefault = env && row.env ? row.env.every((name) => env[name] === undefined) : row.isDefault;
    const source = isDefault === undefined ? '' : isDefault ? '(default)' : '(set)';
    return { name: row.name, value: oneLine(row.value), source };
  });
  const nameWidth = Math.max(...lines.map((l) => l.name.length));
  const valueWidth = Math.min(60, Math.max(...lines.map((l) => l.value.length)));
  return [
    'effective configuration:',
    ...lines.map((l) => `  ${l.name.padEnd(nameWidth)}  ${l.value.padEnd(valueWidth)}  ${l.source}`.trimEnd()),
  ].join('\n');
}
