/**
 * The admin client against the backend's dev-only admin API, as a frontend's tests use it: each
 * knob through `startMockBff().admin`, its effect seen through bff-token or bff-sessioninfo.
 * Only the package's public exports.
 */
import { MockAdminError, type MockBff, TOKEN_SOURCE_HEADER, WELL_KNOWN } from '@tmi-bff/mock-bff';
import test from 'ava';
import { callBff, started } from './_setup.js';

const token = (bff: MockBff, cookieHeader: string) => callBff(bff, WELL_KNOWN.bffToken, cookieHeader);
const sessionInfo = (bff: MockBff, cookieHeader: string) => callBff(bff, WELL_KNOWN.bffSessionInfo, cookieHeader);

test('expireTokens() makes the next bff-token get a new token from the AS instead of the cache', async (t) => {
  const bff = await started(t);
  const { cookieHeader } = await bff.signIn('alice');
  const first = await token(bff, cookieHeader);
  t.is(first.res.status, 200);
  t.is((await token(bff, cookieHeader)).res.headers.get(TOKEN_SOURCE_HEADER), 'cache');
  await bff.admin.expireTokens(cookieHeader);
  const after = await token(bff, cookieHeader);
  t.is(after.res.status, 200);
  t.not(after.res.headers.get(TOKEN_SOURCE_HEADER), 'cache');
  t.not(after.body.access_token, first.body.access_token);
});

test('setSessionLifetime() shortens the session: bff-sessioninfo reports the new end, and at 0 the session is gone', async (t) => {
  const bff = await started(t);
  const { cookieHeader } = await bff.signIn('alice');
  await bff.admin.setSessionLifetime(cookieHeader, 60);
  const info = await sessionInfo(bff, cookieHeader);
  t.is(info.res.status, 200);
  const exp = Number(info.body.exp);
  t.true(Math.abs(exp - (Date.now() / 1000 + 60)) <= 2, `exp ${exp}`);
  await bff.admin.setSessionLifetime(cookieHeader, 0);
  const gone = await sessionInfo(bff, cookieHeader);
  t.is(gone.res.status, 400);
  t.is(gone.body.error, 'invalid_session');
});

test('revokeGrant() revokes at the AS: the next token needs a refresh, which the AS refuses', async (t) => {
  const bff = await started(t);
  const { cookieHeader } = await bff.signIn('alice');
  t.is((await token(bff, cookieHeader)).res.status, 200);
  await bff.admin.revokeGrant(cookieHeader);
  const after = await token(bff, cookieHeader);
  t.is(after.res.status, 400);
  t.true(['invalid_session', 'invalid_grant'].includes(String(after.body.error)), JSON.stringify(after.body));
});

test('switchPersona() answers a new session for bob; the old cookie no longer has a session', async (t) => {
  const bff = await started(t);
  const alice = await bff.signIn('alice');
  const bob = await bff.admin.switchPersona(alice.cookieHeader, 'bob');
  t.deepEqual(bob.cookies.map((c) => c.name).sort(), ['bff-session', 'bff-session.sig']);
  t.like((await sessionInfo(bff, bob.cookieHeader)).body, { sub: 'bob' });
  const old = await sessionInfo(bff, alice.cookieHeader);
  t.is(old.res.status, 400);
  t.is(old.body.error, 'invalid_session');
});

test('failNextTokenRequests({ count: 2, … }) fails exactly the next two token requests; the third succeeds', async (t) => {
  const bff = await started(t);
  const { cookieHeader } = await bff.signIn('alice');
  await bff.admin.expireTokens(cookieHeader);
  const fault = { count: 2, error: 'temporarily_unavailable', error_description: 'injected', status: 503 };
  t.like(await bff.admin.failNextTokenRequests(fault), { fail: { remaining: 2, error: 'temporarily_unavailable' } });
  for (const attempt of [1, 2]) {
    const failed = await token(bff, cookieHeader);
    t.is(failed.res.status, 400, `attempt ${attempt}`);
    t.is(failed.body.error, 'temporarily_unavailable', `attempt ${attempt}`);
  }
  const third = await token(bff, cookieHeader);
  t.is(third.res.status, 200);
  t.truthy(third.body.access_token);
});

test('an injected invalid_grant is relayed to the app as invalid_grant', async (t) => {
  const bff = await started(t);
  const { cookieHeader } = await bff.signIn('alice');
  await bff.admin.expireTokens(cookieHeader);
  await bff.admin.failNextTokenRequests({ count: 1, error: 'invalid_grant', error_description: 'injected' });
  const failed = await token(bff, cookieHeader);
  t.is(failed.res.status, 400);
  t.deepEqual(failed.body, { error: 'invalid_grant', error_description: 'injected' });
});

test('asDown() gives temporarily_unavailable with the session kept; asUp() brings tokens back', async (t) => {
  const bff = await started(t);
  const { cookieHeader } = await bff.signIn('alice');
  await bff.admin.expireTokens(cookieHeader);
  await bff.admin.asDown();
  const down = await token(bff, cookieHeader);
  t.is(down.res.status, 400);
  t.is(down.body.error, 'temporarily_unavailable');
  t.like((await sessionInfo(bff, cookieHeader)).body, { sub: 'alice' });
  await bff.admin.asUp();
  t.is((await token(bff, cookieHeader)).res.status, 200);
});

test("state() reports mock mode, the AS's faults and, with a cookie, the session", async (t) => {
  const bff = await started(t);
  const { cookieHeader } = await bff.signIn('alice');
  const state = await bff.admin.state(cookieHeader);
  t.is(state.mock, true);
  t.like(state.session, { sub: 'alice' });
  t.truthy(state.as);
  t.like(await bff.admin.state(), { mock: true, session: null });
});

test('a refused knob throws a MockAdminError with the status and the OAuth error of the answer', async (t) => {
  const bff = await started(t);
  const noSession = await t.throwsAsync(bff.admin.expireTokens(''), { instanceOf: MockAdminError });
  t.like(noSession, { status: 400, error: 'invalid_session', code: 'TMI_BFF_MOCK_ADMIN_ERROR' });
  const { cookieHeader } = await bff.signIn('alice');
  const bad = await t.throwsAsync(bff.admin.setSessionLifetime(cookieHeader, 'soon' as never), {
    instanceOf: MockAdminError,
  });
  t.like(bad, { status: 400, error: 'invalid_request' });
  t.regex(bad?.message ?? '', /^POST \/_mock\/session\/lifetime answered 400 invalid_request: /);
});
