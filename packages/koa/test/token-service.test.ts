/**
 * TokenService on its own, with an authorization server that records what it is asked: the cache key
 * (D8) in a world the demo seed cannot show, where two resources share a scope name.
 */
import { MemoryStore } from '@tmi-bff/store';
import test from 'ava';
import {
  type AsCall,
  type AuthorizationServer,
  AuthorizationServerError,
  asTmiBffError,
  BackendNotReady,
  cacheKey,
  type GrantResult,
  ScopeNotNarrowed,
  scopeSet,
  TokenService,
  type TokenServiceOptions,
  toErrorBody,
} from '../src/index.js';
import { downscopers } from '../src/tokens/strategies/index.js';
import { LEASE_SLACK_MS } from '../src/tokens/token-service.js';

const ORDERS = 'https://api.example/orders';
const INVOICES = 'https://api.example/invoices';
const session = { id: 's1', claims: { sub: 'alice' } };
const HOUR = 3600_000;

function recordingAs() {
  const calls: Array<{ resources: string[]; scope: string | undefined }> = [];
  let serial = 0;
  const as: AuthorizationServer = {
    async refresh(_rt, request): Promise<GrantResult> {
      calls.push({ resources: request.resources, scope: request.scope });
      serial += 1;
      return {
        access_token: `at-${serial}-${request.resources.join(',')}`,
        refresh_token: `rt-${serial}`,
        expires_in: 300,
        ...(request.scope ? { scope: request.scope } : { scope: 'read' }),
      };
    },
    exchange: async () => {
      throw new Error('not used');
    },
    revokeRefreshToken: async () => ({ revoked: true }),
  };
  return { as, calls };
}

/** An AS for the refresh strategy only: `refresh` answers as given; an exchange is a test mistake. */
function refreshOnly(refresh: AuthorizationServer['refresh']): AuthorizationServer {
  return {
    refresh,
    exchange: async () => {
      throw new Error('not used');
    },
    revokeRefreshToken: async () => ({ revoked: true }),
  };
}

async function service() {
  const { as, calls } = recordingAs();
  const tokens = new TokenService({ store: new MemoryStore(), authorizationServer: as });
  await tokens.startGrant(session.id, { refreshToken: 'rt-0', resources: [ORDERS, INVOICES], scope: 'read' }, 3600_000);
  return { tokens, calls };
}

test('D8 (TMI-24): resources that share a scope name never share a cached token', async (t) => {
  const { tokens, calls } = await service();
  const orders = await tokens.getToken(session, { resources: [ORDERS], scopes: ['read'], fresh: false });
  const invoices = await tokens.getToken(session, { resources: [INVOICES], scopes: ['read'], fresh: false });
  t.not(invoices.token.access_token, orders.token.access_token);
  t.deepEqual(invoices.token.resources, [INVOICES]);
  t.is(invoices.source, 'refresh');
  t.deepEqual(
    calls.map((c) => c.resources),
    [[ORDERS], [INVOICES]],
  );
  // Each is then served from its own entry.
  const again = await tokens.getToken(session, { resources: [INVOICES], scopes: ['read'], fresh: false });
  t.is(again.source, 'cache');
  t.is(again.token.access_token, invoices.token.access_token);
  const both = await tokens.getToken(session, { resources: [INVOICES, ORDERS], scopes: ['read'], fresh: false });
  t.is(both.source, 'refresh', 'a resource set is its own key');
  t.is(calls.length, 3);
});

test('D8: with no scope asked, the second request is a cache hit, whatever scope the AS answered', async (t) => {
  const { tokens, calls } = await service();
  const first = await tokens.getToken(session, { resources: [ORDERS], scopes: [], fresh: false });
  t.is(first.token.scope, 'read');
  const second = await tokens.getToken(session, { resources: [ORDERS], scopes: [], fresh: false });
  t.is(second.source, 'cache');
  t.is(calls.length, 1);
});

// The token service's own steps, with a fake AS that answers when the test lets it.

