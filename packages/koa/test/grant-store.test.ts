/**
 * The grant records TokenService writes: sign-in starts one, consent widens it, sign-out ends it
 * (RFC 7009 revocation), and a refresh token superseded within one AS session is not revoked.
 * An authorization server that records what it is asked stands in for the AS.
 */
import { MemoryStore } from '@tmi-bff/store';
import test from 'ava';
import {
  type AuthorizationServer,
  AuthorizationServerError,
  BackendNotReady,
  TokenService,
  toErrorBody,
} from '../src/index.js';
import { grantRecord, noRefreshToken } from '../src/tokens/grant-store.js';

const API = 'https://api.example/orders';
const OTHER = 'https://api.example/invoices';
const HOUR = 3600_000;

function setup(options: { refreshFails?: boolean } = {}) {
  const revoked: string[] = [];
  const logs: string[] = [];
  const as: AuthorizationServer = {
    async refresh(rt) {
      if (options.refreshFails) throw new AuthorizationServerError('invalid_grant', 'grant request is invalid');
      return { access_token: `at-for-${rt}`, expires_in: 300, scope: 'read' };
    },
    exchange: async () => {
      throw new Error('not used');
    },
    async revokeRefreshToken(rt) {
      revoked.push(rt);
      return { revoked: true };
    },
  };
  const tokens = new TokenService({
    store: new MemoryStore(),
    authorizationServer: as,
    log: (event, data) => logs.push(Object.keys(data).length ? `${event} ${JSON.stringify(data)}` : event),
  });
  return { tokens, revoked, logs };
}

const session = (id: string) => ({ id, claims: { sub: 'alice' } });
const ask = (resources = [API]) => ({ resources, scopes: ['read'], fresh: false });

test('TMI-BFF-01 §4.3.2 (TMI-27): no refresh token at sign-in is recorded as not issued: remediation configuration', async (t) => {
  const { tokens } = setup();
  await tokens.startGrant('s1', { resources: [API], scope: 'openid read' }, HOUR);
  t.is((await tokens.getGrant('s1'))?.refresh_token_missing, 'not_issued');
  const err = await t.throwsAsync(tokens.getToken(session('s1'), ask()), { instanceOf: BackendNotReady });
  t.like(toErrorBody(err), { error: 'backend_not_ready', remediation: 'configuration' });
  t.regex(err?.error_description ?? '', /issued no refresh token at sign-in/);
});

test('TMI-BFF-01 §4.3.2 (TMI-27): a refresh token that died (invalid_grant) is recorded so: remediation sign_in', async (t) => {
  const { tokens } = setup({ refreshFails: true });
  await tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read' }, HOUR);
  await t.throwsAsync(tokens.getToken(session('s1'), ask()), { instanceOf: AuthorizationServerError });
  t.like(await tokens.getGrant('s1'), { refresh_token_missing: 'invalid_grant' });
  t.is((await tokens.getGrant('s1'))?.refresh_token, undefined);
  const err = await t.throwsAsync(tokens.getToken(session('s1'), ask()), { instanceOf: BackendNotReady });
  t.like(toErrorBody(err), { error: 'backend_not_ready', remediation: 'sign_in' });
});

test('D13: a resource the grant does not cover gets backend_not_ready with remediation consent', async (t) => {
  const { tokens } = setup();
  await tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read' }, HOUR);
  const err = await t.throwsAsync(tokens.getToken(session('s1'), ask([OTHER])), { instanceOf: BackendNotReady });
  t.like(toErrorBody(err), { remediation: 'consent' });
});

test('D13: consent widens the grant and keeps the refresh token when the AS sent none', async (t) => {
  const { tokens, revoked } = setup();
  await tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read', asSession: 'as-1' }, HOUR);
  const widened = await tokens.widenGrant('s1', { resources: [API, OTHER], scope: 'read write' }, HOUR);
  t.deepEqual(widened, { asSession: 'as-1' });
  t.like(await tokens.getGrant('s1'), { refresh_token: 'rt-1', resources: [API, OTHER], scope: 'read write' });
  t.deepEqual(revoked, [], 'the refresh token still in use is not revoked');
});

