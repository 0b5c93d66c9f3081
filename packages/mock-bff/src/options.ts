/**
 * The options of `startMockBff`, each with its default, validated once before anything starts:
 * unknown keys and wrong types throw a coded `TypeError` (ERR_INVALID_ARG_VALUE /
 * ERR_INVALID_ARG_TYPE) that names the option.
 */
import type { Seed } from '@tmi-bff/mock-as';

export interface MockBffOptions {
  /**
   * Proxy mode: the URL of your app's dev server (e.g. `http://localhost:5173`). Every request that
   * is not one of the BFF's own routes is forwarded to it. Default: none.
   */
  frontend?: string;
  /** Static mode: the folder of your built app, served with an SPA history fallback. Default: none. */
  static?: string;
  /**
   * The BFF's port on 127.0.0.1; the app's origin is `http://localhost:<port>`.
   * Default: 0, an ephemeral port.
   */
  port?: number;
  /** The mock AS's port on 127.0.0.1. Default: 0, an ephemeral port. */
  asPort?: number;
  /** The demo APIs' port on 127.0.0.1. Default: 0, an ephemeral port. */
  apiPort?: number;
  /**
   * The mock AS's world: a seed file path (its `${BFF_ORIGIN}`, `${API_ORIGIN}` and `${ISSUER}`
   * placeholders take the bound addresses), or a validated seed used as is (its redirect URIs must
   * then name the app's origin, so give a fixed `port`). Default: the mock AS's own seed file.
   */
  seed?: string | Seed;
  /** Where the log lines of all three servers go. Default: nowhere. */
  log?: (line: string) => void;
}

export interface ResolvedOptions {
  frontend: string | undefined;
  static: string | undefined;
  port: number;
  asPort: number;
  apiPort: number;
  seed: string | Seed | undefined;
  log: (line: string) => void;
}

const KNOWN = new Set(['frontend', 'static', 'port', 'asPort', 'apiPort', 'seed', 'log']);

function coded(message: string, code: 'ERR_INVALID_ARG_VALUE' | 'ERR_INVALID_ARG_TYPE'): TypeError {
  return Object.assign(new TypeError(message), { code });
}

function port(name: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number') throw coded(`options.${name} must be a number`, 'ERR_INVALID_ARG_TYPE');
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw coded(`options.${name} must be an integer from 0 to 65535, got ${value}`, 'ERR_INVALID_ARG_VALUE');
  }
  return value;
}

function frontendUrl(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw coded('options.frontend must be a string', 'ERR_INVALID_ARG_TYPE');
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw coded(
      `options.frontend must be an http(s) URL such as http://localhost:5173, got "${value}"`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return value;
}

export function resolveOptions(options: MockBffOptions = {}): ResolvedOptions {
  if (!options || typeof options !== 'object') throw coded('options must be an object', 'ERR_INVALID_ARG_TYPE');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw coded(`unknown option "${key}"`, 'ERR_INVALID_ARG_VALUE');
  }
  const frontend = frontendUrl(options.frontend);
  if (options.static !== undefined && (typeof options.static !== 'string' || options.static === '')) {
    throw coded('options.static must be a folder path', 'ERR_INVALID_ARG_TYPE');
  }
  if (frontend !== undefined && options.static !== undefined) {
    throw coded('options.frontend and options.static exclude each other: pick one', 'ERR_INVALID_ARG_VALUE');
  }
  const seed = options.seed;
  if (seed !== undefined && typeof seed !== 'string' && (typeof seed !== 'object' || seed === null)) {
    throw coded('options.seed must be a seed file path or a seed object', 'ERR_INVALID_ARG_TYPE');
  }
  if (options.log !== undefined && typeof options.log !== 'function') {
    throw coded('options.log must be a function', 'ERR_INVALID_ARG_TYPE');
  }
  return {
    frontend,
    static: options.static,
    port: port('port', options.port),
    asPort: port('asPort', options.asPort),
    apiPort: port('apiPort', options.apiPort),
    seed,
    log: options.log ?? (() => {}),
  };
}