/** A fake AS: each refresh and exchange is recorded and answered by `answer`, when the test says. */
function fakeAs(
  options: { hold?: boolean; scope?: (requested: string | undefined) => string; exchangeFails?: boolean } = {},
) {
  const calls: string[] = [];
  let serial = 0;
  const held: Array<() => void> = [];
  const wait = () => (options.hold ? new Promise<void>((resolve) => held.push(resolve)) : Promise.resolve());
  const as: AuthorizationServer = {
    async refresh(refreshToken, request): Promise<GrantResult> {
      calls.push(`refresh ${refreshToken} ${request.resources.join(',')} ${request.scope ?? '-'}`);
      await wait();
      serial += 1;
      return {
        access_token: `at-${serial}`,
        refresh_token: `rt-${serial}`,
        expires_in: 300,
        scope: options.scope?.(request.scope) ?? request.scope ?? 'read write',
      };
    },
    async exchange(subjectToken, request): Promise<GrantResult> {
      calls.push(`exchange ${subjectToken} ${request.resource} ${request.scope}`);
      if (options.exchangeFails) throw new AuthorizationServerError('invalid_scope', 'no exchange for you');
      serial += 1;
      return { access_token: `xt-${serial}`, expires_in: 300, scope: request.scope };
    },
    revokeRefreshToken: async () => ({ revoked: true }),
  };
  const release = () => {
    for (const resolve of held.splice(0)) resolve();
  };
  return { as, calls, release, waiting: () => held.length };
}

/** A MemoryStore that records each write of the grant record and each lease asked for. */
class RecordingStore extends MemoryStore {
  readonly writes: Array<{ refresh_token?: string | undefined; tokens: number }> = [];
  readonly leases: Array<number | undefined> = [];
  override async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    const grant = value as { refresh_token?: string; tokens?: object };
    if (key.startsWith('grant:')) {
      this.writes.push({ refresh_token: grant.refresh_token, tokens: Object.keys(grant.tokens ?? {}).length });
    }
    return super.set(key, value, ttlMs);
  }
  override withLock<T>(key: string, fn: () => Promise<T>, options?: { leaseMs?: number }): Promise<T> {
    this.leases.push(options?.leaseMs);
    return super.withLock(key, fn, options);
  }
}

async function started(as: AuthorizationServer, options: Partial<TokenServiceOptions> = {}) {
  const store = new RecordingStore({ sweepIntervalMs: 0 });
  const tokens = new TokenService({ store, authorizationServer: as, ...options });
  await tokens.startGrant(session.id, { refreshToken: 'rt-0', resources: [ORDERS], scope: 'read write' }, 3600_000);
  store.writes.length = 0;
  store.leases.length = 0;
  return { tokens, store };
}

const ask = (scopes: string[] = [], fresh = false) => ({ resources: [ORDERS], scopes, fresh });

test('D8: a cached token is served without asking the AS; fresh=1 skips the cache', async (t) => {
  const { as, calls } = fakeAs();
  const { tokens } = await started(as);
  const first = await tokens.getToken(session, ask(['read']));
  const second = await tokens.getToken(session, ask(['read']));
  t.is(first.source, 'refresh');
  t.is(second.source, 'cache');
  t.is(second.token.access_token, first.token.access_token);
  t.deepEqual(calls, [`refresh rt-0 ${ORDERS} read`]);
  const fresh = await tokens.getToken(session, ask(['read'], true));
  t.is(fresh.source, 'refresh');
  t.deepEqual(
    calls,
    [`refresh rt-0 ${ORDERS} read`, `refresh rt-1 ${ORDERS} read`],
    'the rotated refresh token is spent next',
  );
});

test('D8: one frozen request asked again (as bff-token parses a repeated query string) is served from the cache; the default resource applies to it', async (t) => {
  const { as, calls } = fakeAs();
  const { tokens } = await started(as, { defaultResource: ORDERS });
  const request = Object.freeze({
    resources: Object.freeze([]) as never,
    scopes: Object.freeze(['read']) as never,
    fresh: false,
  });
  const first = await tokens.getToken(session, request);
  const second = await tokens.getToken(session, request);
  t.is(first.source, 'refresh');
  t.is(second.source, 'cache');
  t.is(second.token.access_token, first.token.access_token);
  t.deepEqual(calls, [`refresh rt-0 ${ORDERS} read`]);
  // The same resource and scope asked by a plain object: the same cache entry.
  t.is((await tokens.getToken(session, ask(['read']))).source, 'cache');
});

test('D10: two callers asking for the same token share one AS call', async (t) => {
  const fake = fakeAs({ hold: true });
  const { tokens } = await started(fake.as);
  const one = tokens.getToken(session, ask(['read']));
  const two = tokens.getToken(session, ask(['read']));
  while (fake.waiting() === 0) await new Promise((resolve) => setImmediate(resolve));
  fake.release();
  const [a, b] = await Promise.all([one, two]);
  t.is(a.token.access_token, b.token.access_token);
  t.is(fake.calls.length, 1);
});

