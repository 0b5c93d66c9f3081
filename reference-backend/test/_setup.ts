/**
 * The whole stack in one test process: the real mock AS (oidc-provider) and the reference backend,
 * each on an ephemeral loopback port, and a user agent that signs in through the AS's real forms.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CSRF_HEADER } from '@tmi-bff/koa';
import {
  backendSettings,
  CONTROL_PATH,
  DEFAULT_ADDRESSES,
  loadSeed,
  type RunningMockAs,
  SEED_FILE,
  type Seed,
  type StartOptions,
  startMockAs,
} from '@tmi-bff/mock-as';
import { CookieJar, fetchWithJar, type SignInOptions, signIn } from '@tmi-bff/mock-as/testing';
import type { ExecutionContext } from 'ava';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { answerClientError, type Backend, type BackendConfig, createBackend, withDefaults } from '../src/index.js';
import { HEAD_MARKER } from '../src/spa.js';

/** The session cookie's name on http (over https it takes the __Host- prefix). */
export const SESSION_COOKIE = 'bff-session';
export const STOCKS = `${DEFAULT_ADDRESSES.API_ORIGIN}/stocks`;
export const SERVICE_A = `${DEFAULT_ADDRESSES.API_ORIGIN}/a`;
export const SERVICE_B = `${DEFAULT_ADDRESSES.API_ORIGIN}/b`;

/** One token endpoint request, as the AS saw it. */
export interface AsGrant {
  grant_type: string;
  ok: boolean;
  error?: string;
  refresh_token?: string;
  resource?: unknown;
  scope?: string;
}

export interface Stack {
  as: RunningMockAs;
  /** The seed the AS runs on (its redirect URIs name this backend). */
  seed: Seed;
  backend: Backend;
  origin: string;
  /** Every token endpoint request the AS received, in order. */
  grants: AsGrant[];
  /** A new browser with its own cookies. */
  browser(): UserAgent;
  /** The server-side id (grant key) of a browser's session. */
  sessionId(user: UserAgent): Promise<string>;
  /** Moves the backend's token-cache clock forward. */
  advance(ms: number): void;
  /**
   * Puts `fn` in front of the AS's HTTP server: it may answer by itself (return true) or delay the
   * request before the AS sees it. For outage and slowness tests.
   */
  interceptAs(fn: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>): void;
  /** The backend's HTTP server (its 'request' events tell when a request arrived). */
  server: Server;
}

export interface StackOptions {
  backend?: Partial<Omit<BackendConfig, 'tokens'>> & { tokens?: Partial<BackendConfig['tokens']> };
  as?: Partial<StartOptions>;
  /** Changes the loaded seed before the AS starts, e.g. `withClientAuth` for another client authentication method. */
  seed?: (seed: Seed) => Seed;
}

/** The backend's configuration for the demo world: the seed's `bff` client, as a user would set it. */
export function demoConfig(seed: Seed, origin: string, issuer: string): BackendConfig {
  return withDefaults({ origin, issuer, ...backendSettings(seed) });
}