test('RFC 7009: a refresh token replaced by consent in another AS session is revoked', async (t) => {
  const { tokens, revoked, logs } = setup();
  await tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read', asSession: 'as-1' }, HOUR);
  await tokens.widenGrant('s1', { refreshToken: 'rt-2', resources: [API], scope: 'read', asSession: 'as-2' }, HOUR);
  t.deepEqual(revoked, ['rt-1']);
  t.true(logs.includes('grant.revoked (replaced by consent)'));
  t.is((await tokens.getGrant('s1'))?.refresh_token, 'rt-2');
});

test('a refresh token replaced within the same AS session is not revoked (it is the same grant at the AS)', async (t) => {
  const { tokens, revoked, logs } = setup();
  await tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read', asSession: 'as-1' }, HOUR);
  await tokens.widenGrant('s1', { refreshToken: 'rt-2', resources: [API], scope: 'read', asSession: 'as-1' }, HOUR);
  t.deepEqual(revoked, []);
  t.true(logs.includes('grant.superseded (replaced by consent): same AS session, so the same grant; not revoked'));
});

test('RFC 7009: ending a grant deletes its record and revokes its refresh token', async (t) => {
  const { tokens, revoked, logs } = setup();
  await tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read', asSession: 'as-1' }, HOUR);
  t.deepEqual(await tokens.endGrant('s1', { why: 'signed out' }), { asSession: 'as-1' });
  t.false(await tokens.hasGrant('s1'));
  t.deepEqual(revoked, ['rt-1']);
  t.true(logs.includes('grant.revoked (signed out)'));
  t.is(await tokens.endGrant('s1', { why: 'signed out' }), undefined, 'ending it again finds nothing');
  t.deepEqual(revoked, ['rt-1']);
});

test('a new sign-in in the same AS session ends the old grant without revoking the shared one', async (t) => {
  const { tokens, revoked, logs } = setup();
  await tokens.startGrant('old', { refreshToken: 'rt-1', resources: [API], scope: 'read', asSession: 'as-1' }, HOUR);
  await tokens.startGrant('new', { refreshToken: 'rt-2', resources: [API], scope: 'read', asSession: 'as-1' }, HOUR);
  await tokens.endGrant('old', { why: 'replaced by a new sign-in', successor: 'new' });
  t.deepEqual(revoked, []);
  t.true(
    logs.includes('grant.superseded (replaced by a new sign-in): same AS session, so the same grant; not revoked'),
  );
  t.true(await tokens.hasGrant('new'));
});

test('an expired grant record is revoked, unless a newer session carries its AS session', async (t) => {
  const { tokens, revoked, logs } = setup();
  const record = { refresh_token: 'rt-1', resources: [API], scope: 'read', tokens: {}, as_session: 'as-1' };
  await tokens.grantExpired(record, async () => true);
  t.deepEqual(revoked, []);
  t.true(logs.includes('grant.superseded (session expired): a newer session carries the same AS session; not revoked'));
  await tokens.grantExpired(record, async () => false);
  t.deepEqual(revoked, ['rt-1']);
  t.true(logs.includes('grant.revoked (session expired)'));
  await tokens.grantExpired({ resources: [], scope: '', tokens: {} }, async () => false);
  t.deepEqual(revoked, ['rt-1'], 'a record without a refresh token has nothing to revoke');
});

