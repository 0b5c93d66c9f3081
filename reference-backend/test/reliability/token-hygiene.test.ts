/**
 * Token hygiene, over a whole session's life against the real mock AS: sign-in, bff-token (by
 * refresh, and by token exchange with BFF_DOWNSCOPING=exchange), consent, bff-sessioninfo, every
 * scenario knob of mock mode, the flow inspector's stream, sign-out and back-channel logout.
 *
 * Every response the backend writes (status, headers, body; the Location of each redirect and each
 * frame of the event stream included) is captured at its HTTP server, and every line of its log
 * (its sink at BFF_LOG_LEVEL=debug, and anything written to stdout or stderr). The tokens searched
 * for are the AS's own: every token response it sent (oidc-provider's `grant.success`), so the
 * search is exact. Then:
 * - no response carries a refresh token; an access token only as bff-token's `access_token`;
 * - no response carries an ID token either: sign-out names the client with `client_id`, as OIDC
 *   RP-Initiated Logout 1.0 §2 allows, unless BFF_LOGOUT_ID_TOKEN_HINT asks for `id_token_hint`
 *   (docs/walkthrough/04-logout.md);
 * - no log line holds a whole access, refresh or ID token;
 * - the flow stream shows tokens shortened (`abcdef…wxyz`), a refresh token never.
 * The code flow's one-time secrets (authorization codes, PKCE verifiers, from the same AS event)
 * and the backend's own keys (client secret, cookie key, store key) appear in neither.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { signIn } from '@tmi-bff/mock-as/testing';
import { recordResult } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import { logOutAtAs, SERVICE_B, STOCKS, type Stack, startStack, type UserAgent } from '../_setup.js';

/** One response of the backend, as written. */
interface Captured {
  method: string;
  url: string;
  res: ServerResponse;
  /** Headers given to writeHead itself (they bypass getHeaders()). */
  direct: Record<string, unknown>;
  body: string[];
}

const text = (chunk: unknown): string =>
  typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';

/** Captures every response `server` writes, from its first byte. */
function captureResponses(server: Server): Captured[] {
  const all: Captured[] = [];
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const record: Captured = { method: req.method ?? '', url: req.url ?? '', res, direct: {}, body: [] };
    all.push(record);
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((a) => typeof a === 'object' && a !== null);
      if (headers) Object.assign(record.direct, headers);
      return writeHead(...args);
    }) as typeof res.writeHead;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      record.body.push(text(chunk));
      return write(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'function') record.body.push(text(chunk));
      return end(chunk, ...rest);
    }) as typeof res.end;
  });
  return all;
}

/** A captured response as one searchable text: status, every header, the body so far. */
function wire(r: Captured): { head: string; body: string } {
  const headers = { ...r.res.getHeaders(), ...r.direct };
  const head = [
    `${r.res.statusCode}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${[v].flat().join(', ')}`),
  ].join('\n');
  return { head, body: r.body.join('') };
}

/** The tokens the AS issued, from its own token responses. */
interface Issued {
  access: Set<string>;
  refresh: Set<string>;
  id: Set<string>;
  /** The other one-time secrets of the code flow: authorization codes and PKCE verifiers. */
  codes: Set<string>;
}

function issuedBy(stack: Stack): Issued {
  const issued: Issued = { access: new Set(), refresh: new Set(), id: new Set(), codes: new Set() };
  stack.as.provider.on('grant.success', (ctx) => {
    const body = ctx.body as Record<string, unknown>;
    const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
    for (const name of ['code', 'code_verifier']) {
      if (typeof params[name] === 'string') issued.codes.add(params[name]);
    }
    if (typeof body.access_token === 'string') issued.access.add(body.access_token);
    if (typeof body.refresh_token === 'string') issued.refresh.add(body.refresh_token);
    if (typeof body.id_token === 'string') issued.id.add(body.id_token);
  });
  return issued;
}

/** Lines written to stdout and stderr while the test runs (nothing of the backend should go there). */
function captureStdio(t: ExecutionContext): string[] {
  const written: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      written.push(text(chunk));
      return write(chunk, ...rest);
    }) as typeof stream.write;
    t.teardown(() => {
      stream.write = write as typeof stream.write;
    });
  }
  return written;
}