export async function startStack(t: ExecutionContext, options: StackOptions = {}): Promise<Stack> {
  const server = createServer();
  // As server.ts: what the HTTP parser refuses gets a JSON error.
  server.on('clientError', answerClientError);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const loaded = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: origin });
  const seed = options.seed ? options.seed(loaded) : loaded;
  const as = await startMockAs({ seed, log: () => {}, ...options.as });
  const grants: AsGrant[] = [];
  const record = (ok: boolean, ctx: KoaContextWithOIDC, err?: { error?: string }) => {
    const p = (ctx.oidc.params ?? {}) as Record<string, unknown>;
    grants.push({
      grant_type: String(p.grant_type),
      ok,
      ...(err?.error ? { error: err.error } : {}),
      ...(typeof p.refresh_token === 'string' ? { refresh_token: p.refresh_token } : {}),
      ...(p.resource ? { resource: p.resource } : {}),
      ...(typeof p.scope === 'string' ? { scope: p.scope } : {}),
    });
  };
  as.provider.on('grant.success', (ctx) => record(true, ctx));
  as.provider.on('grant.error', (ctx, err) => record(false, ctx, err as { error?: string }));

  let offset = 0;
  const demo = demoConfig(seed, origin, as.issuer);
  const { tokens, ...overrides } = options.backend ?? {};
  const backend = await createBackend({
    ...demo,
    tokens: { ...demo.tokens, asTimeoutMs: 2000, ...tokens },
    sessionMaxAgeMs: 3600_000,
    log: () => {},
    now: () => Date.now() + offset,
    ...overrides,
    // Mock mode's knobs reach this AS's control routes, as npm run dev passes them.
    ...(overrides.mock?.enabled ? { mock: { control: `${as.issuer}${CONTROL_PATH}`, ...overrides.mock } } : {}),
  });
  server.on('request', backend.app.callback());
  t.teardown(async () => {
    server.close();
    server.closeAllConnections();
    await backend.close();
    await as.close();
  });
  return {
    as,
    server,
    seed,
    backend,
    origin,
    grants,
    browser: () => new UserAgent(origin),
    sessionId: async (user) =>
      String((await backend.store.get<{ sid: string }>(`session:${user.sessionCookie().key}`))?.sid),
    advance: (ms) => {
      offset += ms;
    },
    interceptAs(fn) {
      const listeners = as.server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
      as.server.removeAllListeners('request');
      as.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        void fn(req, res).then((handled) => {
          if (!handled) for (const listener of listeners) listener(req, res);
        });
      });
    },
  };
}

export interface BffResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** A browser: a cookie jar, sign-in through the AS forms, and calls to the BFF endpoints. */
export class UserAgent {
  readonly jar = new CookieJar();
  constructor(readonly origin: string) {}

  /** The session cookie the browser holds: its id, its signature, and both as a Cookie header. */
  sessionCookie(): { key: string; sig: string; header: string } {
    const key = this.jar.get(new URL(this.origin).hostname, SESSION_COOKIE) ?? '';
    const sig = this.jar.get(new URL(this.origin).hostname, `${SESSION_COOKIE}.sig`) ?? '';
    return { key, sig, header: `${SESSION_COOKIE}=${key}; ${SESSION_COOKIE}.sig=${sig}` };
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetchWithJar(this.jar, new URL(path, this.origin), init);
  }

  /** Navigates to /auth/login, signs in at the AS, follows the callback. Returns the final response. */
  async signIn(options: SignInOptions, path = '/auth/login'): Promise<Response> {
    const start = await this.fetch(path);
    if (start.status !== 303) throw new Error(`${path} answered ${start.status}`);
    const callback = await signIn(start.headers.get('location') ?? '', { jar: this.jar, ...options });
    return this.fetch(callback.pathname + callback.search);
  }

  /** A call to a BFF endpoint as the SDK makes it: same origin, with the CSRF header. */
  async bff(path: string, init: RequestInit = {}): Promise<BffResponse> {
    const headers = new Headers(init.headers);
    if (!headers.has(CSRF_HEADER)) headers.set(CSRF_HEADER, '1');
    const res = await this.fetch(path, { ...init, headers });
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text);
    } catch {
      body = { unparsed: text };
    }
    return { status: res.status, headers: res.headers, body };
  }

  token(params: Record<string, string | string[]> = {}): Promise<BffResponse> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) query.append(k, one);
    return this.bff(`/.well-known/bff-token${query.size ? `?${query}` : ''}`);
  }

  sessionInfo(): Promise<BffResponse> {
    return this.bff('/.well-known/bff-sessioninfo');
  }
}

/**
 * A stack whose backend is configured as https://127.0.0.1:port behind a TLS-terminating proxy
 * (BFF_TRUST_PROXY): requests reach it over http with `X-Forwarded-Proto: https`. The AS's seed
 * registers the https redirect URIs.
 */