test('development knobs: cached tokens expire now; the lifetime is set; the refresh token is revoked at the AS but kept', async (t) => {
  const { tokens, revoked } = setup();
  t.is(await tokens.expireCachedTokens('none'), undefined);
  t.false(await tokens.setGrantLifetime('none', 1000));
  await tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read' }, HOUR);
  await tokens.getToken(session('s1'), ask());
  t.is(await tokens.expireCachedTokens('s1'), 1);
  t.is((await tokens.getToken(session('s1'), ask())).source, 'refresh', 'the expired cached token is not served');
  t.true(await tokens.setGrantLifetime('s1', 60_000));
  const endsAt = (await tokens.getGrant('s1'))?.ends_at ?? 0;
  t.true(endsAt > Date.now() + 50_000 && endsAt <= Date.now() + 60_000);
  t.deepEqual(await tokens.revokeAtAs('s1'), { revoked: true });
  t.deepEqual(revoked, ['rt-1']);
  t.is((await tokens.getGrant('s1'))?.refresh_token, 'rt-1');
});

test('a callback that changes nothing discards its grant: revoked, unless the session already holds it', async (t) => {
  const { tokens, revoked } = setup();
  await tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read' }, HOUR);
  await tokens.discardGrant({ refreshToken: 'rt-1', resources: [API], scope: 'read' }, 'refused', 's1');
  t.deepEqual(revoked, []);
  await tokens.discardGrant({ refreshToken: 'rt-9', resources: [API], scope: 'read' }, 'refused', 's1');
  t.deepEqual(revoked, ['rt-9']);
});

test('RFC 7009: a revocation that did not happen is logged with its reason, description and detail; the grant ends anyway', async (t) => {
  const outcomes = [
    {
      revoked: false as const,
      reason: 'unreachable' as const,
      description: 'could not be reached',
      detail: 'ECONNREFUSED',
    },
    { revoked: false as const, reason: 'refused' as const, description: 'invalid_client: no' },
  ];
  const failing: AuthorizationServer = {
    refresh: async () => ({ access_token: 'at', expires_in: 300 }),
    exchange: async () => ({ access_token: 'xt', expires_in: 300 }),
    revokeRefreshToken: async () => outcomes.shift() ?? { revoked: true },
  };
  const lines: string[] = [];
  const service = new TokenService({
    store: new MemoryStore(),
    authorizationServer: failing,
    log: (event) => lines.push(event),
  });
  for (const id of ['s1', 's2']) {
    await service.startGrant(id, { refreshToken: `rt-${id}`, resources: [API], scope: 'read' }, HOUR);
    await service.endGrant(id, { why: 'signed out' });
    t.false(await service.hasGrant(id));
  }
  t.deepEqual(lines, [
    'grant.revocation_failed (signed out): unreachable: could not be reached [ECONNREFUSED]',
    'grant.revocation_failed (signed out): refused: invalid_client: no',
  ]);
});

/** A MemoryStore that records the lifetime of each grant record written. */
class TtlStore extends MemoryStore {
  readonly ttls: Array<number | undefined> = [];
  override async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    if (key.startsWith('grant:')) this.ttls.push(ttlMs);
    return super.set(key, value, ttlMs);
  }
}

test('a grant record ends with its session: each rewrite (a refresh, consent) keeps the end that sign-in set', async (t) => {
  let now = 1_000_000;
  const store = new TtlStore({ sweepIntervalMs: 0 });
  const as: AuthorizationServer = {
    refresh: async () => ({ access_token: 'at', refresh_token: 'rt-2', expires_in: 300, scope: 'read' }),
    exchange: async () => ({ access_token: 'xt', expires_in: 300 }),
    revokeRefreshToken: async () => ({ revoked: true }),
  };
  const tokens = new TokenService({ store, authorizationServer: as, now: () => now });
  await tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read' }, HOUR);
  t.is((await tokens.getGrant('s1'))?.ends_at, 1_000_000 + HOUR);
  now += 60_000;
  await tokens.getToken(session('s1'), ask());
  t.deepEqual(store.ttls, [HOUR, HOUR - 60_000], 'the refresh wrote the record with what is left of the hour');
  now += 60_000;
  await tokens.widenGrant('s1', { resources: [API, OTHER], scope: 'read' }, HOUR - 120_000);
  t.is(store.ttls.at(-1), HOUR - 120_000);
  t.is((await tokens.getGrant('s1'))?.refresh_token, 'rt-2', 'consent without a refresh token keeps the one held');
  // A record written without an end (as an older version did) is rewritten without one.
  await store.set('grant:s2', { refresh_token: 'rt-x', resources: [API], scope: 'read', tokens: {} });
  await tokens.getToken(session('s2'), ask());
  t.is(store.ttls.at(-1), undefined);
  t.false('ends_at' in ((await tokens.getGrant('s2')) ?? {}));
});

