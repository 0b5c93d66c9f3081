/**
 * AS faults, one table: each fault of the authorization server, met by bff-token when a refresh is
 * due and by the sign-in's code redemption, against the real mock AS. The fault comes from the mock
 * AS's own knobs (stopped, down, slow, HTTP 500) where it has one; otherwise from an interceptor in
 * front of its token endpoint (an answer that is not JSON, cut short, or without `expires_in`), so
 * the refresh tokens stay the real AS's, rotated and single-use: when the fault is gone, the same
 * session must get a token without signing in again (D6).
 *
 * Per case: sign in, take a token, let it expire (a refresh is due), provoke the fault, ask
 * bff-token (the spec's JSON error, or the token where the fault is one the backend works around),
 * check the session is kept, heal, and the same session gets a token by a refresh; then a second
 * sign-in into the fault (its callback's page), heal, and the session gets a token again. One case
 * fails the token exchange after its refresh (BFF_DOWNSCOPING=exchange): the rotated refresh token
 * must have been kept. Bounded: one stack per case, about 2 s each (the slow AS's 3 s waits twice).
 *
 * The limit, in a test of its own: an answer lost after the AS rotated the refresh token loses the
 * grant at an AS that rotates on every use; the app is told to sign in, never given a 5xx.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockAs } from '@tmi-bff/mock-as';
import { signIn } from '@tmi-bff/mock-as/testing';
import { recordResult } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import { type BffResponse, STOCKS, type Stack, startStack, type UserAgent } from '../_setup.js';

/** What the bff-token caller gets: the spec's JSON error (D6, TMI-28) or a token. */
type TokenAnswer = { error: string; description: RegExp } | { token: { maxExpiresIn: number } };
/** What the browser gets back from the callback: the error page, or a signed-in session. */
type CallbackAnswer = { page: RegExp } | 'signed-in';

interface World {
  stack: Stack;
  user: UserAgent;
  /** The interceptor in front of the AS's token endpoint, while set. */
  intercept: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | undefined;
  /** The mock AS's data directory (for a restart on the same port). */
  dataDir: string;
  /** How many token requests the AS had answered when the fault was provoked. */
  mark: number;
}

interface FaultCase {
  name: string;
  /** Settings this case needs (the slow AS needs a short BFF_AS_TIMEOUT_MS). */
  asTimeoutMs?: number;
  /** BFF_DOWNSCOPING; default: refresh. */
  strategy?: 'exchange';
  provoke(w: World): Promise<void>;
  /** Back to health; the default clears the interceptor. */
  heal?(w: World): Promise<void>;
  token: TokenAnswer;
  /** The reason the backend logs (as-failure.ts), where the fault is one. */
  reason?: string;
  /** The code redemption's outcome; none where the fault cannot meet it. */
  callback?: CallbackAnswer;
}