test('D10: the flight holds the session lock with a lease covering the AS requests, not the caller wait', async (t) => {
  const { as } = fakeAs();
  const { tokens, store } = await started(as, { asTimeoutMs: 1000, asRequestTimeoutMs: 7000 });
  await tokens.getToken(session, ask(['read']));
  t.deepEqual(store.leases, [2 * 7000 + LEASE_SLACK_MS]);
  const defaults = await started(as);
  await defaults.tokens.getToken(session, ask(['read']));
  t.deepEqual(defaults.store.leases, [2 * 30_000 + LEASE_SLACK_MS]);
});

test('RFC 9700 §4.14.2: a rotated refresh token is saved before the answer, even when the token is refused as too broad', async (t) => {
  const logged: string[] = [];
  const { as } = fakeAs({ scope: () => 'read write admin' });
  const { tokens, store } = await started(as, { log: (event) => logged.push(event) });
  const err = await t.throwsAsync(tokens.getToken(session, ask(['read'])), { instanceOf: ScopeNotNarrowed });
  t.is(toErrorBody(err as ScopeNotNarrowed).error, 'invalid_scope');
  t.deepEqual(store.writes, [{ refresh_token: 'rt-1', tokens: 1 }], 'one write: the rotation, with the token kept');
  t.is((await tokens.getGrant(session.id))?.refresh_token, 'rt-1');
  t.deepEqual(logged, ['tokens.scope_not_narrowed']);
  // The broader token is kept under its own scope only: the narrower request is never served it.
  const grant = await tokens.getGrant(session.id);
  t.deepEqual(Object.keys(grant?.tokens ?? {}), [cacheKey([ORDERS], ['admin', 'read', 'write'])]);
});

test('RFC 9700 §4.14.2: a refresh costs one store write, the rotated refresh token and the new token together', async (t) => {
  const { as } = fakeAs();
  const { tokens, store } = await started(as);
  const got = await tokens.getToken(session, ask(['read']));
  t.is(got.source, 'refresh');
  t.deepEqual(store.writes, [{ refresh_token: 'rt-1', tokens: 1 }]);
});

test('RFC 9700 §4.14.2: without a rotated refresh token, a refresh and an exchange cost one store write, at the end', async (t) => {
  const { as } = fakeAs();
  const unrotated: AuthorizationServer = {
    ...as,
    async refresh(refreshToken, request) {
      const { refresh_token: _rotated, ...rest } = await as.refresh(refreshToken, request);
      return rest;
    },
  };
  const { tokens, store } = await started(unrotated, { strategy: 'exchange' });
  const got = await tokens.getToken(session, ask(['read']));
  t.is(got.source, 'exchange');
  t.deepEqual(store.writes, [{ refresh_token: 'rt-0', tokens: 3 }], 'nothing to save before the exchange');
});

test('D9 exchange: a broad token is fetched by refresh, then exchanged; both are cached', async (t) => {
  const { as, calls } = fakeAs();
  const { tokens } = await started(as, { strategy: 'exchange' });
  const narrow = await tokens.getToken(session, ask(['read']));
  t.is(narrow.source, 'exchange');
  t.is(narrow.token.access_token, 'xt-2');
  t.is(narrow.token.scope, 'read');
  t.deepEqual(calls, [`refresh rt-0 ${ORDERS} -`, `exchange at-1 ${ORDERS} read`]);
  const broad = await tokens.getToken(session, ask());
  t.like(broad, { source: 'cache', token: { access_token: 'at-1' } });
  // A second narrower scope exchanges the cached broad token: no refresh.
  const write = await tokens.getToken(session, ask(['write']));
  t.is(write.source, 'exchange');
  t.deepEqual(calls.slice(2), [`exchange at-1 ${ORDERS} write`]);
});

test('D9 exchange: when the exchange is refused, the refresh token rotated on the way is kept', async (t) => {
  const { as, calls } = fakeAs({ exchangeFails: true });
  const { tokens, store } = await started(as, { strategy: 'exchange' });
  const err = await t.throwsAsync(tokens.getToken(session, ask(['read'])), { instanceOf: AuthorizationServerError });
  t.is((err as AuthorizationServerError).error, 'invalid_scope');
  t.deepEqual(store.writes, [{ refresh_token: 'rt-1', tokens: 0 }]);
  t.is((await tokens.getGrant(session.id))?.refresh_token, 'rt-1');
  t.is(calls.length, 2);
});

