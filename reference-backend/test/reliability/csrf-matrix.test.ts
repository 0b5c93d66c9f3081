/**
 * CSRF on every route (D4; BBA §6.1.3.3; RFC 9700 §4.7): the routes are listed from the app
 * itself (reliability/_csrf-matrix.ts), so a route added without a row in the table fails here. Each
 * gets the requests another site can make with the user's cookie (a browser that sends it anyway,
 * as a same-site page's does): a cross-site form POST, a `no-cors` fetch, a call without the CSRF
 * header, a foreign or `null` `Origin`, `Sec-Fetch-Site: cross-site` and `same-site`. A refusal
 * must be the route's own error (400 `invalid_session` JSON on the endpoints and the admin API, a
 * 403 page on sign-out), and afterwards the session must be what it was: its record, its grant, the
 * AS's faults, and it still gets tokens; no answer carries an `Access-Control-*` header. Then the
 * same routes under other spellings of their paths and other methods (a CSRF check skipped on one
 * path was GHSA-4j63-5v5f-xcc4), an attacker's authorization response replayed in the victim's
 * browser (login CSRF), and each route's legitimate request, which must pass, using the session
 * exactly where the table says it does. A second test does the same in proxy mode, where every path
 * the backend does not own goes to the user's dev server, without the backend's cookies.
 *
 * About 500 requests on loopback; no environment settings.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CSRF_HEADER } from '@tmi-bff/koa';
import { signIn } from '@tmi-bff/mock-as/testing';
import { recordResult } from '@tmi-bff/store/testing';
import test from 'ava';
import { STOCKS, type Stack, startStack, type UserAgent } from '../_setup.js';
import {
  FOREIGN,
  fingerprint,
  fullStack,
  listRoutes,
  ownHeaders,
  ROUTE_TABLE,
  type RouteRow,
  send,
  snapshotOf,
} from './_csrf-matrix.js';

interface HostileCase {
  name: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** Headers that say another site sent the request: a case each, over the route's own headers. */
