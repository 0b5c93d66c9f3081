/**
 * @tmi-bff/mock-as/testing: drive the mock AS's real login and consent forms over HTTP, without a
 * browser. For tests of anything that signs users in against the mock AS.
 *
 *   const callback = await signIn(authorizationUrl, { username: 'alice', password: 'alice' });
 *   const tokens = await client.authorizationCodeGrant(config, callback, checks);
 *
 * The fuzzing tests' fast-check generators are in `@tmi-bff/mock-as/testing/fuzz` (./fuzz.ts), apart,
 * because the mock BFF runs these helpers outside tests, where fast-check is not installed.
 */
import type { JWK } from 'jose';
import * as oidc from 'openid-client';
import { parseSeed, type Seed } from '../seed.js';

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  expires: number | undefined;
}

/** A minimal cookie jar: per host, path-scoped, honours Max-Age/Expires. Ignores ports, as browsers do. */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie[]>();

  /** Stores the `Set-Cookie` headers of a response to `url`. */
  capture(url: URL | string, res: Response): void {
    const { hostname } = new URL(url);
    const list = this.#cookies.get(hostname) ?? [];
    for (const header of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const cookie: StoredCookie = {
        name: pair.slice(0, eq),
        value: pair.slice(eq + 1),
        path: '/',
        expires: undefined,
      };
      for (const attribute of attributes) {
        const [k = '', v = ''] = attribute.split('=');
        const key = k.toLowerCase();
        if (key === 'path') cookie.path = v;
        if (key === 'max-age') cookie.expires = Date.now() + Number(v) * 1000;
        if (key === 'expires' && cookie.expires === undefined) cookie.expires = Date.parse(v);
      }
      const kept = list.filter((c) => c.name !== cookie.name || c.path !== cookie.path);
      if (cookie.expires === undefined || cookie.expires > Date.now()) kept.push(cookie);
      list.splice(0, list.length, ...kept);
    }
    this.#cookies.set(hostname, list);
  }

  /** The `Cookie` header value for a request to `url`. */
  header(url: URL | string): string {
    const { hostname, pathname } = new URL(url);
    const now = Date.now();
    return (this.#cookies.get(hostname) ?? [])
      .filter((c) => (c.expires === undefined || c.expires > now) && pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** Sets a cookie by hand (e.g. a planted session id in a fixation test). */
  set(host: string, name: string, value: string, path = '/'): void {
    const list = (this.#cookies.get(host) ?? []).filter((c) => c.name !== name || c.path !== path);
    list.push({ name, value, path, expires: undefined });
    this.#cookies.set(host, list);
  }

  /** One cookie's value, for assertions. */
  get(host: string, name: string): string | undefined {
    return this.#cookies.get(host)?.find((c) => c.name === name)?.value;
  }
}

/** `fetch` that never follows redirects and keeps cookies in `jar`. */
export async function fetchWithJar(jar: CookieJar, url: URL | string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.capture(url, res);
  return res;
}

export interface SignInOptions {
  /** Sign in with the password form. */
  username?: string;
  password?: string;
  /** Or with one click on the persona picker. */
  persona?: string;
  /** What to answer on the consent page. Default: 'allow'. */
  consent?: 'allow' | 'deny';
  /** Reuse cookies across sign-ins (an existing AS session). Default: a new jar. */
  jar?: CookieJar;
  /** Stop after this many hops. Default: 20. */
  maxSteps?: number;
}

/** An HTTP exchange that `signIn` did not expect, with the page it got. */
export class SignInError extends Error {
  override name = 'SignInError';
  constructor(
    message: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(message);
  }
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/**
 * Follows an authorization request through the AS's login and consent pages, the way a person would,
 * and returns the URL the AS finally redirects to (the client's redirect_uri with `code` or `error`).
 */
export async function signIn(authorizationUrl: URL | string, options: SignInOptions): Promise<URL> {
  const jar = options.jar ?? new CookieJar();
  const asOrigin = new URL(authorizationUrl).origin;
  let next = new URL(authorizationUrl);
  let init: RequestInit = {};
  for (let step = 0; step < (options.maxSteps ?? 20); step += 1) {
    const res = await fetchWithJar(jar, next, init);
    init = {};
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      next = new URL(location, next);
      if (next.origin !== asOrigin) return next;
      continue;
    }
    const body = await res.text();
    if (res.status !== 200) throw new SignInError(`${next.pathname} answered ${res.status}`, res.status, body);
    const uid = /\/interaction\/([^/"]+)\/(login|consent)"/.exec(body);
    if (!uid) throw new SignInError(`${next.pathname} is not a login or consent page`, res.status, body);
    const base = `${asOrigin}/interaction/${uid[1]}`;
    if (uid[2] === 'login') {
      next = new URL(`${base}/login`);
      init = options.persona
        ? form({ persona: options.persona })
        : form({ username: options.username ?? '', password: options.password ?? '' });
    } else {
      next = new URL(`${base}/${options.consent === 'deny' ? 'abort' : 'consent'}`);
      init = form({});
    }
  }
  throw new SignInError('too many steps', 0, '');
}

export interface CodeFlowOptions extends SignInOptions {
  redirectUri: string;
  scope: string;
  /** RFC 8707 resources of the authorization request. */
  resources?: string[];
  /** Sent with the code grant: which resource the first access token is for. */
  tokenResource?: string;
}

/**
 * The whole authorization code flow with PKCE, state and nonce, as a confidential client would run
 * it, signing in through the forms: returns the token endpoint's answer.
 */
export async function codeFlow(config: oidc.Configuration, options: CodeFlowOptions) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  // OIDC Core §3.1.2.1: nonce only goes with the openid scope.
  const nonce = options.scope.split(' ').includes('openid') ? oidc.randomNonce() : undefined;
  const params = new URLSearchParams({
    redirect_uri: options.redirectUri,
    scope: options.scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(nonce ? { nonce } : {}),
  });
  for (const r of options.resources ?? []) params.append('resource', r);
  const callback = await signIn(oidc.buildAuthorizationUrl(config, params), options);
  return oidc.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier, expectedState: state, ...(nonce ? { expectedNonce: nonce } : {}) },
    options.tokenResource ? { resource: options.tokenResource } : undefined,
  );
}

/** A cookie as a browser holds it, in the shape of Playwright's `BrowserContext.addCookies`. */
export interface BrowserCookie {
  name: string;
  value: string;
  /** The host that set it (a host-only cookie). */
  domain: string;
  path: string;
  httpOnly: boolean;
  secure: boolean;
  sameSite: 'Strict' | 'Lax' | 'None';
  /** Unix time in seconds; -1 for a session cookie. */
  expires: number;
}

/** Reads one `Set-Cookie` header (RFC 6265 §5.2) as the browser at `url` would store it. */
export function parseSetCookie(url: URL | string, header: string): BrowserCookie {
  const [pair = '', ...attributes] = header.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const cookie: BrowserCookie = {
    name: pair.slice(0, eq),
    value: pair.slice(eq + 1),
    domain: new URL(url).hostname,
    path: '/',
    httpOnly: false,
    secure: false,
    // RFC 6265bis §5.6.7: no SameSite attribute means Lax in current browsers.
    sameSite: 'Lax',
    expires: -1,
  };
  let maxAge: number | undefined;
  for (const attribute of attributes) {
    const eqAt = attribute.indexOf('=');
    const key = (eqAt < 0 ? attribute : attribute.slice(0, eqAt)).toLowerCase();
    const value = eqAt < 0 ? '' : attribute.slice(eqAt + 1);
    if (key === 'path' && value.startsWith('/')) cookie.path = value;
    if (key === 'httponly') cookie.httpOnly = true;
    if (key === 'secure') cookie.secure = true;
    if (key === 'samesite') {
      const mode = value.toLowerCase();
      cookie.sameSite = mode === 'strict' ? 'Strict' : mode === 'none' ? 'None' : 'Lax';
    }
    if (key === 'max-age') maxAge = Number(value);
    if (key === 'expires' && Number.isFinite(Date.parse(value))) cookie.expires = Math.floor(Date.parse(value) / 1000);
  }
  // RFC 6265 §5.3 step 3: Max-Age wins over Expires.
  if (maxAge !== undefined) cookie.expires = Math.floor(Date.now() / 1000) + maxAge;
  return cookie;
}

/** The alert text of an HTML page (the AS's login error, a backend error page), for error messages. */
export function pageMessage(body: string): string {
  const found = /role="alert"[^>]*>([\s\S]*?)<\/p>/.exec(body) ?? /<h1>([\s\S]*?)<\/h1>/.exec(body);
  const text = found?.[1]?.replace(/<[^>]*>/g, '').trim() ?? '';
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#\d+|[a-z]+);/g, (entity, name: string) =>
    name.startsWith('#') ? String.fromCharCode(Number(name.slice(1))) : (named[name] ?? entity),
  );
}

export interface SignInThroughOptions extends SignInOptions {
  /** The app path to come back to after sign-in (the backend's `returnTo`). Default: '/'. */
  returnTo?: string;
}

/**
 * Signs in to a TMI-BFF backend at `bffOrigin` the way a browser does: GET `/auth/login`, the AS's
 * real login and consent pages, then the backend's `/auth/callback`. Returns the jar, and the
 * backend's cookies that are still set, in the shape a browser context takes them, and the
 * callback's raw `Set-Cookie` headers.
 */
export async function signInThrough(
  bffOrigin: string,
  options: SignInThroughOptions,
): Promise<{ jar: CookieJar; cookies: BrowserCookie[]; setCookie: string[] }> {
  const { returnTo = '/', ...rest } = options;
  const jar = rest.jar ?? new CookieJar();
  const origin = new URL(bffOrigin).origin;
  const kept = new Map<string, BrowserCookie>();
  const atBff = async (url: URL | string): Promise<{ res: Response; next: URL }> => {
    const res = await fetchWithJar(jar, url);
    for (const header of res.headers.getSetCookie()) {
      const cookie = parseSetCookie(url, header);
      const key = `${cookie.name};${cookie.path}`;
      if (cookie.expires !== -1 && cookie.expires * 1000 <= Date.now()) kept.delete(key);
      else kept.set(key, cookie);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) return { res, next: new URL(location, url) };
    const body = await res.text();
    const message = pageMessage(body);
    throw new SignInError(
      `${new URL(url).pathname} answered ${res.status}${message ? `: ${message}` : ''}`,
      res.status,
      body,
    );
  };

  const start = await atBff(`${origin}/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
  let callback: URL;
  try {
    callback = await signIn(start.next, { ...rest, jar });
  } catch (err) {
    if (!(err instanceof SignInError)) throw err;
    const message = pageMessage(err.body);
    throw new SignInError(
      `sign-in at the AS failed: ${err.message}${message ? `: ${message}` : ''}`,
      err.status,
      err.body,
    );
  }
  if (callback.origin !== origin) {
    throw new SignInError(`the AS redirected to ${callback.origin}, not to ${origin}`, 0, '');
  }
  // An `error` in the callback is the backend's to report: its error page says what happened.
  const end = await atBff(callback);
  if (end.next.origin !== origin) {
    throw new SignInError(`the callback redirected to ${end.next.origin}, not back to ${origin}`, end.res.status, '');
  }
  // The callback's own Set-Cookie headers, as they are: for a backend that hands them on.
  return { jar, cookies: [...kept.values()], setCookie: end.res.headers.getSetCookie() };
}

/** How a seeded client authenticates at the token endpoint: RFC 7591 §2 client metadata. */
export type ClientAuthRegistration =
  | {
      token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post';
      /** Default: the client's secret in the seed. */
      client_secret?: string;
    }
  | {
      token_endpoint_auth_method: 'private_key_jwt';
      /** RFC 7591 §2: the client's public keys (or `jwks_uri`). */
      jwks?: { keys: JWK[] };
      jwks_uri?: string;
      /** Default: any asymmetric algorithm the AS supports. */
      token_endpoint_auth_signing_alg?: string;
    };

/**
 * A copy of `seed` in which client `clientId` is registered for another client authentication
 * method, validated as the seed file is. For tests that start the mock AS with, say, the `bff`
 * client on private_key_jwt:
 *
 *   const seed = withClientAuth(await loadSeed(SEED_FILE, variables), 'bff', {
 *     token_endpoint_auth_method: 'private_key_jwt',
 *     jwks: { keys: [publicJwk] },
 *   });
 *   const as = await startMockAs({ seed });
 *
 * @throws SeedError when the registration is incomplete (e.g. private_key_jwt without keys).
 */
export function withClientAuth(seed: Seed, clientId: string, registration: ClientAuthRegistration): Seed {
  const client = seed.clients.find((c) => c.client_id === clientId);
  if (!client) throw new TypeError(`the seed has no client "${clientId}"`);
  const { client_secret, jwks: _jwks, jwks_uri: _jwksUri, token_endpoint_auth_signing_alg: _alg, ...rest } = client;
  const secret =
    registration.token_endpoint_auth_method === 'private_key_jwt'
      ? {}
      : { client_secret: registration.client_secret ?? client_secret };
  const changed = { ...rest, ...secret, ...registration };
  // The seed is already substituted: no placeholders are left to fill in.
  return parseSeed({ ...seed, clients: seed.clients.map((c) => (c === client ? changed : c)) }, {});
}

/** A port that was free a moment ago (one helper for every package's tests). */
export { freePort } from '@tmi-bff/store/testing';
