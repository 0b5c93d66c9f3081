/**
 * A typed client of the backend's dev-only admin API (mounted in mock mode only, under `/_mock`).
 * Every call is a same-origin request as the app's own page would make it: the `TMI-BFF-CSRF`
 * header, the app's `Origin`, and for the session knobs the cookie of the session they act on.
 *
 * | call                        | route                                  | body                                    |
 * |-----------------------------|----------------------------------------|-----------------------------------------|
 * | expireTokens(cookie)        | POST /_mock/session/expire-tokens      | {}                                      |
 * | setSessionLifetime(c, s)    | POST /_mock/session/lifetime           | { seconds }                             |
 * | revokeGrant(cookie)         | POST /_mock/session/revoke-grant       | {}                                      |
 * | switchPersona(cookie, p)    | POST /_mock/session/persona            | { persona } → Set-Cookie of a new session |
 * | failNextTokenRequests(f)    | POST /_mock/as/fail                    | { count, error?, error_description?, status?, delayMs? } |
 * | asDown() / asUp()           | POST /_mock/as/down, /_mock/as/up      | {}                                      |
 * | state(cookie?)              | GET  /_mock/state                      |                                         |
 */
import { CSRF_HEADER } from '@tmi-bff/koa';
import { parseSetCookie } from '@tmi-bff/mock-as/testing';
import { cookieHeaderOf, type SignedIn } from './sign-in.js';

/** The admin API's paths, relative to the app's origin. */
export const ADMIN_PATHS = Object.freeze({
  expireTokens: '/_mock/session/expire-tokens',
  sessionLifetime: '/_mock/session/lifetime',
  revokeGrant: '/_mock/session/revoke-grant',
  persona: '/_mock/session/persona',
  asFail: '/_mock/as/fail',
  asDown: '/_mock/as/down',
  asUp: '/_mock/as/up',
  state: '/_mock/state',
});

/** What the next AS token requests do instead of succeeding. */
export interface TokenFault {
  /** How many token requests fail; the one after them succeeds again. */
  count: number;
  /** The OAuth error code the AS answers, e.g. `invalid_grant`, `temporarily_unavailable`. */
  error?: string;
  error_description?: string;
  /** The HTTP status of the AS's answer. */
  status?: number;
  /** Latency added before the AS answers, in ms (beyond the BFF's timeout, to simulate a slow AS). */
  delayMs?: number;
}

/** A refusal by the admin API, with the parsed body. */
export class MockAdminError extends Error {
  static readonly code = 'TMI_BFF_MOCK_ADMIN_ERROR';
  override name = 'MockAdminError';
  readonly code = MockAdminError.code;
  constructor(
    message: string,
    readonly status: number,
    readonly error: string | undefined,
    readonly error_description: string | undefined,
  ) {
    super(message);
  }
}

export interface AdminClient {
  /** Marks every cached access token of the session expired: the next bff-token gets a new one. */
  expireTokens(cookieHeader: string): Promise<unknown>;
  /** Shortens (or sets) the session's remaining lifetime, in seconds. */
  setSessionLifetime(cookieHeader: string, seconds: number): Promise<unknown>;
  /** Revokes the session's grant at the AS: its refresh token stops working. */
  revokeGrant(cookieHeader: string): Promise<unknown>;
  /** Ends the session and starts one for `persona`, without a logout round trip. */
  switchPersona(cookieHeader: string, persona: string): Promise<SignedIn>;
  /** Makes the next `count` token requests to the AS fail as described. */
  failNextTokenRequests(fault: TokenFault): Promise<unknown>;
  /** Takes the AS down: the BFF cannot reach it until `asUp()`. */
  asDown(): Promise<unknown>;
  asUp(): Promise<unknown>;
  /** The mock's current state (faults pending, AS up or down, and the session's when a cookie is given). */
  state(cookieHeader?: string): Promise<Record<string, unknown>>;
}

/** The admin client of the app at `appUrl`. */
export function adminClient(appUrl: string): AdminClient {
  const origin = new URL(appUrl).origin;

  async function call(method: 'GET' | 'POST', path: string, cookieHeader?: string, body?: object) {
    const headers: Record<string, string> = { [CSRF_HEADER]: '1', origin };
    if (cookieHeader) headers.cookie = cookieHeader;
    if (method === 'POST') headers['content-type'] = 'application/json';
    const res = await fetch(`${origin}${path}`, {
      method,
      headers,
      redirect: 'manual',
      ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
    });
    const text = await res.text();
    const parsed: unknown = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const { error, error_description } = (parsed ?? {}) as { error?: string; error_description?: string };
      throw new MockAdminError(
        `${method} ${path} answered ${res.status}${error ? ` ${error}` : ''}${error_description ? `: ${error_description}` : ''}`,
        res.status,
        error,
        error_description,
      );
    }
    return { res, body: parsed };
  }

  const post = async (path: string, cookieHeader?: string, body?: object) =>
    (await call('POST', path, cookieHeader, body)).body;

  return {
    expireTokens: (cookieHeader) => post(ADMIN_PATHS.expireTokens, cookieHeader),
    setSessionLifetime: (cookieHeader, seconds) => post(ADMIN_PATHS.sessionLifetime, cookieHeader, { seconds }),
    revokeGrant: (cookieHeader) => post(ADMIN_PATHS.revokeGrant, cookieHeader),
    async switchPersona(cookieHeader, persona) {
      const { res } = await call('POST', ADMIN_PATHS.persona, cookieHeader, { persona });
      const now = Date.now() / 1000;
      const cookies = res.headers
        .getSetCookie()
        .map((header) => parseSetCookie(origin, header))
        .filter((c) => c.expires === -1 || c.expires > now);
      return { cookieHeader: cookieHeaderOf(cookies), cookies };
    },
    failNextTokenRequests: (fault) => post(ADMIN_PATHS.asFail, undefined, fault),
    asDown: () => post(ADMIN_PATHS.asDown),
    asUp: () => post(ADMIN_PATHS.asUp),
    state: async (cookieHeader) =>
      ((await call('GET', ADMIN_PATHS.state, cookieHeader)).body ?? {}) as Record<string, unknown>,
  };
}
