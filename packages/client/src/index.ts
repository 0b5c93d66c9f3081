/**
 * @tmi-bff/client: the frontend side of draft-bertocci-oauth2-tmi-bff-01, for the browser.
 *
 *   const bff = createBffClient();
 *   const me = await bff.getSessionInfo();
 *   const res = await bff.fetch('https://api.example/stocks/quotes', { resource: 'https://api.example/stocks', scope: 'stocks:read' });
 *
 * - Tokens live in this module's memory only, never in browser storage (TMI-BFF-01 §8.1, TMI-33).
 * - Concurrent identical requests share one call to bff-token; a token is reused until its
 *   `expires_in` (minus a margin) runs out (TMI-42).
 * - Every call sends the CSRF header of the backend's profile (D4), same-origin with cookies (TMI-41).
 * - After a 401 `invalid_token` from a resource server, one fresh token is asked for (`fresh=1`, D11),
 *   and the request is retried once (TMI-45). Every other answer is returned as it is, as `fetch`
 *   does: a 503 (the resource server cannot reach its authorization server) is an outage, not a
 *   rejected token, so no fresh token is asked for.
 * - Access tokens are opaque here: nothing decodes them (TMI-43).
 *
 * @see https://datatracker.ietf.org/doc/html/draft-bertocci-oauth2-tmi-bff-01
 */
import { BffError, BffProtocolError, BffResponseError, BffTransportError, ERROR_CODES } from './errors.js';

export {
  BffError,
  BffProtocolError,
  BffResponseError,
  BffTransportError,
  ERROR_CODES,
  type ErrorCode,
  type Remediation,
} from './errors.js';

/** The draft revision this SDK speaks. */
export const SPEC_DRAFT = 'draft-bertocci-oauth2-tmi-bff-01';

/** Defaults: TMI-BFF-01 §3 paths, the profile's CSRF header (D4) and fresh parameter (D11). */
export const DEFAULTS = Object.freeze({
  tokenEndpoint: '/.well-known/bff-token',
  sessionInfoEndpoint: '/.well-known/bff-sessioninfo',
  csrfHeader: 'TMI-BFF-CSRF',
  expiryMarginSeconds: 30,
});

/** D1: the `<meta name>` values a backend uses to advertise its paths. */
export const META_NAMES = Object.freeze({
  tokenEndpoint: 'tmi-bff-token-endpoint',
  sessionInfoEndpoint: 'tmi-bff-sessioninfo-endpoint',
});

/** The bff-token response (TMI-BFF-01 §4.2). */
export interface TokenResponse {
  access_token: string;
  /** Seconds left when the backend answered. */
  expires_in: number;
  scope?: string;
}

export interface TokenRequest {
  /** RFC 8707 resource indicator(s). */
  resource?: string | string[] | undefined;
  /** Scope tokens, as a space-delimited string or a list. */
  scope?: string | string[] | undefined;
}

export interface BffClientOptions {
  /** bff-token path or URL. Default: `<meta name="tmi-bff-token-endpoint">`, else `/.well-known/bff-token`. */
  tokenEndpoint?: string;
  /** bff-sessioninfo path or URL. Default: its `<meta>`, else `/.well-known/bff-sessioninfo`. */
  sessionInfoEndpoint?: string;
  /** The CSRF header's name (D4). Default: `TMI-BFF-CSRF` (value `1`). */
  csrfHeader?: string;
  /** A cached token is not used this close to its expiry, in seconds. Default: 30. */
  expiryMarginSeconds?: number;
  /** `fetch` to use. Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Where the `<meta>` tags are read. Default: `globalThis.document`, when there is one. */
  document?: Pick<Document, 'querySelector'>;
  /** Clock, for tests. Default: Date.now. */
  now?: () => number;
}

export interface BffClient {
  /** An access token for the resource and scope (from memory when it still has time left). */
  getToken(request?: TokenRequest & { fresh?: boolean | undefined }): Promise<TokenResponse>;
  /** Who is signed in (TMI-BFF-01 §5). */
  getSessionInfo(): Promise<Record<string, unknown>>;
  /**
   * `fetch` with `Authorization: Bearer` for the resource and scope; after a 401 `invalid_token`
   * it gets a fresh token once and retries once (D11, TMI-45).
   *
   * Resolves with the API's response whatever its status, as `fetch` does, except that it throws
   * `TMI_BFF_TOKEN_REJECTED` when the fresh token is rejected too. An outage is a response, not an
   * error: a 503 (`temporarily_unavailable` when the API cannot fetch its authorization server's
   * keys) comes back untouched, with its `Retry-After`, and the token is kept: the token is not at
   * fault, so none is fetched again. Getting the token may throw any of `ERROR_CODES`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6750.html#section-3.1
   */
  fetch(input: string | URL, init?: RequestInit & TokenRequest): Promise<Response>;
  /** Forgets every token held (e.g. after signing out). */
  clear(): void;
}