/** Opens the flow inspector's stream for `user`'s session; its frames land in the capture. */
async function openFlow(t: ExecutionContext, user: UserAgent): Promise<void> {
  const abort = new AbortController();
  const res = await user.fetch('/_mock/flow', { signal: abort.signal });
  if (res.status !== 200) throw new Error(`/_mock/flow answered ${res.status}`);
  t.teardown(() => abort.abort());
  void (async () => {
    try {
      for await (const _ of res.body as unknown as AsyncIterable<Uint8Array>);
    } catch {
      // aborted at teardown
    }
  })();
}

/** Waits until a captured response's body holds `needle` (the event stream writes as it goes). */
async function until(captured: Captured[], path: string, needle: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!captured.some((r) => r.url.startsWith(path) && r.body.join('').includes(needle))) {
    if (Date.now() > deadline) throw new Error(`no ${needle} in ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const knob = (user: UserAgent, path: string, body?: unknown) =>
  user.bff(`/_mock${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });

/** The browser signs out from the app, and confirms at the AS, which sends it back to the app. */
async function signOut(stack: Stack, user: UserAgent): Promise<string> {
  // Back to a page other than `/`: the AS returns through /auth/signed-out.
  const out = await user.fetch('/auth/logout?returnTo=%2Fstocks', {
    method: 'POST',
    headers: { origin: stack.origin },
  });
  const location = out.headers.get('location') ?? '';
  if (out.status !== 303 || !location.startsWith(stack.as.issuer)) throw new Error(`sign-out answered ${out.status}`);
  const confirm = await user.fetch(location);
  const html = await confirm.text();
  const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !xsrf) throw new Error('no logout form at the AS');
  const confirmed = await user.fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ xsrf, logout: 'yes' }),
  });
  const back = confirmed.headers.get('location') ?? '';
  if (!back.startsWith(`${stack.origin}/auth/signed-out?`)) throw new Error(`the AS sent the browser to ${back}`);
  const page = (await user.fetch(back)).headers.get('location');
  if (page !== '/stocks') throw new Error(`signed out to ${page}`);
  return location;
}

/** Drives one whole session's life; returns the sign-out's redirect. */
async function wholeFlow(t: ExecutionContext, stack: Stack, captured: Captured[]): Promise<string> {
  const ok = (res: { status: number; body: unknown }, what: string, status = 200) =>
    t.is(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
  const alice = stack.browser();
  t.is((await alice.fetch('/')).status, 200);
  t.is((await alice.signIn({ persona: 'alice' })).status, 303);
  await openFlow(t, alice);
  t.is((await alice.fetch('/')).status, 200);

  // bff-token: obtained, cached, narrower, fresh, by form POST.
  ok(await alice.token({ resource: STOCKS, scope: 'stocks:read' }), 'token');
  ok(await alice.token({ resource: STOCKS, scope: 'stocks:read' }), 'cached token');
  ok(await alice.token({ resource: STOCKS, scope: 'stocks:read stocks:buy' }), 'wider token');
  ok(await alice.token({ resource: STOCKS, scope: 'stocks:read', fresh: '1' }), 'fresh token');
  ok(
    await alice.bff('/.well-known/bff-token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ resource: STOCKS, scope: 'stocks:buy' }),
    }),
    'POSTed token',
  );
  ok(await alice.token({ resource: SERVICE_B, scope: 'b' }), 'not ready', 400);

  // D13: consent for another resource, then its token.
  const consent = await alice.fetch(`/auth/consent?resource=${encodeURIComponent(SERVICE_B)}&scope=b&returnTo=/`);
  const callback = await signIn(consent.headers.get('location') ?? '', { persona: 'alice', jar: alice.jar });
  t.is((await alice.fetch(callback.pathname + callback.search)).status, 303);
  const consented = await alice.token({ resource: SERVICE_B, scope: 'b' });
  // The mock AS lets the bff client exchange tokens for some resources only (its seed): B is not one.
  if (stack.backend.config.tokens.strategy === 'exchange') t.like(consented.body, { error: 'invalid_target' });
  else ok(consented, 'consented token');
  ok(await alice.sessionInfo(), 'sessioninfo');

  // Every scenario knob of mock mode.
  ok(await alice.bff('/_mock/state'), 'state');
  ok(await knob(alice, '/session/expire-tokens'), 'expire-tokens');
  ok(await alice.token({ resource: STOCKS, scope: 'stocks:read' }), 'token after expiry');
  ok(await knob(alice, '/session/lifetime', { seconds: 3600 }), 'lifetime');
  ok(await knob(alice, '/as/fail', { count: 1, error: 'invalid_request', error_description: 'injected' }), 'fail');
  ok(await alice.token({ resource: STOCKS, scope: 'stocks:read', fresh: '1' }), 'relayed error', 400);
  ok(await knob(alice, '/as/down'), 'down');
  ok(await alice.token({ resource: STOCKS, scope: 'stocks:read', fresh: '1' }), 'AS down', 400);
  ok(await knob(alice, '/as/up'), 'up');
  ok(await alice.bff('/_mock/state'), 'state again');
  ok(await knob(alice, '/session/persona', { persona: 'bob' }), 'persona');
  await openFlow(t, alice);
  ok(await alice.token({ resource: STOCKS, scope: 'stocks:read' }), "bob's token");
  ok(await alice.sessionInfo(), "bob's sessioninfo");
  ok(await knob(alice, '/session/revoke-grant'), 'revoke-grant');
  ok(await alice.token({ resource: STOCKS, scope: 'stocks:read', fresh: '1' }), 'revoked', 400);

  // Sign-in again, and sign-out, with its stream open to the end.
  t.is((await alice.signIn({ persona: 'alice' })).status, 303);
  await openFlow(t, alice);
  ok(await alice.token({ resource: STOCKS, scope: 'stocks:read' }), 'token before sign-out');
  const signedOut = await signOut(stack, alice);
  await until(captured, '/_mock/flow', '"kind":"sign-out"');
  ok(await alice.sessionInfo(), 'signed out', 400);

  // Back-channel logout: another browser's session ended by the AS.
  const bob = stack.browser();
  t.is((await bob.signIn({ persona: 'bob' })).status, 303);
  await openFlow(t, bob);
  ok(await bob.token({ resource: STOCKS, scope: 'stocks:read' }), 'token before back-channel logout');
  t.is((await logOutAtAs(stack, bob)).status, 303);
  await until(captured, '/_mock/flow', '"kind":"backchannel-logout"');
  ok(await bob.sessionInfo(), 'logged out by the AS', 400);
  return signedOut;
}