test('D9: strategies are chosen by name from one map; exchange serves only one resource with named scopes', async (t) => {
  t.deepEqual(Object.keys(downscopers).sort(), ['exchange', 'refresh']);
  const err = t.throws(
    () => new TokenService({ store: new MemoryStore(), authorizationServer: fakeAs().as, strategy: 'magic' as never }),
    { instanceOf: TypeError },
  );
  t.is((err as NodeJS.ErrnoException).code, 'ERR_INVALID_ARG_VALUE');
  t.regex(err?.message ?? '', /"refresh", "exchange"/);
  const { as, calls } = fakeAs();
  const { tokens } = await started(as, { strategy: 'exchange' });
  t.is(tokens.strategy, 'exchange');
  const all = await tokens.getToken(session, ask());
  t.is(all.source, 'refresh', 'no scope in particular: a plain refresh');
  t.deepEqual(calls, [`refresh rt-0 ${ORDERS} -`]);
});

test('D13 (TMI-27): a resource the grant does not cover gets backend_not_ready (consent) before any AS call', async (t) => {
  const { as, calls } = fakeAs();
  const { tokens } = await started(as);
  const err = await t.throwsAsync(tokens.getToken(session, { resources: [INVOICES], scopes: [], fresh: false }), {
    instanceOf: BackendNotReady,
  });
  t.like(toErrorBody(err as BackendNotReady), { error: 'backend_not_ready', remediation: 'consent' });
  t.deepEqual(calls, []);
});

test('TMI-BFF-01 §4.2 (TMI-19): a token’s lifetime counts from when the request left for the AS, not from its answer', async (t) => {
  let clock = 1_000_000;
  const slow: AuthorizationServer = {
    // The AS takes 5 s to answer a token that lives 60 s from when it was asked.
    async refresh(): Promise<GrantResult> {
      clock += 5000;
      return { access_token: 'at', refresh_token: 'rt-1', expires_in: 60, scope: 'read' };
    },
    exchange: async () => {
      clock += 5000;
      return { access_token: 'at-x', expires_in: 60, scope: 'read' };
    },
    revokeRefreshToken: async () => ({ revoked: true }),
  };
  for (const strategy of ['refresh', 'exchange'] as const) {
    const tokens = new TokenService({
      store: new MemoryStore(),
      authorizationServer: slow,
      strategy,
      now: () => clock,
    });
    await tokens.startGrant(session.id, { refreshToken: 'rt-0', resources: [ORDERS], scope: 'read write' }, 3600_000);
    const { token } = await tokens.getToken(session, { resources: [ORDERS], scopes: ['read'], fresh: false });
    t.is(tokens.expiresIn(token), 55, `${strategy}: 60 s from the request, 5 s of which went by waiting`);
  }
});

test('D8 defaults: a token is not served within 30 s of its expiry; one without expires_in is taken to live 60 s', async (t) => {
  let clock = 1_000_000;
  let lifetime: number | undefined = 45;
  let serial = 0;
  const as = refreshOnly(async () => {
    serial += 1;
    return {
      access_token: `at-${serial}`,
      refresh_token: `rt-${serial}`,
      scope: 'read',
      ...(lifetime === undefined ? {} : { expires_in: lifetime }),
    };
  });
  const tokens = new TokenService({ store: new MemoryStore(), authorizationServer: as, now: () => clock });
  await tokens.startGrant(session.id, { refreshToken: 'rt-0', resources: [ORDERS], scope: 'read' }, 3600_000);
  const request = { resources: [ORDERS], scopes: ['read'], fresh: false };
  const first = await tokens.getToken(session, request);
  clock += 14_000; // 31 s left: served
  t.is((await tokens.getToken(session, request)).token.access_token, first.token.access_token);
  clock += 1_000; // 30 s left: within the margin, a new one
  t.not((await tokens.getToken(session, request)).token.access_token, first.token.access_token);

  lifetime = undefined;
  const fresh = await tokens.getToken(session, { ...request, fresh: true });
  t.is(tokens.expiresIn(fresh.token), 60);
});

// D6: what asTimeoutMs counts (as-clock.ts): the AS, and the wait for the session's lock; not the store.

/** A MemoryStore whose writes of grant records take `delayMs` once `slow` is set. */
class SlowWriteStore extends MemoryStore {
  slow = false;
  constructor(readonly delayMs: number) {
    super({ sweepIntervalMs: 0 });
  }
  override async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    if (this.slow && key.startsWith('grant:')) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return super.set(key, value, ttlMs);
  }
}