const knob = async (w: World, path: string, body?: unknown) => {
  const res = await w.user.bff(`/_mock${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (res.status !== 200) throw new Error(`knob ${path} answered ${res.status} ${JSON.stringify(res.body)}`);
};

/** The mock AS's knob fails the next token request only: the fault heals by itself. */
const failOnce = (body: Record<string, unknown>): Pick<FaultCase, 'provoke' | 'heal'> => ({
  provoke: (w) => knob(w, '/as/fail', { count: 1, ...body }),
  heal: async () => {},
});

/** The token endpoint answers by itself, in front of the AS (which never sees the request). */
const answerFor =
  (answer: (res: ServerResponse) => void) =>
  async (w: World): Promise<void> => {
    w.intercept = async (_req, res) => {
      answer(res);
      return true;
    };
  };

/** The token endpoint answers this status, content type and body by itself. */
const answering = (status: number, type: string, body: string) =>
  answerFor((res) => res.writeHead(status, { 'content-type': type }).end(body));

/** The AS answers, and the interceptor rewrites its JSON token response on the way out. */
function rewriteTokenResponse(res: ServerResponse, rewrite: (body: Record<string, unknown>) => void): void {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown) => {
    if (res.statusCode !== 200 || chunk === undefined) return end(chunk);
    const body = JSON.parse(String(chunk)) as Record<string, unknown>;
    rewrite(body);
    const text = JSON.stringify(body);
    res.setHeader('content-length', Buffer.byteLength(text));
    return end(text);
  }) as typeof res.end;
}

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * D6: a fault the backend cannot work around. bff-token answers temporarily_unavailable with "the
 * authorization server <what>; try again shortly", the backend logs `reason` (as-failure.ts), and
 * the callback's page says the same <what>.
 */
const unavailable = (reason: string, what: string): Pick<FaultCase, 'token' | 'reason' | 'callback'> => ({
  token: {
    error: 'temporarily_unavailable',
    description: new RegExp(`^the authorization server ${literal(what)}; try again shortly$`),
  },
  reason,
  callback: { page: new RegExp(literal(what)) },
});

const CASES: FaultCase[] = [
  {
    name: 'stopped (connection refused)',
    async provoke(w) {
      await w.stack.as.close();
    },
    async heal(w) {
      const { issuer } = w.stack.as;
      const back = await startMockAs({
        seed: w.stack.seed,
        dataDir: w.dataDir,
        port: Number(new URL(issuer).port),
        issuer,
        faults: { enabled: true },
        log: () => {},
      });
      w.stack.as = back;
    },
    ...unavailable('unreachable', 'could not be reached'),
  },
  {
    name: 'dropping every connection (mock AS knob as/down)',
    provoke: (w) => knob(w, '/as/down'),
    heal: (w) => knob(w, '/as/up'),
    ...unavailable('unreachable', 'could not be reached'),
  },
  {
    name: 'slower than BFF_AS_TIMEOUT_MS (mock AS knob as/fail delayMs)',
    asTimeoutMs: 1500,
    provoke: (w) => knob(w, '/as/fail', { count: 1, delayMs: 3000 }),
    // The late answer lands (and is stored, D6): the AS has answered the delayed request.
    async heal(w) {
      const deadline = Date.now() + 10_000;
      while (!w.stack.grants.slice(w.mark).some((g) => g.ok)) {
        if (Date.now() > deadline) throw new Error('the delayed request was never answered');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    ...unavailable('timeout', 'did not answer in time'),
    // BFF_AS_TIMEOUT_MS bounds bff-token callers only: the sign-in waits for its code (and gets it).
    callback: 'signed-in',
  },
  {
    name: 'answering HTTP 500, not JSON (mock AS knob as/fail status)',
    ...failOnce({ status: 500 }),
    ...unavailable('bad_response', 'answered HTTP 500, text/plain; charset=utf-8 without an OAuth error'),
  },
  {
    name: 'answering HTTP 500 with an OAuth error (mock AS knob as/fail error)',
    ...failOnce({ status: 500, error: 'server_error', error_description: 'the AS failed' }),
    // TMI-BFF-01 §4.3.3 (TMI-28): an OAuth error from the AS is relayed verbatim.
    token: { error: 'server_error', description: /^the AS failed$/ },
    callback: { page: /server_error: the AS failed/ },
  },
  {
    name: 'answering invalid JSON as application/json',
    provoke: answering(200, 'application/json', '{"access_token":"abc","token_type":'),
    ...unavailable('bad_response', 'answered with a malformed response'),
  },
  {
    name: 'answering 200 with a non-JSON content type',
    provoke: answering(200, 'text/html', '<html>maintenance</html>'),
    ...unavailable('bad_response', 'answered something that is not OAuth JSON (HTTP 200, text/html)'),
  },
  {
    name: 'a body cut short (the connection ends before Content-Length)',
    provoke: answerFor((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
      res.write('{"access_token":"eyJhbGciOiJSUzI1NiJ9.', () => res.socket?.destroy());
    }),
    ...unavailable('bad_response', 'broke off its answer before the end'),
  },
  {
    name: 'a 200 token response without access_token',
    provoke: answering(200, 'application/json', JSON.stringify({ token_type: 'Bearer', expires_in: 300 })),
    ...unavailable('bad_response', 'answered with a malformed response'),
  },
  {
    // D9 exchange: the refresh rotates the refresh token, then the exchange fails; the rotated
    // refresh token must have been kept, or the next refresh presents a spent one (invalid_grant).
    // The sign-in does no exchange: no callback case.
    name: 'answering the token exchange with HTTP 500, after the refresh (BFF_DOWNSCOPING=exchange)',
    strategy: 'exchange',
    async provoke(w) {
      let seen = 0;
      w.intercept = async (_req, res) => {
        seen += 1;
        if (seen === 1) return false;
        res.writeHead(500, { 'content-type': 'text/plain' }).end('exchange failed');
        return true;
      };
    },
    token: unavailable('bad_response', 'answered HTTP 500, text/plain without an OAuth error').token,
    reason: 'bad_response',
  },
  {
    name: 'a token response without expires_in',
    async provoke(w) {
      w.intercept = async (_req, res) => {
        rewriteTokenResponse(res, (body) => {
          delete body.expires_in;
        });
        return false;
      };
    },
    // RFC 6749 §5.1: expires_in is RECOMMENDED only; the backend assumes 60 s (TokenService's
    // assumedLifetimeSeconds) and says no more (TMI-19).
    token: { token: { maxExpiresIn: 60 } },
    callback: 'signed-in',
  },
];

const stocks = (user: UserAgent, fresh = false) =>
  user.token({ resource: STOCKS, scope: 'stocks:read', ...(fresh ? { fresh: '1' } : {}) });

/** The browser up to the callback URL the AS sends it to (the AS's forms done, the callback not yet followed). */
async function upToCallback(user: UserAgent): Promise<URL> {
  const start = await user.fetch('/auth/login');
  return signIn(start.headers.get('location') ?? '', { jar: user.jar, persona: 'alice' });
}

function assertJsonError(t: ExecutionContext, res: BffResponse, error: string, description: RegExp, name: string) {
  t.is(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
  t.deepEqual(Object.keys(res.body).sort(), ['error', 'error_description'], name);
  t.is(res.body.error, error, name);
  t.regex(String(res.body.error_description), description, name);
  t.is(res.headers.get('cache-control'), 'no-store', name);
  t.is(res.headers.get('pragma'), 'no-cache', name);
  t.regex(res.headers.get('content-type') ?? '', /^application\/json/, name);
}

async function runCase(t: ExecutionContext, fault: FaultCase): Promise<{ ms: number; cases: number }> {
  const started = performance.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'as-faults-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const logs: string[] = [];
  const stack = await startStack(t, {
    as: { dataDir, faults: { enabled: true } },
    backend: {
      mock: { enabled: true },
      logLevel: 'debug',
      log: (line) => logs.push(line),
      tokens: {
        ...(fault.asTimeoutMs ? { asTimeoutMs: fault.asTimeoutMs } : {}),
        ...(fault.strategy ? { strategy: fault.strategy } : {}),
      },
    },
  });
  // The restarted AS (the "stopped" case) is a new server: close whichever runs at the end.
  t.teardown(() => stack.as.close().catch(() => {}));
  const user = stack.browser();
  const w: World = { stack, user, intercept: undefined, dataDir, mark: 0 };
  const provoke = async () => {
    w.mark = stack.grants.length;
    await fault.provoke(w);
  };
  stack.interceptAs(async (req, res) => (req.url?.startsWith('/token') && w.intercept ? w.intercept(req, res) : false));
  const heal = async () => {
    if (fault.heal) await fault.heal(w);
    else w.intercept = undefined;
  };

  t.is((await user.signIn({ persona: 'alice' })).status, 303, fault.name);
  const sid = await stack.sessionId(user);
  const first = await stocks(user);
  t.is(first.status, 200, fault.name);
  // The cached token expires: the next call must refresh.
  stack.advance(Number(first.body.expires_in) * 1000);

  // bff-token, a refresh due, into the fault.
  await provoke();
  const from = logs.length;
  const during = await stocks(user);
  if ('error' in fault.token) {
    assertJsonError(t, during, fault.token.error, fault.token.description, fault.name);
    t.not(during.body.access_token, first.body.access_token, `${fault.name}: the expired token is not served`);
  } else {
    t.is(during.status, 200, `${fault.name}: ${JSON.stringify(during.body)}`);
    t.deepEqual(Object.keys(during.body).sort(), ['access_token', 'expires_in', 'scope'], fault.name);
    const expiresIn = Number(during.body.expires_in);
    t.true(expiresIn >= 1 && expiresIn <= fault.token.token.maxExpiresIn, `${fault.name}: expires_in ${expiresIn}`);
    t.is(during.headers.get('tmi-bff-token-source'), 'refresh', fault.name);
  }
  if (fault.reason) {
    const line = logs.slice(from).find((l) => l.startsWith('bff.token.error'));
    t.true(line?.includes(`"detail":"${fault.reason}`), `${fault.name}: logged ${line}`);
  }
  t.is((await user.sessionInfo()).status, 200, `${fault.name}: the session is kept`);
  t.is(await stack.sessionId(user), sid, fault.name);
  await heal();
  // Healthy again: every token it holds expired, the same session gets one from the AS, by a
  // refresh: its refresh token (rotated or not during the fault) still works.
  stack.advance(600_000);
  const again = await stocks(user);
  t.is(again.status, 200, `${fault.name}: after healing ${JSON.stringify(again.body)}`);
  t.is(again.headers.get('tmi-bff-token-source'), fault.strategy ?? 'refresh', fault.name);
  t.is(await stack.sessionId(user), sid, fault.name);

  // The sign-in's code redemption, into the fault (a second sign-in over the same session).
  if (fault.callback === undefined) return { ms: performance.now() - started, cases: 1 };
  const callback = await upToCallback(user);
  await provoke();
  const back = await user.fetch(callback.pathname + callback.search);
  if (fault.callback === 'signed-in') {
    t.is(back.status, 303, `${fault.name}: the sign-in completes`);
  } else {
    t.is(back.status, 400, `${fault.name}: the callback's page`);
    t.regex(back.headers.get('content-type') ?? '', /^text\/html/, fault.name);
    const html = await back.text();
    t.regex(html, /Sign-in did not complete/, fault.name);
    t.regex(html, fault.callback.page, fault.name);
    t.notRegex(html, /at .+\.(ts|js):\d+/, `${fault.name}: no stack trace`);
    t.is(await stack.sessionId(user), sid, `${fault.name}: the session that was there is kept`);
  }
  await heal();

  // Healthy again: the session (the same, or the new one where the sign-in completed) gets a token
  // from the AS without another sign-in.
  const after = await stocks(user, true);
  t.is(after.status, 200, `${fault.name}: after healing ${JSON.stringify(after.body)}`);
  t.is(after.body.scope, 'stocks:read', fault.name);
  if (fault.callback !== 'signed-in') t.is(await stack.sessionId(user), sid, fault.name);
  // A later sign-in works too.
  t.is((await user.signIn({ persona: 'alice' })).status, 303, `${fault.name}: signing in again works`);
  t.is((await stocks(user)).status, 200, fault.name);
  return { ms: performance.now() - started, cases: 2 };
}