/** Every member of a flow event's data, nested ones included, as [name, value]. */
function members(data: unknown): Array<[string, unknown]> {
  if (typeof data !== 'object' || data === null) return [];
  return Object.entries(data).flatMap(([name, value]): Array<[string, unknown]> => [[name, value], ...members(value)]);
}

/** `abcdef…wxyz`, or `… (n chars)` for a short value: flow-events.ts `short`. */
const SHORTENED = /^.{6}….{4}$|^… \(\d+ chars\)$/;

test('Token hygiene: no response carries a refresh or ID token, no log line a whole token, and the flow stream shortens them', async (t) => {
  t.timeout(180_000);
  const started = performance.now();
  const stdio = captureStdio(t);
  const totals = { responses: 0, lines: 0, frames: 0, access: 0, refresh: 0, id: 0, shortened: 0 };
  for (const strategy of ['refresh', 'exchange'] as const) {
    const lines: string[] = [];
    const cookieKey = randomBytes(32).toString('base64url');
    const dataKey = randomBytes(32);
    const stack = await startStack(t, {
      as: { faults: { enabled: true } },
      backend: {
        mock: { enabled: true },
        logLevel: 'debug',
        log: (line) => lines.push(line),
        tokens: { strategy },
        cookieKeys: [cookieKey],
        dataKey,
      },
    });
    // The backend's own secrets: its client secret, its cookie key, the key that seals its store.
    const own = [
      String(stack.backend.config.client.secret ?? ''),
      cookieKey,
      ...['hex', 'base64', 'base64url'].map((f) => dataKey.toString(f as BufferEncoding)),
    ];
    t.true((own[0] ?? '').length >= 8, 'the client has a secret');
    const captured = captureResponses(stack.server);
    const issued = issuedBy(stack);
    const signedOut = await wholeFlow(t, stack, captured);

    // The search is not empty: the AS issued each kind, the backend logged, and served access tokens.
    t.true(issued.refresh.size >= 5 && issued.id.size >= 4 && issued.access.size >= 10, JSON.stringify(totals));
    t.true(issued.codes.size >= 8, 'codes and verifiers of every sign-in');
    t.true(lines.some((l) => l.startsWith('bff.token.success')));
    const all = captured.map((r) => ({ r, ...wire(r) }));
    const served = all.filter((c) => c.r.url.startsWith('/.well-known/bff-token') && c.r.res.statusCode === 200);
    t.true(served.length >= 7, strategy);
    for (const c of served) t.true(issued.access.has(String(JSON.parse(c.body).access_token)), strategy);

    for (const { r, head, body } of all) {
      const where = `${strategy}: ${r.method} ${r.url}`;
      for (const token of issued.refresh) {
        t.false(head.includes(token) || body.includes(token), `${where} carries a refresh token`);
      }
      for (const secret of [...issued.codes, ...own]) {
        t.false(head.includes(secret) || body.includes(secret), `${where} carries a code, verifier or key`);
      }
      // No ID token either: sign-out names the client with client_id (BFF_LOGOUT_ID_TOKEN_HINT off).
      for (const token of issued.id) {
        t.false(head.includes(token) || body.includes(token), `${where} carries an ID token`);
      }
      for (const token of issued.access) {
        if (!head.includes(token) && !body.includes(token)) continue;
        t.true(r.url.startsWith('/.well-known/bff-token'), `${where} carries an access token`);
        t.is(JSON.parse(body).access_token, token, where);
        t.false(head.includes(token), where);
      }
    }

    // The capture reads headers: the sign-out's Location, to the AS's end-session endpoint, was seen.
    const signOut = all.find((c) => c.r.url.startsWith('/auth/logout?'));
    t.is(String(signOut?.r.res.getHeader('location')), signedOut);
    t.is(new URL(signedOut).searchParams.get('client_id'), 'bff', `${strategy}: sign-out names the client`);

    const tokens = [...issued.access, ...issued.refresh, ...issued.id, ...issued.codes, ...own];
    const logged = [...lines, ...stdio.join('').split('\n')];
    for (const line of logged) {
      for (const token of tokens)
        t.false(line.includes(token), `${strategy}: a log line holds a whole token or secret: ${line}`);
    }

    // The flow stream: every token-like member shortened, a refresh token only said to exist.
    const frames = all
      .filter((c) => c.r.url.startsWith('/_mock/flow'))
      .flatMap((c) => c.body.split('\n\n'))
      .map((frame) => /^data: (.*)$/m.exec(frame)?.[1])
      .filter((data): data is string => data !== undefined)
      .map((data) => JSON.parse(data) as { kind: string; data: Record<string, unknown> });
    t.true(frames.length >= 20, `${strategy}: ${frames.length} frames`);
    let shortened = 0;
    for (const frame of frames) {
      for (const [name, value] of members(frame.data)) {
        if (!/token|code|state|nonce|challenge|verifier|sid/.test(name) || typeof value !== 'string') continue;
        if (name === 'refresh_token') {
          t.regex(value, /^issued \(kept by the backend, never shown\)$|^none$/, `${frame.kind}.${name}`);
        } else if (
          !['grant_type', 'token_type', 'token_type_hint', 'state_matches', 'code_challenge_method'].includes(name)
        ) {
          t.regex(value, SHORTENED, `${strategy}: ${frame.kind}.${name} is shortened`);
          shortened += 1;
        }
      }
    }
    t.true(frames.some((f) => f.kind === 'exchange') === (strategy === 'exchange'), strategy);

    totals.responses += all.length;
    totals.lines += logged.length;
    totals.frames += frames.length;
    totals.access += issued.access.size;
    totals.refresh += issued.refresh.size;
    totals.id += issued.id.size;
    totals.shortened += shortened;
  }
  recordResult(t, {
    area: 'Token hygiene',
    tried:
      'a whole session life (sign-in, bff-token by refresh and by token exchange, consent, sessioninfo, every mock-mode knob, the flow stream, sign-out, back-channel logout), every response and log line searched for the AS-issued tokens',
    cases: totals.responses,
    figures: `${totals.responses} responses and ${totals.lines} log lines searched for ${totals.access} access, ${totals.refresh} refresh and ${totals.id} ID tokens (and the codes, PKCE verifiers and the backend's keys): 0 refresh or ID tokens in a response (the ID token only as the sign-out's id_token_hint to the AS), 0 whole tokens in a log line; ${totals.frames} flow frames, ${totals.shortened} values shortened; ${Math.round((performance.now() - started) / 100) / 10} s`,
  });
});