export async function httpsStack(t: ExecutionContext): Promise<{ stack: Stack; https: string }> {
  // Read by startStack after the seed is loaded: the seed names the port, and so the origin.
  const backend: { origin?: string; trustProxy: boolean } = { trustProxy: true };
  const stack = await startStack(t, {
    seed: (seed) => {
      const text = JSON.stringify(seed);
      const http = /"(http:\/\/127\.0\.0\.1:\d+)\/auth\/callback"/.exec(text)?.[1] ?? '';
      backend.origin = http.replace('http:', 'https:');
      return JSON.parse(text.replaceAll(`"${http}/`, `"${backend.origin}/`)) as typeof seed;
    },
    backend,
  });
  return { stack, https: backend.origin ?? '' };
}

/**
 * Runs /auth/consent?`query` in `user`'s browser and signs in at the AS as `persona`: in a fresh AS
 * session, or with `sameAsSession` in the one the browser already has. The callback's answer.
 */
export async function consentAs(
  user: UserAgent,
  persona: string,
  query: string,
  options: { sameAsSession?: boolean } = {},
): Promise<Response> {
  const start = await user.fetch(`/auth/consent?${query}`);
  const callback = await signIn(start.headers.get('location') ?? '', {
    persona,
    ...(options.sameAsSession ? { jar: user.jar } : {}),
  });
  return user.fetch(callback.pathname + callback.search);
}

/** `Set-Cookie` headers by cookie name, each with its attributes, lower-cased. */
export function cookiesOf(res: Response): Map<string, { value: string; attributes: Map<string, string> }> {
  const out = new Map<string, { value: string; attributes: Map<string, string> }>();
  for (const header of res.headers.getSetCookie()) {
    const [pair = '', ...rest] = header.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const attributes = new Map(
      rest.map((a) => {
        const i = a.indexOf('=');
        return i < 0 ? [a.toLowerCase(), ''] : [a.slice(0, i).toLowerCase(), a.slice(i + 1).toLowerCase()];
      }),
    );
    out.set(pair.slice(0, eq), { value: pair.slice(eq + 1), attributes });
  }
  return out;
}

/** Decodes a JWT payload (assertions only). */
export function claimsOf(jwt: unknown): Record<string, unknown> {
  return JSON.parse(Buffer.from(String(jwt).split('.')[1] ?? '', 'base64url').toString('utf8'));
}

/**
 * Signs out at the AS itself, as the user would on its logout page (no BFF involved); the AS then
 * tells the backend by back-channel logout, where the backend is registered for it.
 */
export async function logOutAtAs(stack: Stack, user: UserAgent): Promise<Response> {
  const page = await user.fetch(new URL('/session/end', stack.as.issuer).href);
  const html = await page.text();
  const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
  if (page.status !== 200 || !action || !xsrf) throw new Error(`no logout form at the AS (${page.status})`);
  return user.fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ xsrf, logout: 'yes' }),
  });
}

/**
 * A built SPA and a docs folder for `backend.spa` (`{ dir, docsDir }`), removed after the test: the
 * page, `assets/app.js` and `docs/walkthrough/01-login.md`, beside two files that must never be
 * served: `docs/notes.txt` (not Markdown) and `secret.md` (outside the docs folder).
 */
export async function spaFolder(t: ExecutionContext): Promise<{ dir: string; docsDir: string }> {
  const root = await mkdtemp(join(tmpdir(), 'tmi-bff-spa-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'spa');
  const docsDir = join(root, 'docs');
  await mkdir(join(dir, 'assets'), { recursive: true });
  await mkdir(join(docsDir, 'walkthrough'), { recursive: true });
  await writeFile(join(dir, 'index.html'), `<!doctype html><html><head>${HEAD_MARKER}</head><body>app</body></html>`);
  await writeFile(join(dir, 'assets', 'app.js'), 'console.log("app");');
  await writeFile(join(docsDir, 'walkthrough', '01-login.md'), '# Sign-in\n');
  await writeFile(join(docsDir, 'notes.txt'), 'not markdown');
  await writeFile(join(root, 'secret.md'), 'outside the docs folder');
  return { dir, docsDir };
}