test('D6: store writes slower than asTimeoutMs after the AS answered do not time the caller out: the refresh is served and kept', async (t) => {
  const { as, calls } = fakeAs();
  const store = new SlowWriteStore(300);
  const tokens = new TokenService({ store, authorizationServer: as, asTimeoutMs: 100 });
  await tokens.startGrant(session.id, { refreshToken: 'rt-0', resources: [ORDERS], scope: 'read write' }, 3600_000);
  store.slow = true;
  const outcome = await tokens.getToken(session, ask(['read']));
  t.is(outcome.source, 'refresh');
  t.is(outcome.token.access_token, 'at-1');
  t.deepEqual(calls, [`refresh rt-0 ${ORDERS} read`]);
  // Two writes of 300 ms each (the rotation, then the cached token): both done before the answer.
  t.is((await tokens.getGrant(session.id))?.refresh_token, 'rt-1');
  t.like(await tokens.getToken(session, ask(['read'])), { source: 'cache' });
});

test('D6: an AS slower than asTimeoutMs gets its caller temporarily_unavailable, and a caller queued behind it on the session lock too; the late answer is kept', async (t) => {
  const fake = fakeAs({ hold: true });
  const { tokens } = await started(fake.as, { asTimeoutMs: 100 });
  // The AS clock's timer never holds a process open (as-clock.ts unrefs it); run alone, this test has
  // nothing else that would, and the process would end before the timeout fires.
  const alive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(alive));
  const first = tokens.getToken(session, ask(['read']));
  while (fake.waiting() === 0) await new Promise((resolve) => setImmediate(resolve));
  // Another token for the same session: it waits for the lock the first flight holds.
  const queued = tokens.getToken(session, ask(['write']));
  for (const caller of [first, queued]) {
    const err = await t.throwsAsync(caller);
    t.like(toErrorBody(asTmiBffError(err)), { error: 'temporarily_unavailable' });
    t.regex(String((err as { error_detail?: string }).error_detail), /no answer from the AS within 100 ms/);
  }
  t.deepEqual(fake.calls, [`refresh rt-0 ${ORDERS} read`], 'the queued flight has not reached the AS');
  fake.release();
  // The first flight completes in the background and keeps the rotated refresh token.
  for (let turn = 0; turn < 100 && (await tokens.getGrant(session.id))?.refresh_token !== 'rt-1'; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.is((await tokens.getGrant(session.id))?.refresh_token, 'rt-1');
});

test('D8: the cache key is the sorted resource set and the sorted scope set; a scope string is read as a set of tokens', (t) => {
  t.is(cacheKey(['b', 'a', 'b'], ['y', 'x', 'y']), '[["a","b"],["x","y"]]');
  t.is(cacheKey([ORDERS], ['write', 'read']), cacheKey([ORDERS], ['read', 'write']));
  t.deepEqual(scopeSet(' write  read read '), ['read', 'write']);
  t.deepEqual(scopeSet(undefined), []);
});

test('D9: a refresh asks for every scope requested, space-separated', async (t) => {
  const { as, calls } = fakeAs();
  const { tokens } = await started(as);
  await tokens.getToken(session, ask(['read', 'write']));
  t.deepEqual(calls, [`refresh rt-0 ${ORDERS} read write`]);
});

test('D9 exchange: a broad token with exactly the scopes asked is served as it is; a narrower set of several scopes is exchanged whole', async (t) => {
  const same = fakeAs();
  const exact = await (await started(same.as, { strategy: 'exchange' })).tokens.getToken(
    session,
    ask(['read', 'write']),
  );
  t.like(exact, { source: 'refresh', token: { access_token: 'at-1' } });
  t.deepEqual(same.calls, [`refresh rt-0 ${ORDERS} -`]);

  const wide = fakeAs({ scope: () => 'read write admin' });
  const narrowed = await (await started(wide.as, { strategy: 'exchange' })).tokens.getToken(
    session,
    ask(['read', 'write']),
  );
  t.is(narrowed.source, 'exchange');
  t.deepEqual(wide.calls, [`refresh rt-0 ${ORDERS} -`, `exchange at-1 ${ORDERS} read write`]);
});

test('D9 exchange: a request for several resources is a plain refresh, whatever scopes it names', async (t) => {
  const { as, calls } = fakeAs();
  const tokens = new TokenService({ store: new MemoryStore(), authorizationServer: as, strategy: 'exchange' });
  await tokens.startGrant(
    session.id,
    { refreshToken: 'rt-0', resources: [ORDERS, INVOICES], scope: 'read write' },
    3600_000,
  );
  const both = await tokens.getToken(session, { resources: [ORDERS, INVOICES], scopes: ['read'], fresh: false });
  t.is(both.source, 'refresh');
  t.is(calls.length, 1);
  t.regex(calls[0] ?? '', /^refresh rt-0 \S+,\S+ read$/);
});

