/**
 * The shared middleware as the package exports it, composed into a route of one's own:
 * errorHandler, noStore, requireSameOrigin (header mode and form mode) and requireSession.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { LeaseLost, StoreUnavailable, StoreWriteFailed } from '@tmi-bff/store';
import test, { type ExecutionContext } from 'ava';
import Koa, { type Middleware } from 'koa';
import {
  CSRF_HEADER,
  type CsrfOptions,
  errorHandler,
  noStore,
  requireSameOrigin,
  requireSession,
} from '../src/index.js';

const ORIGIN = 'http://localhost:3000';
const quiet = { debug: () => {}, error: () => {} };

async function serve(t: ExecutionContext, ...stack: Middleware[]): Promise<string> {
  const app = new Koa();
  for (const middleware of stack) app.use(middleware);
  app.use(async function answer(ctx) {
    ctx.body = { ok: true };
  });
  const server = app.listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const guarded = (t: ExecutionContext, options: Partial<CsrfOptions> = {}) =>
  serve(
    t,
    errorHandler('test.error', quiet),
    noStore,
    requireSameOrigin({ header: CSRF_HEADER, origin: ORIGIN, ...options }),
  );

test('D4 form mode: Origin (exact) or Sec-Fetch-Site same-origin/none passes, with no custom header', async (t) => {
  const url = await guarded(t, { form: true });
  for (const headers of [{ origin: ORIGIN }, { 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }]) {
    const res = await fetch(url, { method: 'POST', headers });
    t.is(res.status, 200, JSON.stringify(headers));
  }
});

test('D4 form mode: neither Origin nor Sec-Fetch-Site, a foreign Origin or a cross-site fetch is refused', async (t) => {
  const url = await guarded(t, { form: true });
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /without Origin or Sec-Fetch-Site/],
    [{ origin: `${ORIGIN}.evil.example` }, /origin http:\/\/localhost:3000\.evil\.example are refused/],
    [{ origin: ORIGIN, 'sec-fetch-site': 'same-site' }, /a same-site request is refused/],
    [{ 'sec-fetch-site': 'cross-site', [CSRF_HEADER]: '1' }, /a cross-site request is refused/],
  ];
  for (const [headers, description] of cases) {
    const res = await fetch(url, { method: 'POST', headers });
    t.is(res.status, 400, JSON.stringify(headers));
    t.is(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as { error: string; error_description: string };
    t.is(body.error, 'invalid_session');
    t.regex(body.error_description, description);
  }
});

test('D4 header mode: the custom header is required, even from the right Origin', async (t) => {
  const url = await guarded(t);
  const refused = await fetch(url, { headers: { origin: ORIGIN, 'sec-fetch-site': 'same-origin' } });
  t.is(refused.status, 400);
  t.deepEqual(await refused.json(), {
    error: 'invalid_session',
    error_description: 'the TMI-BFF-CSRF request header is required (CSRF defence)',
  });
  t.is((await fetch(url, { headers: { [CSRF_HEADER]: '1', origin: ORIGIN } })).status, 200);
});

test('D4 without a header name (an EventSource): no header is asked; a same-site or cross-site Sec-Fetch-Site, or a foreign Origin, is refused', async (t) => {
  const url = await guarded(t, { header: undefined });
  for (const headers of [{}, { 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, { origin: ORIGIN }]) {
    t.is((await fetch(url, { headers })).status, 200, JSON.stringify(headers));
  }
  const cases: Array<[Record<string, string>, string]> = [
    [{ 'sec-fetch-site': 'same-site' }, 'a same-site request is refused (CSRF defence)'],
    [{ 'sec-fetch-site': 'cross-site' }, 'a cross-site request is refused (CSRF defence)'],
    [{ origin: 'http://localhost:5173' }, 'requests from origin http://localhost:5173 are refused (CSRF defence)'],
    [{ origin: 'null' }, 'requests from origin null are refused (CSRF defence)'],
  ];
  for (const [headers, description] of cases) {
    const res = await fetch(url, { headers });
    t.is(res.status, 400, JSON.stringify(headers));
    t.deepEqual(await res.json(), { error: 'invalid_session', error_description: description });
  }
});

test('requireSameOrigin throws the error `refuse` makes, for routes that answer with a page of their own', async (t) => {
  class Refused extends Error {
    readonly status = 403;
    readonly expose = true;
  }
  const url = await serve(
    t,
    requireSameOrigin({ header: CSRF_HEADER, origin: ORIGIN, form: true, refuse: (why) => new Refused(why) }),
  );
  const res = await fetch(url, { method: 'POST' });
  t.is(res.status, 403);
  t.regex(await res.text(), /without Origin or Sec-Fetch-Site/);
});

test('requireSession: no session or an ended one is invalid_session', async (t) => {
  let session: { id: string; claims: Record<string, unknown>; expiresAt?: number } | undefined;
  const url = await serve(t, errorHandler('test.error', quiet), requireSession({ getSession: async () => session }));
  t.like(await (await fetch(url)).json(), { error: 'invalid_session' });
  session = { id: 's', claims: {}, expiresAt: Date.now() - 1 };
  t.deepEqual(await (await fetch(url)).json(), {
    error: 'invalid_session',
    error_description: 'the session has expired: sign in again',
  });
  session = { id: 's', claims: {}, expiresAt: Date.now() + 60_000 };
  t.is((await fetch(url)).status, 200);
});

test('D6: a session store that does not answer (StoreUnavailable, LeaseLost) is temporarily_unavailable, not a 500', async (t) => {
  for (const [Error_, code] of [
    [StoreUnavailable, 'TMI_BFF_STORE_UNAVAILABLE'],
    [LeaseLost, 'TMI_BFF_STORE_LEASE_LOST'],
  ] as const) {
    const url = await serve(t, errorHandler('test.error', quiet), async function storeDown() {
      throw new Error_('connection refused');
    });
    const res = await fetch(url);
    t.is(res.status, 400, code);
    t.is(res.headers.get('cache-control'), 'no-store');
    t.deepEqual(await res.json(), {
      error: 'temporarily_unavailable',
      error_description: 'the session store did not answer; try again shortly',
    });
  }
  // A store that cannot write (disk full, folder read-only): the same, with its own description.
  const full = await serve(t, errorHandler('test.error', quiet), async function diskFull() {
    throw new StoreWriteFailed("the store's folder /data/bff cannot be written (ENOSPC: no space left on device)");
  });
  const res = await fetch(full);
  t.is(res.status, 400);
  t.deepEqual(await res.json(), {
    error: 'temporarily_unavailable',
    error_description: 'the session store could not save; try again shortly',
  });
  // Anything else stays a server error.
  const url = await serve(t, errorHandler('test.error', quiet), async function broken() {
    throw Object.assign(new Error('bug'), { code: 'ERR_SOMETHING' });
  });
  t.is((await fetch(url)).status, 500);
});