const FOREIGN_HEADERS: ReadonlyArray<[string, Record<string, string>]> = [
  ['foreign Origin', { origin: FOREIGN }],
  ['Origin null', { origin: 'null' }],
  ['Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
  ['Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }],
];

/** The requests another site can make, for a route whose own method is `method`. */
function hostileCases(row: RouteRow, stack: Stack): HostileCase[] {
  const post = row.method === 'POST';
  const cases: HostileCase[] = [
    {
      // <form method=post action=…> submitted from another site.
      name: 'cross-site form POST',
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: FOREIGN,
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'document',
      },
      body: 'seconds=0&persona=mallory&count=1',
    },
    {
      // fetch(url, { mode: 'no-cors', credentials: 'include' }): no custom header possible.
      name: 'no-cors fetch',
      method: row.method,
      headers: {
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'no-cors',
        'sec-fetch-dest': 'empty',
        ...(post ? { origin: FOREIGN, 'content-type': 'text/plain' } : {}),
      },
      ...(post ? { body: '{"seconds":0}' } : {}),
    },
  ];
  const same = ownHeaders(stack, row);
  const body = row.json ? { body: JSON.stringify(row.json) } : {};
  const withHeader = row.defence === 'endpoint' ? { [CSRF_HEADER]: '1' } : {};
  const { 'sec-fetch-site': _site, origin: _origin, ...plain } = same;
  if (row.defence === 'sign-out') {
    // A form cannot send the header: the defence is Origin or Sec-Fetch-Site, one of them present.
    cases.push({ name: 'no Origin and no Sec-Fetch-Site', method: row.method, headers: plain, ...body });
  } else {
    const { [CSRF_HEADER]: _header, ...noHeader } = same;
    cases.push({ name: 'missing CSRF header', method: row.method, headers: noHeader, ...body });
  }
  for (const [name, header] of FOREIGN_HEADERS) {
    cases.push({ name, method: row.method, headers: { ...plain, ...withHeader, ...header }, ...body });
  }
  return cases;
}

/** Sends `hostile` to `row`'s path with `user`'s cookies. */
function sendHostile(user: UserAgent, row: RouteRow, hostile: HostileCase) {
  return send(user, row.path, {
    method: hostile.method,
    headers: hostile.headers,
    ...(hostile.body === undefined ? {} : { body: hostile.body }),
  });
}

/** The refusal D4 gives `row` for `hostile`, or undefined where the route takes it by design. */
function expectedRefusal(row: RouteRow, hostile: HostileCase): { status: number[]; kind: 'json' | 'page' } | undefined {
  const wrongMethod =
    hostile.method !== row.method && !(row.path.startsWith('/.well-known/bff-token') && hostile.method === 'POST');
  switch (row.defence) {
    case 'endpoint':
      return { status: wrongMethod ? [405] : [400], kind: 'json' };
    case 'sign-out':
      return { status: [403], kind: 'page' };
    case 'stream':
      // An EventSource cannot send the header: none is asked (flow-stream.ts).
      if (hostile.name === 'missing CSRF header') return undefined;
      return { status: wrongMethod ? [405] : [400], kind: 'json' };
    default:
      // GET pages and files: a form POST meets the router's 405; the rest is not refused, and changes nothing.
      if (hostile.method === 'POST' && row.method === 'GET') return { status: [405], kind: 'page' };
      return undefined;
  }
}

/** The victim still holds the same session and still gets tokens. */
async function stillSignedIn(victim: UserAgent, label: string, problems: string[]): Promise<void> {
  const info = await victim.sessionInfo();
  if (info.status !== 200 || info.body.sub !== 'alice') problems.push(`${label}: no longer signed in (${info.status})`);
  const token = await victim.token({ resource: STOCKS, scope: 'stocks:read' });
  if (token.status !== 200 || typeof token.body.access_token !== 'string') {
    problems.push(`${label}: no token served (${token.status} ${JSON.stringify(token.body)})`);
  }
}

test('D4 (TMI-37): every route of the backend is in the CSRF matrix; every hostile request to a session route is refused with its error, and the session is unchanged', async (t) => {
  t.timeout(120_000);
  const stack = await fullStack(t);
  const victim = stack.browser();
  await victim.signIn({ persona: 'alice' });

  // The routes, from the app: none missing from the table, none in the table that the app lacks.
  const listed = await listRoutes(stack);
  const names = listed.map((r) => r.name);
  t.deepEqual(
    names.filter((n) => !(n in ROUTE_TABLE)),
    [],
    'routes not in the CSRF matrix: give each a row in reliability/_csrf-matrix.ts ROUTE_TABLE',
  );
  t.deepEqual(
    Object.keys(ROUTE_TABLE).filter((n) => !names.includes(n)),
    [],
    'rows for routes the app does not serve',
  );
  for (const { name, path } of listed) {
    if (/[:*]/.test(path)) continue;
    t.is(new URL(ROUTE_TABLE[name]?.path ?? '', stack.origin).pathname, path, `${name}: the row's path is the route's`);
  }

  // Every mismatch, named: the matrix reports all of them at once.
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  let refused = 0;
  let taken = 0;
  let requests = 0;
  for (const [name, row] of Object.entries(ROUTE_TABLE)) {
    for (const hostile of hostileCases(row, stack)) {
      const label = `${name} · ${hostile.name}`;
      const before = await snapshotOf(stack, victim);
      const res = await sendHostile(victim, row, hostile);
      requests += 1;
      const seen = `${res.status} ${res.text.slice(0, 160)}`;
      // D4 (TMI-37 b): no answer lets another origin read it.
      for (const [header] of res.headers) {
        if (header.startsWith('access-control-')) problems.push(`${label}: answered with ${header}`);
      }
      expect(res.status < 500, `${label}: ${seen}`);
      const expected = expectedRefusal(row, hostile);
      if (expected) {
        refused += 1;
        expect(expected.status.includes(res.status), `${label}: expected ${expected.status}, got ${seen}`);
        // The router's own 405 (Allow) on the GET pages and files; every other refusal is not cached.
        if (expected.kind === 'json' || res.status === 403) {
          expect(res.headers.get('cache-control') === 'no-store', `${label}: not no-store`);
        }
        if (expected.kind === 'json') {
          // D6: the JSON error; a CSRF refusal is invalid_session naming its cause, a wrong method D2's 405.
          const body = (() => {
            try {
              return JSON.parse(res.text) as Record<string, unknown>;
            } catch {
              return {};
            }
          })();
          expect(Object.keys(body).sort().join() === 'error,error_description', `${label}: body ${seen}`);
          expect(
            res.status === 400
              ? body.error === 'invalid_session' && /\(CSRF defence\)$/.test(String(body.error_description))
              : body.error === 'invalid_request',
            `${label}: error ${seen}`,
          );
        } else if (res.status === 403) {
          expect(/^text\/html/.test(res.headers.get('content-type') ?? ''), `${label}: not a page`);
          expect(/Sign-out refused/.test(res.text), `${label}: ${seen}`);
        }
      } else {
        taken += 1;
      }
      expect(
        (await snapshotOf(stack, victim)) === before,
        `${label}: the session, its grant or the AS's faults changed`,
      );
      await stillSignedIn(victim, label, problems);
    }
  }

  // Other spellings of the defended paths, and other methods: refused or unknown, never served.
  const defended = Object.entries(ROUTE_TABLE).filter(([, row]) =>
    ['endpoint', 'sign-out', 'stream'].includes(row.defence),
  );
  let variants = 0;
  for (const [name, row] of defended) {
    const url = new URL(row.path, stack.origin);
    const p = url.pathname;
    const last = p.length - 1;
    const spellings = [
      p.toUpperCase(),
      `${p}/`,
      `${p.slice(0, last)}%${p.charCodeAt(last).toString(16).toUpperCase()}`,
      `/.${p}`,
      `${p};x`,
      `${p}%2F`,
    ];
    const attempts = [
      ...spellings.map((s) => ({ path: `${s}${url.search}`, method: row.method })),
      ...['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'].map((method) => ({ path: row.path, method })),
    ];
    for (const attempt of attempts) {
      const label = `${name} · ${attempt.method} ${attempt.path}`;
      const before = await snapshotOf(stack, victim);
      const res = await send(victim, attempt.path, {
        method: attempt.method,
        headers: {
          'sec-fetch-site': 'cross-site',
          'sec-fetch-mode': 'no-cors',
          ...(attempt.method === 'GET' || attempt.method === 'HEAD' ? {} : { origin: FOREIGN }),
        },
      });
      requests += 1;
      variants += 1;
      // OPTIONS is answered by the router with its Allow list, and no Access-Control-Allow-* header:
      // a preflight that fails, so the request it announces is never sent.
      const preflight =
        attempt.method === 'OPTIONS' && ![...res.headers.keys()].some((h) => h.startsWith('access-control-'));
      expect(
        [400, 403, 404, 405].includes(res.status) || (preflight && res.status < 300),
        `${label}: ${res.status} ${res.text.slice(0, 160)}`,
      );
      expect((await snapshotOf(stack, victim)) === before, `${label}: something changed`);
    }
  }
  await stillSignedIn(victim, 'after the variants', problems);

  // Login CSRF (RFC 9700 §4.7): the attacker's own authorization response, sent to the victim's
  // browser, finds no login transaction there: a page, and the victim is still alice, not mallory.
  const attacker = stack.browser();
  const start = await attacker.fetch('/auth/login');
  const attackerCallback = await signIn(start.headers.get('location') ?? '', { persona: 'bob', jar: attacker.jar });
  {
    const before = await snapshotOf(stack, victim);
    const res = await send(victim, attackerCallback.pathname + attackerCallback.search, {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    });
    requests += 1;
    const label = "auth.callback · the attacker's authorization response";
    expect(res.status === 400 && /This sign-in link has expired/.test(res.text), `${label}: ${res.status}`);
    expect((await snapshotOf(stack, victim)) === before, `${label}: the session changed`);
    await stillSignedIn(victim, label, problems);
  }

  // The legitimate request of each route passes; a route uses the session where the table says:
  // with the session's cookie, it answers otherwise than without one, or changes the session.
  // A browser of its own for each route, signed in before any knob takes the AS down: some of these
  // requests end or change the session they are given.
  const users = new Map<string, UserAgent>();
  for (const name of Object.keys(ROUTE_TABLE)) {
    const user = stack.browser();
    await user.signIn({ persona: 'alice' });
    users.set(name, user);
    requests += 1;
  }
  let legitimate = 0;
  for (const [name, row] of Object.entries(ROUTE_TABLE)) {
    const user = users.get(name) as UserAgent;
    expect(!(row.session && ['server', 'static'].includes(row.defence)), `${name}: a session route needs a defence`);
    const init = {
      method: row.method,
      headers: ownHeaders(stack, row),
      ...(row.json ? { body: JSON.stringify(row.json) } : {}),
    };
    if (name === 'auth.callback') {
      // A sign-in again, over the session (cookies.test.ts: it gets a new session id).
      const status = (await user.signIn({ persona: 'alice' })).status;
      expect(status === row.ok, `${name}: a sign-in over a session answered ${status}`);
      expect((await user.sessionInfo()).status === 200, `${name}: signed in`);
      requests += 1;
      legitimate += 1;
      continue;
    }
    const anonymous = await send(stack.browser(), row.path, init);
    const again = await send(stack.browser(), row.path, init);
    const held = await snapshotOf(stack, user, { faults: false });
    const res = await send(user, row.path, init);
    const changed = (await snapshotOf(stack, user, { faults: false })) !== held;
    requests += 3;
    // A body that differs between two answers without a session (a nonce) is left out.
    const body = anonymous.text === again.text;
    legitimate += 1;
    expect(res.status === row.ok, `${name}: the legitimate request answered ${res.status}, not ${row.ok}`);
    const [without, withCookie] = [fingerprint(anonymous, stack.origin, body), fingerprint(res, stack.origin, body)];
    const uses = without !== withCookie || changed;
    expect(
      uses === row.session,
      `${name}: ${uses ? 'uses' : 'does not use'} the session: ${without} without, ${withCookie} with${changed ? ', and it changed the session' : ''}`,
    );
  }
  t.deepEqual(problems, []);

  recordResult(t, {
    area: 'CSRF and cookies',
    tried: `every route listed from the app's router and meta tags (${listed.length}): a cross-site form POST, a no-cors fetch, no CSRF header, a foreign or null Origin, Sec-Fetch-Site cross-site and same-site; other path spellings and methods of the defended routes; each route's legitimate request`,
    cases: requests,
    figures: `${refused} hostile requests refused with the route's own error, ${taken} GET navigations answered by design, 0 sessions changed; ${variants} path and method variants refused or unknown; ${legitimate} legitimate requests passed`,
  });
});

test("D4: in proxy mode, every path the backend does not own reaches the dev server without the backend's cookies, whatever its spelling, and the backend's own routes keep their defence", async (t) => {
  t.timeout(120_000);
  // The user's dev server: it records what reaches it.
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  const dev = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    res.setHeader('content-type', 'text/plain');
    res.end('dev server');
  });
  dev.listen(0, '127.0.0.1');
  await once(dev, 'listening');
  t.teardown(() => dev.close());
  const stack = await startStack(t, {
    backend: {
      mock: { enabled: true },
      tokens: { asTimeoutMs: 15_000 },
      frontend: { proxy: `http://127.0.0.1:${(dev.address() as AddressInfo).port}` },
    },
    as: { faults: { enabled: true } },
  });
  const victim = stack.browser();
  await victim.signIn({ persona: 'alice' });
  victim.jar.set(new URL(stack.origin).hostname, 'theme', 'dark');

  // The same route table, less the sample SPA's routes (not served in front of the user's app).
  const names = (await listRoutes(stack)).map((r) => r.name);
  t.deepEqual(
    names.filter((n) => !(n in ROUTE_TABLE)),
    [],
    'routes not in the CSRF matrix: give each a row in reliability/_csrf-matrix.ts ROUTE_TABLE',
  );

  const problems: string[] = [];
  let requests = 0;
  const forwarded = [
    '/',
    '/app/page?x=1',
    '/auth',
    '/AUTH/LOGOUT',
    '/Auth/logout',
    '/_MOCK/session/lifetime',
    '/_mockx',
    '/.well-known/other',
  ];
  for (const path of forwarded) {
    for (const method of ['GET', 'POST']) {
      const before = await snapshotOf(stack, victim);
      const count = seen.length;
      const res = await send(victim, path, {
        method,
        headers: {
          origin: FOREIGN,
          'sec-fetch-site': 'cross-site',
          'content-type': 'application/x-www-form-urlencoded',
        },
        ...(method === 'POST' ? { body: 'seconds=0' } : {}),
      });
      requests += 1;
      const label = `${method} ${path}`;
      const reached = seen[count];
      if (res.status !== 200 || res.text !== 'dev server' || !reached) {
        problems.push(`${label}: ${res.status} ${res.text.slice(0, 80)}, not the dev server's answer`);
        continue;
      }
      const cookie = String(reached.headers.cookie ?? '');
      if (/bff-(session|login)/.test(cookie)) problems.push(`${label}: the dev server got ${cookie}`);
      if (!cookie.includes('theme=dark')) problems.push(`${label}: the app's own cookie was dropped (${cookie})`);
      if ((await snapshotOf(stack, victim)) !== before) problems.push(`${label}: the session changed`);
    }
  }

  // The backend's own routes answer themselves, with their defence: nothing of them is forwarded.
  const count = seen.length;
  let ownRefused = 0;
  for (const [name, row] of Object.entries(ROUTE_TABLE)) {
    if (!names.includes(name) || !['endpoint', 'sign-out', 'stream'].includes(row.defence)) continue;
    for (const hostile of hostileCases(row, stack)) {
      const before = await snapshotOf(stack, victim);
      const res = await sendHostile(victim, row, hostile);
      requests += 1;
      const expected = expectedRefusal(row, hostile);
      if (expected) ownRefused += 1;
      const label = `${name} · ${hostile.name}`;
      if (expected && !expected.status.includes(res.status))
        problems.push(`${label}: ${res.status} ${res.text.slice(0, 120)}`);
      if ((await snapshotOf(stack, victim)) !== before) problems.push(`${label}: the session changed`);
    }
  }
  t.is(seen.length, count, "no request to the backend's own routes reached the dev server");
  await stillSignedIn(victim, 'proxy mode', problems);
  t.deepEqual(problems, []);

  recordResult(t, {
    area: 'CSRF and cookies',
    tried: `proxy mode: ${forwarded.length} forwarded paths (other spellings of the backend's own among them) by GET and a cross-site POST with the session cookie; the hostile requests of the defended routes`,
    cases: requests,
    figures: `${forwarded.length * 2} forwarded requests, 0 carried the backend's cookies to the dev server; ${requests - forwarded.length * 2} hostile requests to the backend's own routes, ${ownRefused} refused with the route's error (the rest the flow stream's header-less GET, by design), none forwarded; 0 sessions changed`,
  });
});