test('D6: each AS fault, on bff-token with a refresh due and on the code redemption: the spec’s JSON error, and the session survives', async (t) => {
  // About 20 s on a quiet 2-core machine; the bound leaves room for a loaded one.
  t.timeout(180_000);
  const timings: string[] = [];
  let cases = 0;
  for (const fault of CASES) {
    const run = await runCase(t, fault);
    cases += run.cases;
    timings.push(`${fault.name} ${Math.round(run.ms)} ms`);
  }
  recordResult(t, {
    area: 'AS faults',
    tried: `${CASES.length} AS faults (stopped, dropping connections, slow, HTTP 500 with and without an OAuth error, invalid JSON, non-JSON 200, body cut short, no access_token, the token exchange failing after the refresh, no expires_in), each on bff-token with a refresh due and, where it applies, on the sign-in's code redemption`,
    cases,
    figures: `0 5xx, 0 lost sessions; every session got a token again once the AS was healthy; per case ${timings.join(', ')}`,
  });
});

test('D6: an answer cut off after the AS rotated the refresh token: temporarily_unavailable, then the AS’s invalid_grant relayed and backend_not_ready (sign_in); never a 5xx', async (t) => {
  // The limit of "the session survives": the rotated refresh token was in the lost answer, and an
  // AS that rotates on every use (RFC 9700 §4.14.2, as the mock AS does) refuses the spent one and
  // revokes the grant. Only an AS with a reuse interval would take it again.
  const started = performance.now();
  const stack = await startStack(t);
  const user = stack.browser();
  await user.signIn({ persona: 'alice' });
  const first = await stocks(user);
  stack.advance(Number(first.body.expires_in) * 1000);
  let cut = true;
  stack.interceptAs(async (req, res) => {
    if (!cut || !req.url?.startsWith('/token')) return false;
    // The AS answers in full; the connection ends halfway through its body.
    res.end = ((chunk?: unknown) => {
      const body = String(chunk ?? '');
      res.write(body.slice(0, body.length / 2), () => res.socket?.destroy());
      return res;
    }) as typeof res.end;
    return false;
  });

  const lost = await stocks(user);
  assertJsonError(
    t,
    lost,
    'temporarily_unavailable',
    /^the authorization server broke off its answer before the end; try again shortly$/,
    'cut',
  );
  const rotated = stack.grants.filter((g) => g.grant_type === 'refresh_token' && g.ok);
  t.is(rotated.length, 2, 'the AS rotated the refresh token (its answer was lost)');
  cut = false;

  const refused = await stocks(user);
  assertJsonError(t, refused, 'invalid_grant', /./, 'the spent refresh token');
  const notReady = await stocks(user);
  t.is(notReady.status, 400);
  t.like(notReady.body, { error: 'backend_not_ready', remediation: 'sign_in' });
  const info = await user.sessionInfo();
  t.is(info.status, 200, 'the session itself is kept, and says why no token can be had');
  t.like(info.body, { tokens_unavailable: { error: 'backend_not_ready', remediation: 'sign_in' } });
  t.is((await user.signIn({ persona: 'alice' })).status, 303);
  t.is((await stocks(user)).status, 200, 'a new sign-in gets tokens again');
  recordResult(t, {
    area: 'AS faults',
    tried: 'a refresh answer cut off after the AS rotated the refresh token (an AS that rotates on every use)',
    cases: 1,
    figures: `0 5xx; temporarily_unavailable, then invalid_grant relayed, then backend_not_ready (sign_in); the session kept, tokens again after a new sign-in; ${Math.round(performance.now() - started)} ms`,
  });
});
