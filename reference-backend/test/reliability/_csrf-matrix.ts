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

/** A row with the endpoints' defence, answered 200; a session route unless `session: false`. */
function endpoint(
  method: RouteRow['method'],
  path: string,
  { session = true, json }: { session?: boolean; json?: RouteRow['json'] } = {},
): RouteRow {
  return { defence: 'endpoint', session, method, path, ...(json ? { json } : {}), ok: 200 };
}

/** A GET page a navigation may open from anywhere, answering `ok`; no session route unless `session`. */
function page(path: string, ok: number, { session = false } = {}): RouteRow {
  return { defence: 'navigation', session, method: 'GET', path, ok };
}

/** A legitimate token request's query, which the consent page takes too. */
const STOCKS_READ = `resource=${encodeURIComponent(STOCKS)}&scope=stocks%3Aread`;

/** Every route, by route name (routes.ts, admin.ts; the endpoints' names from @tmi-bff/koa). */
export const ROUTE_TABLE: Record<string, RouteRow> = {
  [ROUTES.bffToken]: endpoint('GET', `/.well-known/bff-token?${STOCKS_READ}`),
  [ROUTES.bffSessionInfo]: endpoint('GET', '/.well-known/bff-sessioninfo'),
  'auth.logout': { defence: 'sign-out', session: true, method: 'POST', path: '/auth/logout', ok: 303 },
  'mock.state': endpoint('GET', '/_mock/state'),
  'mock.session.expire-tokens': endpoint('POST', '/_mock/session/expire-tokens'),
  'mock.session.lifetime': endpoint('POST', '/_mock/session/lifetime', { json: { seconds: 3600 } }),
  'mock.session.revoke-grant': endpoint('POST', '/_mock/session/revoke-grant'),
  'mock.session.persona': endpoint('POST', '/_mock/session/persona', { json: { persona: 'bob' } }),
  // The AS knobs read no session; they have the endpoints' defence all the same.
  'mock.as.fail': endpoint('POST', '/_mock/as/fail', { session: false, json: { count: 0, error: 'invalid_grant' } }),
  'mock.as.down': endpoint('POST', '/_mock/as/down', { session: false }),
  'mock.as.up': endpoint('POST', '/_mock/as/up', { session: false }),
  'mock.flow': { defence: 'stream', session: true, method: 'GET', path: '/_mock/flow', ok: 200 },
  // With the SPA built, `/` is its index.html; without, a page that shows who is signed in.
  home: page('/', 200),
  'auth.login': page('/auth/login?returnTo=/', 303),
  'auth.consent': page(`/auth/consent?${STOCKS_READ}`, 303, { session: true }),
  // It makes sessions: its legitimate request is a whole sign-in, over a session (cookies.test.ts
  // shows the id is a new one). Alone, it is a page: no login transaction.
  'auth.callback': page('/auth/callback?code=x&state=y', 303, { session: true }),
  'auth.signed-out': page('/auth/signed-out?state=%2F', 303),
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
