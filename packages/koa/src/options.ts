/**
 * The options of `createTmiBff`, each with its default, validated once at construction: unknown
 * keys and wrong types throw a coded `TypeError` (ERR_INVALID_ARG_VALUE / ERR_INVALID_ARG_TYPE).
 */
import type { Context } from 'koa';
import { CSRF_HEADER, FRESH_PARAMETER, SPEC, WELL_KNOWN } from './spec.js';
import type { BffSession, HeldToken, TokenOutcome, TokenRequest } from './tokens/types.js';

export interface Logger {
  debug(event: string, data?: Record<string, unknown>): void;
  /** A failure the client did not cause (the AS or the store not answering, D6). Default: `error`. */
  warn?(event: string, data?: Record<string, unknown>): void;
  error(event: string, data?: Record<string, unknown>): void;
}

/** Where bff-token gets its tokens. `TokenService` is the default implementation. */
export interface TokenSource {
  getToken(session: BffSession, request: TokenRequest, ctx: Context): Promise<TokenOutcome>;
  /** Seconds left on a token, ≥ 1 (TMI-19). */
  expiresIn(token: HeldToken): number;
}

export interface TmiBffOptions {
  /**
   * Acknowledges the pinned draft revision: `SPEC.draft`. Default: unset, and a notice is logged
   * once. Another value throws, because this package implements only that revision.
   */
  ack?: string;
  /** The app's own origin (scheme://host[:port]); the only `Origin` the endpoints accept (D4). Required. */
  origin: string;
  /**
   * Finds the request's session (TMI-BFF-01 §3, TMI-08). Return undefined when there is none, it
   * expired, or its cookie does not verify. Required.
   */
  getSession: (ctx: Context) => Promise<BffSession | undefined>;
  /** Where tokens come from. Required; usually a `TokenService`. */
  tokens: TokenSource;
  /**
   * The bff-sessioninfo body (TMI-BFF-01 §5.2, D12). Never put a token in it.
   * Default: the session's claims plus `exp`, the session's own end, in seconds.
   */
  sessionInfo?: (session: BffSession, ctx: Context) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Endpoint paths (D1). Default: `WELL_KNOWN`. */
  paths?: { bffToken?: string; bffSessionInfo?: string };
  /** D4: the CSRF header's name. Default: `TMI-BFF-CSRF`. */
  csrfHeader?: string;
  /** D2: bff-token also over POST with a form body. Default: `{ enabled: true }`. */
  post?: { enabled: boolean };
  /** D11: the extension parameter that asks for a fresh token. Default: `fresh`. */
  freshParameter?: string;
  /** Default: nothing is logged. */
  logger?: Logger;
}

export interface ResolvedOptions extends Required<Omit<TmiBffOptions, 'ack' | 'paths' | 'post'>> {
  paths: { bffToken: string; bffSessionInfo: string };
  post: { enabled: boolean };
}

const KNOWN = new Set([
  'ack',
  'origin',
  'getSession',
  'tokens',
  'sessionInfo',
  'paths',
  'csrfHeader',
  'post',
  'freshParameter',
  'logger',
]);

function coded(message: string, code: 'ERR_INVALID_ARG_VALUE' | 'ERR_INVALID_ARG_TYPE'): TypeError {
  return Object.assign(new TypeError(message), { code });
}

const silent: Logger = { debug() {}, error() {} };

/** D12 default: the user's claims and the session's end. */
export function defaultSessionInfo(session: BffSession): Record<string, unknown> {
  return {
    ...session.claims,
    ...(session.expiresAt ? { exp: Math.floor(session.expiresAt / 1000) } : {}),
  };
}

function checkPath(name: string, value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw coded(`options.paths.${name} must be a path starting with "/"`, 'ERR_INVALID_ARG_VALUE');
  }
  return value;
}

export function resolveOptions(options: TmiBffOptions): ResolvedOptions {
  if (!options || typeof options !== 'object') throw coded('options must be an object', 'ERR_INVALID_ARG_TYPE');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw coded(`unknown option "${key}"`, 'ERR_INVALID_ARG_VALUE');
  }
  if (options.ack !== undefined && options.ack !== SPEC.draft) {
    throw coded(`this package implements ${SPEC.draft}; options.ack names "${options.ack}"`, 'ERR_INVALID_ARG_VALUE');
  }
  if (
    typeof options.origin !== 'string' ||
    !URL.canParse(options.origin) ||
    new URL(options.origin).origin !== options.origin
  ) {
    throw coded('options.origin must be an origin such as "https://app.example"', 'ERR_INVALID_ARG_VALUE');
  }
  if (typeof options.getSession !== 'function')
    throw coded('options.getSession must be a function', 'ERR_INVALID_ARG_TYPE');
  if (typeof options.tokens?.getToken !== 'function' || typeof options.tokens.expiresIn !== 'function') {
    throw coded('options.tokens must have getToken() and expiresIn()', 'ERR_INVALID_ARG_TYPE');
  }
  const logger = options.logger ?? silent;
  if (options.ack === undefined) {
    logger.debug('tmi-bff.notice', { message: `implementing ${SPEC.draft}; pass { ack: SPEC.draft } to acknowledge` });
  }
  return {
    origin: options.origin,
    getSession: options.getSession,
    tokens: options.tokens,
    sessionInfo: options.sessionInfo ?? defaultSessionInfo,
    paths: {
      bffToken: checkPath('bffToken', options.paths?.bffToken ?? WELL_KNOWN.bffToken),
      bffSessionInfo: checkPath('bffSessionInfo', options.paths?.bffSessionInfo ?? WELL_KNOWN.bffSessionInfo),
    },
    csrfHeader: options.csrfHeader ?? CSRF_HEADER,
    post: { enabled: options.post?.enabled ?? true },
    freshParameter: options.freshParameter ?? FRESH_PARAMETER,
    logger,
  };
}
