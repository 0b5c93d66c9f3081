/**
 * A session holds one identity and one grant; a grant the backend stops using is revoked at the AS
 * (RFC 7009). Counted at the real mock AS: the grants it still holds, and which refresh tokens it
 * still accepts.
 */
import { signIn } from '@tmi-bff/mock-as/testing';
import test from 'ava';
import * as oidc from 'openid-client';
import { consentAs, SERVICE_B, STOCKS, type Stack, startStack, type UserAgent } from './_setup.js';

const liveGrants = (stack: Stack) => stack.as.store.count().Grant ?? 0;

async function refreshTokenOf(stack: Stack, user: UserAgent): Promise<string> {
  return String((await stack.backend.tokens.getGrant(await stack.sessionId(user)))?.refresh_token);
}

async function active(stack: Stack, token: string): Promise<boolean> {
  return (await oidc.tokenIntrospection(await stack.backend.client.configuration(), token)).active;
}

test('D13: consent answered as someone else is refused: the session keeps its identity and its grant, and the other grant is revoked', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const sid = await stack.sessionId(alice);
  const before = await stack.backend.tokens.getGrant(sid);
  t.is(liveGrants(stack), 1);

  const back = await consentAs(alice, 'bob', `resource=${encodeURIComponent(SERVICE_B)}&scope=b&returnTo=/chain`);
  t.is(back.status, 400);
  const html = await back.text();
  t.regex(html, /You signed in as someone else/);
  t.regex(html, /belongs to alice.*answered for bob/s);
  t.is(back.headers.get('content-security-policy')?.includes("frame-ancestors 'none'"), true);

  t.like((await alice.sessionInfo()).body, { sub: 'alice' });
  t.deepEqual(await stack.backend.tokens.getGrant(sid), before, "alice's grant is untouched");
  const token = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(token.status, 200);
  t.like(JSON.parse(Buffer.from(String(token.body.access_token).split('.')[1] ?? '', 'base64url').toString()), {
    sub: 'alice',
  });
  t.like((await alice.token({ resource: SERVICE_B, scope: 'b' })).body, { error: 'backend_not_ready' });
  t.is(liveGrants(stack), 1, "bob's grant from the refused consent was revoked");
});

test('D13: a consent that returns after the browser signed in anew does not write to the old session (nor resurrect its grant)', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const oldSid = await stack.sessionId(alice);
  const start = await alice.fetch(`/auth/consent?resource=${encodeURIComponent(SERVICE_B)}&scope=b`);
  const consentAt = start.headers.get('location') ?? '';
  const loginCookie = alice.jar.get('127.0.0.1', 'bff-login') ?? '';
  const loginSig = alice.jar.get('127.0.0.1', 'bff-login.sig') ?? '';

  // Meanwhile the browser signs in again (another tab): a new session.
  await alice.signIn({ persona: 'alice' });
  const newSid = await stack.sessionId(alice);
  t.not(newSid, oldSid);
  t.is(await stack.backend.tokens.getGrant(oldSid), undefined);

  // The consent tab comes back with its own login transaction.
  alice.jar.set('127.0.0.1', 'bff-login', loginCookie);
  alice.jar.set('127.0.0.1', 'bff-login.sig', loginSig);
  const callback = await signIn(consentAt, { persona: 'alice', jar: alice.jar });
  const back = await alice.fetch(callback.pathname + callback.search);
  t.is(back.status, 400);
  t.regex(await back.text(), /Your session changed/);
  t.is(await stack.backend.tokens.getGrant(oldSid), undefined, 'the old session stays gone');
  t.is(await stack.sessionId(alice), newSid);
  t.is((await alice.token({ resource: STOCKS, scope: 'stocks:read' })).status, 200, 'the new session still works');
  t.like((await alice.token({ resource: SERVICE_B, scope: 'b' })).body, { error: 'backend_not_ready' });
});

test('RFC 7009: a new sign-in over a session forgets and revokes the grant it replaces', async (t) => {
  const stack = await startStack(t);
  const user = stack.browser();
  await user.signIn({ persona: 'alice' });
  const oldSid = await stack.sessionId(user);
  const oldRefresh = await refreshTokenOf(stack, user);

  // The same browser, the AS session gone (another AS session: another grant), bob signs in.
  const fresh = stack.browser();
  fresh.jar.set('127.0.0.1', 'bff-session', user.sessionCookie().key);
  fresh.jar.set('127.0.0.1', 'bff-session.sig', user.sessionCookie().sig);
  await fresh.signIn({ persona: 'bob' });
  t.like((await fresh.sessionInfo()).body, { sub: 'bob' });
  t.is(await stack.backend.tokens.getGrant(oldSid), undefined, 'the previous grant record is deleted');
  t.false(await active(stack, oldRefresh), 'and its refresh token revoked at the AS');
  t.is(liveGrants(stack), 1, 'only the new grant is alive at the AS');
});

test('RFC 7009: a new sign-in in the same AS session replaces the grant record, and the new session keeps working', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const oldSid = await stack.sessionId(alice);
  const asSession = (await stack.backend.tokens.getGrant(oldSid))?.as_session;
  t.regex(String(asSession), /^sid /, 'the AS session is known from the ID token (claims parameter)');
  await alice.signIn({ persona: 'alice' });
  t.is(await stack.backend.tokens.getGrant(oldSid), undefined);
  t.is((await stack.backend.tokens.getGrant(await stack.sessionId(alice)))?.as_session, asSession);
  t.is(liveGrants(stack), 1, 'one AS session, one grant');
  const token = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(token.status, 200, JSON.stringify(token.body));
});

test('RFC 7009: a consent in a new AS session revokes the refresh token it replaces; the session works on with the new one', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const oldRefresh = await refreshTokenOf(stack, alice);
  const back = await consentAs(alice, 'alice', `resource=${encodeURIComponent(SERVICE_B)}&scope=b`);
  t.is(back.status, 303, await back.clone().text());
  t.not(await refreshTokenOf(stack, alice), oldRefresh);
  t.false(await active(stack, oldRefresh), 'the replaced refresh token is revoked');
  t.is(liveGrants(stack), 1);
  t.is((await alice.token({ resource: SERVICE_B, scope: 'b' })).status, 200);
  t.is((await alice.token({ resource: STOCKS, scope: 'stocks:read' })).status, 200);
});

test('RFC 7009: sign-out leaves no grant alive at the AS', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  t.is(liveGrants(stack), 1);
  const out = await alice.fetch('/auth/logout', { method: 'POST', headers: { origin: stack.origin } });
  t.is(out.status, 303);
  t.is(liveGrants(stack), 0);
});

test('RFC 7009: when a session expires, its refresh token is revoked at the AS', async (t) => {
  const logs: string[] = [];
  // The store sweeps on its own timer (here every 50 ms): nobody calls sweep().
  const stack = await startStack(t, {
    backend: { sessionMaxAgeMs: 60_000, sweepIntervalMs: 50, log: (line) => logs.push(line) },
  });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const refresh = await refreshTokenOf(stack, alice);
  const revoked = new Promise<void>((resolve) => stack.as.provider.once('grant.revoked', () => resolve()));
  stack.advance(60_001);
  await revoked;
  t.false(await active(stack, refresh));
  t.is(liveGrants(stack), 0);
  t.true(logs.includes('grant.revoked (session expired)'));
});