interface Held {
  token: TokenResponse;
  /** Epoch ms. */
  expiresAt: number;
}

const list = (v: string | string[] | undefined, split: boolean): string[] =>
  [
    ...new Set((Array.isArray(v) ? v : v ? [v] : []).flatMap((s) => (split ? s.split(' ') : [s])).filter(Boolean)),
  ].sort();

function metaContent(doc: BffClientOptions['document'], name: string): string | undefined {
  return doc?.querySelector(`meta[name="${name}"]`)?.getAttribute('content') || undefined;
}

/** Reads a Bearer challenge's `error` (RFC 6750 §3). */
function bearerError(res: Response): string | undefined {
  return /error="([^"]*)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1];
}

const OPTION_TYPES: Record<keyof BffClientOptions, 'string' | 'number' | 'function' | 'object'> = {
  tokenEndpoint: 'string',
  sessionInfoEndpoint: 'string',
  csrfHeader: 'string',
  expiryMarginSeconds: 'number',
  fetch: 'function',
  document: 'object',
  now: 'function',
};

/**
 * Refuses a wrong option when the client is made, not at its first call: a `TypeError` that names
 * the option and what it takes (an unknown name is most often a typo of a known one).
 */
function checkOptions(options: BffClientOptions): void {
  const fail = (message: string): never => {
    throw new TypeError(`createBffClient: ${message}`);
  };
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  for (const [name, value] of Object.entries(options)) {
    const type = OPTION_TYPES[name as keyof BffClientOptions];
    if (!type) fail(`unknown option "${name}"; the options are ${Object.keys(OPTION_TYPES).join(', ')}`);
    if (value === undefined) continue;
    if (typeof value !== type || value === null)
      fail(
        `options.${name} must be ${type === 'object' ? 'an' : 'a'} ${type}, not ${value === null ? 'null' : typeof value}`,
      );
  }
  const { tokenEndpoint, sessionInfoEndpoint, csrfHeader, expiryMarginSeconds, document } = options;
  for (const [name, url] of [
    ['tokenEndpoint', tokenEndpoint],
    ['sessionInfoEndpoint', sessionInfoEndpoint],
  ] as const) {
    if (url !== undefined && !/^(\/(?!\/)|https?:\/\/)\S*$/.test(url))
      fail(`options.${name} must be a path ("/.well-known/…") or an http(s) URL, not "${url}"`);
  }
  // RFC 9110 §5.1: a field name is a token.
  if (csrfHeader !== undefined && !/^[!#$%&'*+.^_`|~\w-]+$/.test(csrfHeader))
    fail(`options.csrfHeader must be a header name (RFC 9110 token), not "${csrfHeader}"`);
  if (expiryMarginSeconds !== undefined && !(Number.isFinite(expiryMarginSeconds) && expiryMarginSeconds >= 0))
    fail(`options.expiryMarginSeconds must be a number of seconds ≥ 0, not ${expiryMarginSeconds}`);
  if (document !== undefined && typeof document.querySelector !== 'function')
    fail('options.document must have querySelector (a Document)');
}

export function createBffClient(options: BffClientOptions = {}): BffClient {
  checkOptions(options);
  const doc = options.document ?? (globalThis as { document?: Document }).document;
  const tokenEndpoint = options.tokenEndpoint ?? metaContent(doc, META_NAMES.tokenEndpoint) ?? DEFAULTS.tokenEndpoint;
  const sessionInfoEndpoint =
    options.sessionInfoEndpoint ?? metaContent(doc, META_NAMES.sessionInfoEndpoint) ?? DEFAULTS.sessionInfoEndpoint;
  const csrfHeader = options.csrfHeader ?? DEFAULTS.csrfHeader;
  const marginMs = (options.expiryMarginSeconds ?? DEFAULTS.expiryMarginSeconds) * 1000;
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));

  // TMI-BFF-01 §8.1 (TMI-33): module memory only.
  const tokens = new Map<string, Held>();
  const inflight = new Map<string, Promise<TokenResponse>>();

  /** GET a BFF endpoint: same origin, cookies, the CSRF header (D4, TMI-41). */
  async function call(url: string): Promise<unknown> {
    let res: Response;
    try {
      res = await doFetch(url, { method: 'GET', credentials: 'same-origin', headers: { [csrfHeader]: '1' } });
    } catch (err) {
      throw new BffTransportError(`${url} could not be reached`, { cause: err });
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw new BffProtocolError(`${url} answered ${res.status} without JSON`, { cause: err });
    }
    if (!res.ok) {
      const e = body as { error?: unknown; error_description?: unknown; remediation?: unknown };
      if (typeof e?.error !== 'string')
        throw new BffProtocolError(`${url} answered ${res.status} without an error code`);
      throw new BffResponseError(
        res.status,
        {
          error: e.error,
          error_description: typeof e.error_description === 'string' ? e.error_description : undefined,
          remediation: e.remediation,
        },
        res,
      );
    }
    return body;
  }

  async function requestToken(resources: string[], scopes: string[], fresh: boolean): Promise<TokenResponse> {
    const query = new URLSearchParams();
    for (const r of resources) query.append('resource', r);
    if (scopes.length) query.set('scope', scopes.join(' '));
    if (fresh) query.set('fresh', '1');
    const url = `${tokenEndpoint}${query.size ? `?${query}` : ''}`;
    const body = (await call(url)) as Partial<TokenResponse>;
    if (typeof body?.access_token !== 'string' || !body.access_token || typeof body.expires_in !== 'number') {
      throw new BffProtocolError(`${tokenEndpoint} answered without access_token and expires_in`);
    }
    return {
      access_token: body.access_token,
      expires_in: body.expires_in,
      ...(typeof body.scope === 'string' ? { scope: body.scope } : {}),
    };
  }

  async function getToken(request: TokenRequest & { fresh?: boolean | undefined } = {}): Promise<TokenResponse> {
    const resources = list(request.resource, false);
    const scopes = list(request.scope, true);
    // TMI-42: keyed by the resource set and the sorted scope set.
    const key = JSON.stringify([resources, scopes]);
    const fresh = request.fresh === true;
    const held = tokens.get(key);
    if (!fresh && held && held.expiresAt - now() > marginMs) {
      return { ...held.token, expires_in: Math.floor((held.expiresAt - now()) / 1000) };
    }
    const flightKey = `${key}|${fresh}`;
    let flight = inflight.get(flightKey);
    if (!flight) {
      flight = requestToken(resources, scopes, fresh)
        .then((token) => {
          tokens.set(key, { token, expiresAt: now() + token.expires_in * 1000 });
          return token;
        })
        .finally(() => inflight.delete(flightKey));
      inflight.set(flightKey, flight);
    }
    return flight;
  }

  return {
    getToken,
    async getSessionInfo() {
      const body = await call(sessionInfoEndpoint);
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        throw new BffProtocolError(`${sessionInfoEndpoint} did not answer a JSON object`);
      }
      return body as Record<string, unknown>;
    },
    async fetch(input, init = {}) {
      const { resource, scope, ...rest } = init;
      const send = async (token: TokenResponse) => {
        const headers = new Headers(rest.headers);
        headers.set('Authorization', `Bearer ${token.access_token}`);
        try {
          return await doFetch(input, { ...rest, headers });
        } catch (err) {
          throw new BffTransportError(`${String(input)} could not be reached`, { cause: err });
        }
      };
      const first = await send(await getToken({ resource, scope }));
      if (first.status !== 401 || bearerError(first) !== 'invalid_token') return first;
      // D11 (TMI-45): the resource server rejected the token; ask once for a fresh one, retry once.
      const retried = await send(await getToken({ resource, scope, fresh: true }));
      if (retried.status === 401 && bearerError(retried) === 'invalid_token') {
        throw new BffResponseError(
          401,
          { error: 'invalid_token', error_description: 'the resource server rejected a fresh token too' },
          retried,
          ERROR_CODES.TOKEN_REJECTED,
        );
      }
      return retried;
    },
    clear() {
      tokens.clear();
    },
  };
}

/** True when `err` is one of this SDK's errors with that code. */
export function isBffError(err: unknown, code?: (typeof ERROR_CODES)[keyof typeof ERROR_CODES]): err is BffError {
  return err instanceof BffError && (code === undefined || err.code === code);
}
