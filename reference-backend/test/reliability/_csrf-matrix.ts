/**
 * The route table of the CSRF and cookie tests: every route of the backend, read from the app
 * itself (its @koa/router router, and the D1 meta tags for the two endpoints mounted ahead of it),
 * each with the defence the security chapter gives it (docs/security.md, "CSRF, on every session
 * route") and one legitimate request. A route the app serves and this table does not name fails
 * the tests that use it: a new route must say which defence it has.
 */
import type Router from '@koa/router';
import { CSRF_HEADER, META_NAMES, ROUTES, WELL_KNOWN } from '@tmi-bff/koa';
import type { ExecutionContext } from 'ava';
import type { Middleware } from 'koa';
import { STOCKS, type Stack, spaFolder, startStack, type UserAgent } from '../_setup.js';

/**
 * The defence a route has (D4):
 * - `endpoint`: the `TMI-BFF-CSRF` header, `Sec-Fetch-Site` same-origin/none, `Origin` exact; 400 JSON.
 * - `sign-out`: a form: `Origin` or `Sec-Fetch-Site` present and same-origin; a 403 page.
 * - `stream`: an EventSource sends no header: `Sec-Fetch-Site` and `Origin` as `endpoint`; 400 JSON.
 * - `navigation`: a GET page a top-level navigation may open from anywhere; it changes no session.
 * - `server`: server to server, no cookie read (back-channel logout).
 * - `static`: files, no cookie read.
 */
export type Defence = 'endpoint' | 'sign-out' | 'stream' | 'navigation' | 'server' | 'static';

export interface RouteRow {
  defence: Defence;
  /**
   * Whether the route uses the session: its legitimate request answers otherwise with the
   * session's cookie than without (status, redirect target and its parameter names, body).
   */
  session: boolean;
  method: 'GET' | 'POST';
  /** A concrete path (parameters filled in). */
  path: string;
  /** A JSON body for the legitimate request. */
  json?: Record<string, unknown>;
  /** The legitimate request's status. */
  ok: number;
}

/** Every route, by route name (routes.ts, admin.ts; the endpoints' names from @tmi-bff/koa). */
export const ROUTE_TABLE: Record<string, RouteRow> = {
  [ROUTES.bffToken]: {
    defence: 'endpoint',
    session: true,
    method: 'GET',
    path: `/.well-known/bff-token?resource=${encodeURIComponent(STOCKS)}&scope=stocks%3Aread`,
    ok: 200,
  },
  [ROUTES.bffSessionInfo]: {
    defence: 'endpoint',
    session: true,
    method: 'GET',
    path: '/.well-known/bff-sessioninfo',
    ok: 200,
  },
  'auth.logout': { defence: 'sign-out', session: true, method: 'POST', path: '/auth/logout', ok: 303 },
  'mock.state': { defence: 'endpoint', session: true, method: 'GET', path: '/_mock/state', ok: 200 },
  'mock.session.expire-tokens': {
    defence: 'endpoint',
    session: true,
    method: 'POST',
    path: '/_mock/session/expire-tokens',
    ok: 200,
  },
  'mock.session.lifetime': {
    defence: 'endpoint',
    session: true,
    method: 'POST',
    path: '/_mock/session/lifetime',
    json: { seconds: 3600 },
    ok: 200,
  },
  'mock.session.revoke-grant': {
    defence: 'endpoint',
    session: true,
    method: 'POST',
    path: '/_mock/session/revoke-grant',
    ok: 200,
  },
  'mock.session.persona': {
    defence: 'endpoint',
    session: true,
    method: 'POST',
    path: '/_mock/session/persona',
    json: { persona: 'bob' },
    ok: 200,
  },
  // The AS knobs read no session; they have the endpoints' defence all the same.
  'mock.as.fail': {
    defence: 'endpoint',
    session: false,
    method: 'POST',
    path: '/_mock/as/fail',
    json: { count: 0, error: 'invalid_grant' },
    ok: 200,
  },
  'mock.as.down': { defence: 'endpoint', session: false, method: 'POST', path: '/_mock/as/down', ok: 200 },
  'mock.as.up': { defence: 'endpoint', session: false, method: 'POST', path: '/_mock/as/up', ok: 200 },
  'mock.flow': { defence: 'stream', session: true, method: 'GET', path: '/_mock/flow', ok: 200 },
  // With the SPA built, `/` is its index.html; without, a page that shows who is signed in.
  home: { defence: 'navigation', session: false, method: 'GET', path: '/', ok: 200 },
  'auth.login': { defence: 'navigation', session: false, method: 'GET', path: '/auth/login?returnTo=/', ok: 303 },
  'auth.consent': {
    defence: 'navigation',
    session: true,
    method: 'GET',
    path: `/auth/consent?resource=${encodeURIComponent(STOCKS)}&scope=stocks%3Aread`,
    ok: 303,
  },
  // It makes sessions: its legitimate request is a whole sign-in, over a session (cookies.test.ts
  // shows the id is a new one). Alone, it is a page: no login transaction.
  'auth.callback': {
    defence: 'navigation',
    session: true,
    method: 'GET',
    path: '/auth/callback?code=x&state=y',
    ok: 303,
  },
  'auth.signed-out': {
    defence: 'navigation',
    session: false,
    method: 'GET',
    path: '/auth/signed-out?state=%2F',
    ok: 303,
  },
  // Its legitimate caller is the AS, with a signed logout token in a form; an empty POST is a 415.
  'auth.backchannel-logout': {
    defence: 'server',
    session: false,
    method: 'POST',
    path: '/auth/backchannel-logout',
    ok: 415,
  },
  'spa.assets': { defence: 'static', session: false, method: 'GET', path: '/assets/app.js', ok: 200 },
  'spa.docs': { defence: 'static', session: false, method: 'GET', path: '/docs/walkthrough/01-login.md', ok: 200 },
};

