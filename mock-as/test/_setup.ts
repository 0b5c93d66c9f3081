/**
 * Fixtures for the mock AS tests: a real AS on an ephemeral loopback port (in memory unless a data
 * folder is given), openid-client as the client, and sign-in through the real HTML forms.
 */
import { createHash } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import {
  DEFAULT_ADDRESSES,
  loadSeed,
  type RunningMockAs,
  SEED_FILE,
  type Seed,
  type StartOptions,
  startMockAs,
} from '../src/index.js';
import { type CodeFlowOptions, CookieJar, codeFlow, fetchWithJar } from '../src/testing/index.js';

export const API = DEFAULT_ADDRESSES.API_ORIGIN;
export const STOCKS = `${API}/stocks`;
export const SERVICE_A = `${API}/a`;
export const SERVICE_B = `${API}/b`;
export const SERVICE_C = `${API}/c`;
export const REDIRECT_URI = `${DEFAULT_ADDRESSES.BFF_ORIGIN}/auth/callback`;
export const CLIENTS = {
  bff: 'bff-dev-secret',
  'service-a': 'service-a-dev-secret',
  'service-b': 'service-b-dev-secret',
  'stocks-api': 'stocks-api-dev-secret',
} as const;

export function demoSeed(): Promise<Seed> {
  return loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES });
}

/** Starts an AS for one test (closed when the test ends). */
export async function startAs(t: ExecutionContext, options: Partial<StartOptions> = {}): Promise<RunningMockAs> {
  const as = await startMockAs({ seed: await demoSeed(), log: () => {}, ...options });
  t.teardown(() => as.close());
  return as;
}

/** openid-client configuration for a seeded client (plain http on loopback is allowed). */
export function clientFor(
  as: { issuer: string },
  clientId: keyof typeof CLIENTS = 'bff',
  secret: string = CLIENTS[clientId],
): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(as.issuer), clientId, undefined, oidc.ClientSecretBasic(secret), {
    execute: [oidc.allowInsecureRequests],
  });
}

/** The code flow for a seeded client, through the forms; the demo's defaults filled in. */
export function authorize(
  config: oidc.Configuration,
  options: Omit<CodeFlowOptions, 'redirectUri' | 'scope'> & { scope?: string },
) {
  return codeFlow(config, {
    redirectUri: REDIRECT_URI,
    scope: 'openid profile email stocks:read stocks:buy a b c',
    resources: [STOCKS, SERVICE_A],
    ...options,
  });
}

/** Decodes a JWT's header and payload without verifying it (assertions only). */
export function decode(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h = '', p = ''] = jwt.split('.');
  const json = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: json(h), payload: json(p) };
}

/** A Content-Security-Policy header as directive → sources. */
export function parseCsp(header: string | null): Map<string, string[]> {
  return new Map(
    (header ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name = '', ...sources]) => [name.toLowerCase(), sources]),
  );
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * What is wrong with the protective headers of an HTML page of the AS: an empty list when nothing is.
 * Checks anti-framing, a strict CSP whose hashes allow exactly the page's inline <style> and <script>
 * elements, nosniff and no referrer. A plain function, so the fuzz test can call it too.
 */
export function pageSecurityProblems(headers: Headers, html: string): string[] {
  const problems: string[] = [];
  const expect = (name: string, value: string) => {
    if (headers.get(name) !== value) problems.push(`${name} is ${headers.get(name)}, not ${value}`);
  };
  expect('x-frame-options', 'DENY');
  expect('x-content-type-options', 'nosniff');
  expect('referrer-policy', 'no-referrer');
  const csp = parseCsp(headers.get('content-security-policy'));
  for (const directive of ['default-src', 'frame-ancestors', 'base-uri']) {
    if (csp.get(directive)?.join(' ') !== "'none'") problems.push(`CSP ${directive} is not 'none'`);
  }
  if (!csp.get('form-action')?.includes("'self'")) problems.push("CSP form-action does not allow 'self'");
  for (const [directive, sources] of csp) {
    if (sources.some((s) => ['*', "'unsafe-inline'", "'unsafe-eval'", 'http:', 'https:', 'data:'].includes(s))) {
      problems.push(`CSP ${directive} is loose: ${sources.join(' ')}`);
    }
  }
  for (const [element, directive] of [
    ['style', 'style-src'],
    ['script', 'script-src'],
  ] as const) {
    for (const [, inline = ''] of html.matchAll(new RegExp(`<${element}>([\\s\\S]*?)</${element}>`, 'g'))) {
      if (!csp.get(directive)?.includes(sha256(inline)))
        problems.push(`CSP ${directive} does not allow the inline ${element}`);
    }
  }
  return problems;
}

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Follows the AS's own redirects to the page they end on. */
export async function pageAt(jar: CookieJar, url: URL | string, init?: RequestInit) {
  let res = await fetchWithJar(jar, url, init);
  let at = new URL(url);
  for (let location = res.headers.get('location'); location; location = res.headers.get('location')) {
    at = new URL(location, at);
    res = await fetchWithJar(jar, at);
  }
  return { res, at, html: await res.text() };
}

/**
 * Starts an authorization request of the bff client and follows it to the login page. `at` is the
 * interaction's URL, `uid` its id, `jar` holds its cookie.
 */
export async function atLogin(t: ExecutionContext, as?: RunningMockAs) {
  const server = as ?? (await startAs(t));
  const config = await clientFor(server);
  const jar = new CookieJar();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const page = await pageAt(jar, url);
  return { as: server, config, jar, uid: page.at.pathname.split('/').pop() ?? '', ...page };
}

/** Confirms the AS's logout page (`html`): submits its form with its xsrf token and `logout=yes`. */
export function confirmLogout(jar: CookieJar, issuer: string, html: string): Promise<Response> {
  const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return fetchWithJar(jar, new URL(action, issuer), {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ xsrf, logout: 'yes' }),
  });
}

/** Internals an error page must never show: stack frames, file paths, library and class names. */
export function leaks(text: string): string[] {
  const patterns = [
    /\bat \S+ \(|:\d+:\d+\)?$/m,
    /\/(work|home|tmp|usr|app|src)\/|node_modules|\.[cm]?[jt]s\b/,
    /oidc-provider|\bkoa\b|raw-body|co-body|bodyparser|http-errors/i,
    /\b[A-Z]\w*Error\b/,
  ];
  return patterns.flatMap((p) => p.exec(text)?.[0] ?? []);
}