test('onAs is told of each AS request on a session’s behalf: its kind, what was asked, its duration and its answer or error', async (t) => {
  const events: AsCall[] = [];
  const { as } = fakeAs();
  const { tokens } = await started(as, { strategy: 'exchange', onAs: (event) => events.push(event) });
  await tokens.getToken(session, ask(['read']));
  t.deepEqual(
    events.map(({ sessionId, kind, request }) => ({ sessionId, kind, request })),
    [
      { sessionId: session.id, kind: 'refresh', request: { resources: [ORDERS], scope: undefined } },
      { sessionId: session.id, kind: 'exchange', request: { resources: [ORDERS], scope: 'read' } },
    ],
  );
  t.like(events[0]?.answer, { result: { access_token: 'at-1', refresh_token: 'rt-1' } });
  t.like(events[1]?.answer, { result: { access_token: 'xt-2', scope: 'read' } });
  for (const event of events) t.true(event.durationMs >= 0 && event.durationMs < 5000);

  // The development knob's revocation, and an error thrown by the AS.
  t.deepEqual(await tokens.revokeAtAs(session.id), { revoked: true });
  t.like(events[2], { kind: 'revocation', request: {}, answer: { revocation: { revoked: true } } });
  const failing = fakeAs({ exchangeFails: true });
  const told: AsCall[] = [];
  const other = await started(failing.as, { strategy: 'exchange', onAs: (event) => told.push(event) });
  await t.throwsAsync(other.tokens.getToken(session, ask(['read'])), { instanceOf: AuthorizationServerError });
  t.is(told.length, 2);
  const error = told[1] && 'error' in told[1].answer ? told[1].answer.error : undefined;
  t.true(error instanceof AuthorizationServerError);
  t.is((error as AuthorizationServerError).error, 'invalid_scope');
});

test('revokeAtAs revokes the held refresh token at the AS and keeps it; a grant without one has nothing to revoke', async (t) => {
  const revoked: string[] = [];
  const { as } = fakeAs();
  as.revokeRefreshToken = async (refreshToken) => {
    revoked.push(refreshToken);
    return { revoked: true };
  };
  const { tokens } = await started(as);
  t.deepEqual(await tokens.revokeAtAs(session.id), { revoked: true });
  t.deepEqual(revoked, ['rt-0']);
  t.is((await tokens.getGrant(session.id))?.refresh_token, 'rt-0', 'kept, so the next refresh meets invalid_grant');
  t.is(await tokens.revokeAtAs('no-such-session'), undefined);
  await tokens.startGrant('s2', { resources: [ORDERS], scope: 'read' }, 3600_000);
  t.is(await tokens.revokeAtAs('s2'), undefined);
  t.deepEqual(revoked, ['rt-0']);
});

test('D13: unavailable says why a session without a refresh token gets no token, before any request; a session with one is not unavailable', async (t) => {
  const { as } = fakeAs();
  const { tokens } = await started(as);
  t.is(await tokens.unavailable(session.id), undefined);
  t.is(await tokens.unavailable('no-such-session'), undefined);
  await tokens.startGrant('s2', { resources: [ORDERS], scope: 'read' }, 3600_000);
  const why = await tokens.unavailable('s2');
  t.true(why instanceof BackendNotReady);
  t.is(why?.error, 'backend_not_ready');
  t.is(why?.remediation, 'configuration');
});

test('one read of the grant per request: hasGrant, unavailable and getToken share it within one context; another context or session reads again', async (t) => {
  const { as } = fakeAs();
  const { tokens, store } = await started(as);
  await tokens.startGrant('s2', { refreshToken: 'rt-x', resources: [ORDERS], scope: 'read' }, 3600_000);
  let reads = 0;
  const get = store.get.bind(store);
  store.get = async <T>(key: string) => {
    if (key.startsWith('grant:')) reads += 1;
    return get<T>(key);
  };
  const request = {};
  t.true(await tokens.hasGrant(session.id, request));
  t.is(await tokens.unavailable(session.id, request), undefined);
  t.true(await tokens.hasGrant(session.id, request));
  t.is(reads, 1);
  // Another session within the same context is its own read, and replaces the kept one.
  t.true(await tokens.hasGrant('s2', request));
  t.is(reads, 2);
  t.true(await tokens.hasGrant('s2', request));
  t.is(reads, 2);
  t.true(await tokens.hasGrant(session.id, request));
  t.is(reads, 3);
  // Without a context, each call reads.
  await tokens.hasGrant(session.id);
  await tokens.hasGrant(session.id);
  t.is(reads, 5);
  t.false(await tokens.hasGrant('no-such-session', {}));
});