test('consent for a session without a grant record starts one; an expired record that is not a grant is ignored', async (t) => {
  const { tokens, revoked } = setup();
  await tokens.widenGrant('new', { refreshToken: 'rt-n', resources: [API], scope: 'read' }, HOUR);
  t.like(await tokens.getGrant('new'), { refresh_token: 'rt-n', resources: [API] });
  t.deepEqual(revoked, []);
  for (const record of [undefined, null, 'text', {}, { refresh_token: 7 }]) {
    await t.notThrowsAsync(
      tokens.grantExpired(record, async () => false),
      JSON.stringify(record),
    );
  }
  t.deepEqual(revoked, []);
});

test('D13: a refresh token that died says so in its description; none issued says to look at the configuration', async (t) => {
  const { tokens } = setup();
  await tokens.startGrant('none', { resources: [API], scope: 'read' }, HOUR);
  const none = await tokens.unavailable('none');
  t.is(
    none?.error_description,
    'the authorization server issued no refresh token at sign-in: the backend cannot get tokens for this session (see the backend log: auth.no_refresh_token)',
  );
  const died = setup({ refreshFails: true });
  await died.tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read' }, HOUR);
  await t.throwsAsync(died.tokens.getToken(session('s1'), ask()));
  const why = await died.tokens.unavailable('s1');
  t.is(why?.error_description, 'this session holds no refresh token: sign in again to get one');
  t.is(why?.remediation, 'sign_in');
});

test('onAs is told of the revocations made for a session, and not of those for a grant that has none', async (t) => {
  const told: Array<{ sessionId: string; kind: string }> = [];
  const as: AuthorizationServer = {
    refresh: async () => ({ access_token: 'at', expires_in: 300 }),
    exchange: async () => ({ access_token: 'xt', expires_in: 300 }),
    revokeRefreshToken: async () => ({ revoked: true }),
  };
  const tokens = new TokenService({
    store: new MemoryStore(),
    authorizationServer: as,
    onAs: ({ sessionId, kind }) => told.push({ sessionId, kind }),
  });
  await tokens.startGrant('s1', { refreshToken: 'rt-1', resources: [API], scope: 'read', asSession: 'a' }, HOUR);
  await tokens.endGrant('s1', { why: 'signed out' });
  t.deepEqual(told, [{ sessionId: 's1', kind: 'revocation' }]);
  // A callback's grant that is not kept belongs to no session yet.
  await tokens.discardGrant({ refreshToken: 'rt-2', resources: [API], scope: 'read' }, 'refused');
  t.is(told.length, 1);
});

test('TMI-BFF-01 §4.3.2 (TMI-27): no grant record at all asks for a sign-in; a record has an end only when given one', (t) => {
  t.deepEqual(toErrorBody(noRefreshToken(undefined)), {
    error: 'backend_not_ready',
    error_description: 'this session holds no refresh token: sign in again to get one',
    remediation: 'sign_in',
  });
  const input = { refreshToken: 'rt', resources: [API], scope: 'read' };
  t.deepEqual(grantRecord(input), { refresh_token: 'rt', resources: [API], scope: 'read', tokens: {} });
  t.false('ends_at' in grantRecord(input));
  t.is(grantRecord(input, 5).ends_at, 5);
});