export const FOREIGN = 'https://evil.example';

/** The backend with everything mounted: mock mode (the admin API), the sample SPA and its docs. */
export async function fullStack(t: ExecutionContext, backend: Parameters<typeof startStack>[1] = {}): Promise<Stack> {
  const { dir, docsDir } = await spaFolder(t);
  return startStack(t, {
    ...backend,
    // The AS's answers are not under test here: a loaded machine's slow AS is no refusal.
    backend: { mock: { enabled: true }, spa: { dir, docsDir }, tokens: { asTimeoutMs: 15_000 }, ...backend.backend },
    as: { faults: { enabled: true }, ...backend.as },
  });
}

export interface ListedRoute {
  name: string;
  path: string;
}

/**
 * The routes the app serves: its router's layers, and the two TMI-BFF endpoints (mounted ahead of
 * the router, app.ts), whose paths the home page advertises (D1).
 */
export async function listRoutes(stack: Stack): Promise<ListedRoute[]> {
  const dispatch = stack.backend.app.middleware.find((m) => 'router' in m) as
    | (Middleware & { router: Router })
    | undefined;
  if (!dispatch) throw new Error('the app mounts no @koa/router router');
  const listed = dispatch.router.stack.map((layer) => ({
    name: layer.name ?? `(unnamed: ${String(layer.path)})`,
    path: String(layer.path),
  }));
  const home = await (await fetch(new URL('/', stack.origin))).text();
  for (const key of ['bffToken', 'bffSessionInfo'] as const) {
    // With the user's app in front (proxy mode), `/` is the app's own page: the backend's defaults.
    const path =
      new RegExp(`<meta name="${META_NAMES[key]}" content="([^"]+)">`).exec(home)?.[1] ??
      (stack.backend.config.frontend ? WELL_KNOWN[key] : undefined);
    if (!path) throw new Error(`the home page advertises no ${META_NAMES[key]}`);
    listed.push({ name: ROUTES[key], path });
  }
  return listed;
}

/** Headers of a legitimate call from the app's own page. */
export function ownHeaders(stack: Stack, row: RouteRow): Record<string, string> {
  return {
    ...(row.defence === 'endpoint' ? { [CSRF_HEADER]: '1' } : {}),
    'sec-fetch-site': 'same-origin',
    ...(row.method === 'POST' ? { origin: stack.origin } : {}),
    ...(row.json ? { 'content-type': 'application/json' } : {}),
  };
}

/**
 * Sends `init` to `path` with `user`'s cookies; a Server-Sent Events answer is read up to its
 * headers and closed.
 */
export async function send(
  user: UserAgent,
  path: string,
  init: RequestInit,
): Promise<{ status: number; headers: Headers; text: string }> {
  const abort = new AbortController();
  const res = await user.fetch(path, { ...init, signal: abort.signal });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    abort.abort();
    return { status: res.status, headers: res.headers, text: '' };
  }
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** What a session is, server-side: its record, its grant, and (unless `faults: false`) the mock AS's faults. */
export async function snapshotOf(stack: Stack, user: UserAgent, { faults: withFaults = true } = {}): Promise<string> {
  const { key } = user.sessionCookie();
  const record = await stack.backend.store.get<Record<string, unknown>>(`session:${key}`);
  const sid = typeof record?.sid === 'string' ? record.sid : '';
  const grant = sid ? await stack.backend.tokens.getGrant(sid) : undefined;
  if (!withFaults) return JSON.stringify({ key, record, grant });
  const { id, secret } = stack.backend.config.client;
  const faults = await fetch(`${stack.as.issuer}/_mock/faults`, {
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
  }).then((r) => r.text());
  return JSON.stringify({ key, record, grant, faults });
}

/**
 * What an answer says, for comparing two: its status, where it redirects (origin, path and the
 * names of its parameters: their values are fresh each time), and its body when `body`.
 */
export function fingerprint(
  res: { status: number; headers: Headers; text: string },
  origin: string,
  body: boolean,
): string {
  const location = res.headers.get('location');
  const to = location && URL.canParse(location, origin) ? new URL(location, origin) : undefined;
  return JSON.stringify([
    res.status,
    to && `${to.origin}${to.pathname}`,
    to && [...new Set(to.searchParams.keys())].sort(),
    body && res.status < 300 ? res.text : '',
  ]);
}