test('asSessionOf names the AS session a grant rode on; none when the sign-in did not say', async (t) => {
  const { as } = fakeAs();
  const { tokens } = await started(as);
  t.is(await tokens.asSessionOf(session.id), undefined);
  await tokens.startGrant(
    's2',
    { refreshToken: 'rt-x', resources: [ORDERS], scope: 'read', asSession: 'sid as-1' },
    3600_000,
  );
  t.is(await tokens.asSessionOf('s2'), 'sid as-1');
  t.is(await tokens.asSessionOf('no-such-session'), undefined);
});

test('RFC 6749 §5.1: a token answer without scope has the scope asked for; with none asked, the grant’s', async (t) => {
  const { as } = fakeAs();
  as.refresh = async () => ({ access_token: 'at-x', refresh_token: 'rt-x', expires_in: 300 });
  const { tokens } = await started(as);
  t.is((await tokens.getToken(session, ask(['write', 'read']))).token.scope, 'read write');
  t.is((await tokens.getToken(session, ask([], true))).token.scope, 'read write');
  await tokens.startGrant('s2', { refreshToken: 'rt-0', resources: [ORDERS], scope: 'profile' }, 3600_000);
  t.is((await tokens.getToken({ id: 's2', claims: {} }, ask())).token.scope, 'profile');
});

test('D10: a caller queued on the session lock is served from the cache when the flight before it cached its token', async (t) => {
  const fake = fakeAs({ hold: true });
  const { tokens } = await started(fake.as, { strategy: 'exchange' });
  // The narrow request refreshes a broad token (cached), then exchanges it.
  const narrow = tokens.getToken(session, ask(['read']));
  while (fake.waiting() === 0) await new Promise((resolve) => setImmediate(resolve));
  const broad = tokens.getToken(session, ask());
  fake.release();
  t.is((await narrow).source, 'exchange');
  const served = await broad;
  t.is(served.source, 'cache');
  t.is(served.token.access_token, 'at-1');
  t.deepEqual(fake.calls, [`refresh rt-0 ${ORDERS} -`, `exchange at-1 ${ORDERS} read`]);
});

test('D8: a cache hit never waits for the session lock that a slow refresh for another token holds', async (t) => {
  const fake = fakeAs();
  const tokens = new TokenService({ store: new MemoryStore(), authorizationServer: fake.as });
  await tokens.startGrant(session.id, { refreshToken: 'rt-0', resources: [ORDERS, INVOICES], scope: 'read' }, HOUR);
  const cached = await tokens.getToken(session, { resources: [ORDERS], scopes: ['read'], fresh: false });
  // Now the AS holds its answers: a refresh for INVOICES holds the session's lock.
  const held = fakeAs({ hold: true });
  Object.assign(fake.as, { refresh: held.as.refresh });
  const slow = tokens.getToken(session, { resources: [INVOICES], scopes: ['read'], fresh: false });
  while (held.waiting() === 0) await new Promise((resolve) => setImmediate(resolve));
  const hit = await Promise.race([
    tokens.getToken(session, { resources: [ORDERS], scopes: ['read'], fresh: false }),
    new Promise<undefined>((resolve) => setTimeout(resolve, 2000, undefined)),
  ]);
  t.like(hit, { source: 'cache', token: { access_token: cached.token.access_token } });
  held.release();
  t.is((await slow).source, 'refresh');
});

test('D10: two callers asking for a fresh token at once share one AS call too', async (t) => {
  const fake = fakeAs({ hold: true });
  const { tokens } = await started(fake.as);
  const one = tokens.getToken(session, ask(['read'], true));
  const two = tokens.getToken(session, ask(['read'], true));
  while (fake.waiting() === 0) await new Promise((resolve) => setImmediate(resolve));
  fake.release();
  const [a, b] = await Promise.all([one, two]);
  t.deepEqual([a.source, b.source], ['refresh', 'refresh']);
  t.is(a.token.access_token, b.token.access_token);
  t.deepEqual(fake.calls, ['refresh rt-0 https://api.example/orders read']);
});

test('TMI-BFF-01 §4.3.2 (TMI-27): a session without a grant record gets backend_not_ready, sign in again', async (t) => {
  const { as, calls } = fakeAs();
  const tokens = new TokenService({ store: new MemoryStore(), authorizationServer: as });
  const err = await t.throwsAsync(tokens.getToken(session, ask(['read'])), { instanceOf: BackendNotReady });
  t.like(toErrorBody(err as BackendNotReady), { error: 'backend_not_ready', remediation: 'sign_in' });
  t.deepEqual(calls, []);
});

test('D13: the consent error names every resource the sign-in did not ask for', async (t) => {
  const { as } = fakeAs();
  const { tokens } = await started(as);
  const other = 'https://api.example/other';
  const err = await t.throwsAsync(tokens.getToken(session, { resources: [INVOICES, other], scopes: [], fresh: false }));
  t.is(
    toErrorBody(err as BackendNotReady).error_description,
    `the sign-in did not ask for ${INVOICES} ${other}: the user must consent to it first`,
  );
});

test('TMI-BFF-01 §8.3 (TMI-24): a token broader than asked is logged with what was asked and what came', async (t) => {
  const logged: Array<[string, Record<string, unknown>]> = [];
  const { as } = fakeAs({ scope: () => 'read write admin' });
  const { tokens } = await started(as, { log: (event, data) => logged.push([event, data]) });
  await t.throwsAsync(tokens.getToken(session, ask(['read', 'write'])), { instanceOf: ScopeNotNarrowed });
  t.deepEqual(logged, [
    [
      'tokens.scope_not_narrowed',
      { resources: [ORDERS], requested: 'read write', issued: 'admin read write', strategy: 'refresh' },
    ],
  ]);
});

test('RFC 6749 §6: only invalid_grant kills the refresh token; any other AS failure keeps it for the next request', async (t) => {
  const calls: string[] = [];
  let fail: unknown;
  const as = refreshOnly(async (refreshToken) => {
    calls.push(refreshToken);
    if (fail) throw fail;
    return { access_token: 'at', refresh_token: 'rt-1', expires_in: 300, scope: 'read' };
  });
  const { tokens } = await started(as);
  for (const failure of [
    new AuthorizationServerError('server_error', 'down'),
    new AuthorizationServerError('temporarily_unavailable', 'busy'),
    Object.assign(new Error('fetch failed'), { error: 'invalid_grant' }),
  ]) {
    fail = failure;
    await t.throwsAsync(tokens.getToken(session, ask(['read'], true)));
    t.is((await tokens.getGrant(session.id))?.refresh_token, 'rt-0', String(failure));
  }
  fail = new AuthorizationServerError('invalid_grant', 'grant request is invalid');
  await t.throwsAsync(tokens.getToken(session, ask(['read'], true)));
  t.like(await tokens.getGrant(session.id), { refresh_token_missing: 'invalid_grant' });
  t.deepEqual(calls, ['rt-0', 'rt-0', 'rt-0', 'rt-0']);
});

test('the default resource applies only to a request that names none', async (t) => {
  const fake = fakeAs();
  const tokens = new TokenService({ store: new MemoryStore(), authorizationServer: fake.as, defaultResource: ORDERS });
  await tokens.startGrant(session.id, { refreshToken: 'rt-0', resources: [ORDERS, INVOICES], scope: 'read' }, HOUR);
  t.deepEqual(
    (await tokens.getToken(session, { resources: [INVOICES], scopes: ['read'], fresh: false })).token.resources,
    [INVOICES],
  );
  t.deepEqual((await tokens.getToken(session, { resources: [], scopes: ['read'], fresh: false })).token.resources, [
    ORDERS,
  ]);
  const plain = fakeAs();
  const without = (await started(plain.as)).tokens;
  await without.getToken(session, { resources: [], scopes: ['read'], fresh: false });
  t.deepEqual(plain.calls, ['refresh rt-0  read'], 'no default: the AS decides (TMI-15)');
});

test('onAs times each AS request from when it left to its answer', async (t) => {
  const events: AsCall[] = [];
  const fake = fakeAs({ hold: true });
  const { tokens } = await started(fake.as, { onAs: (event) => events.push(event) });
  const began = performance.now();
  const pending = tokens.getToken(session, ask(['read']));
  while (fake.waiting() === 0) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 30));
  fake.release();
  await pending;
  const took = performance.now() - began;
  t.is(events.length, 1);
  const ms = events[0]?.durationMs ?? Number.NaN;
  t.true(ms >= 25 && ms <= took, `${ms} ms, of ${took} ms in all`);
});

test('onToken is told of each token served: the session, the request and where the token came from', async (t) => {
  const told: Array<{ sessionId: string; request: unknown; source: string }> = [];
  const { as } = fakeAs();
  const { tokens } = await started(as, { onToken: (event) => told.push(event) });
  await tokens.getToken(session, ask(['read']));
  await tokens.getToken(session, ask(['read']));
  t.deepEqual(told, [
    { sessionId: session.id, request: ask(['read']), source: 'refresh' },
    { sessionId: session.id, request: ask(['read']), source: 'cache' },
  ]);
});
