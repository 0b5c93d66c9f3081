/**
 * The flow inspector's event stream (GET /_mock/flow, flow-events.ts and flow-stream.ts), against
 * the real mock AS: what the backend did on a session's behalf, timed, secrets shortened, and only
 * to that session's browser.
 */
import { signIn } from '@tmi-bff/mock-as/testing';
import test, { type ExecutionContext } from 'ava';
import type { FlowEvent } from '../src/flow-events.js';
import { logOutAtAs, SERVICE_B, STOCKS, type Stack, startStack, type UserAgent } from './_setup.js';

const mockStack = (t: ExecutionContext) =>
  startStack(t, { backend: { mock: { enabled: true } }, as: { faults: { enabled: true } } });

/** Signs in through the AS's forms; the code and state the browser carried back. */
async function signInAs(user: UserAgent, persona: string) {
  const start = await user.fetch('/auth/login?returnTo=/');
  const callback = await signIn(start.headers.get('location') ?? '', { jar: user.jar, persona });
  const done = await user.fetch(callback.pathname + callback.search);
  if (done.status !== 303) throw new Error(`the callback answered ${done.status}`);
  return { code: callback.searchParams.get('code') ?? '', state: callback.searchParams.get('state') ?? '' };
}

/** The browser's EventSource, as a reader of the stream's frames. */
async function openFlow(t: ExecutionContext, user: UserAgent) {
  const abort = new AbortController();
  const res = await user.fetch('/_mock/flow', { signal: abort.signal });
  t.teardown(() => abort.abort());
  const events: FlowEvent[] = [];
  let raw = '';
  let wake = () => {};
  void (async () => {
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        raw += text;
        pending += text;
        let end = pending.indexOf('\n\n');
        while (end >= 0) {
          const data = /^data: (.*)$/m.exec(pending.slice(0, end));
          if (data?.[1]) events.push(JSON.parse(data[1]) as FlowEvent);
          pending = pending.slice(end + 2);
          end = pending.indexOf('\n\n');
        }
        wake();
      }
    } catch {
      // aborted at teardown
    }
  })();
  return {
    res,
    events,
    raw: () => raw,
    /** Resolves once `count` events of `kind` have come, or fails after 5 s. */
    async until(kind: FlowEvent['kind'], count = 1): Promise<FlowEvent[]> {
      const deadline = Date.now() + 5000;
      while (events.filter((e) => e.kind === kind).length < count) {
        if (Date.now() > deadline) throw new Error(`no ${count}× ${kind} in ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      return events;
    },
  };
}

/** Every secret the backend held or passed for these browsers: none may appear whole in a stream. */
function secretsOf(stack: Stack, ...more: string[]): string[] {
  return [...stack.grants.flatMap((g) => (g.refresh_token ? [g.refresh_token] : [])), ...more].filter(
    (s) => s.length > 0,
  );
}

test('mock mode: the stream shows the authorize request, the callback, the code redemption and each refresh, timed, in order', async (t) => {
  const stack = await mockStack(t);
  const alice = stack.browser();
  const began = performance.now();
  const { code, state } = await signInAs(alice, 'alice');
  const signInMs = performance.now() - began;
  const flow = await openFlow(t, alice);
  t.is(flow.res.status, 200);
  t.is(flow.res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  t.is(flow.res.headers.get('cache-control'), 'no-store');

  const first = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(first.headers.get('tmi-bff-token-source'), 'refresh');
  // D11: the SDK's fresh=1 after a resource server's 401: another refresh at the AS.
  const fresh = await alice.token({ resource: STOCKS, scope: 'stocks:read', fresh: '1' });
  t.is(fresh.status, 200);
  const events = await flow.until('refresh', 2);

  t.deepEqual(
    events.map((e) => e.kind),
    ['authorize', 'callback', 'code', 'refresh', 'refresh'],
  );
  t.true(events.every((e, i) => i === 0 || e.id > (events[i - 1]?.id ?? 0)));
  const [authorize, callback, redeemed, refresh] = events;
  t.like(authorize?.data, {
    client_id: stack.backend.config.client.id,
    redirect_uri: `${stack.origin}/auth/callback`,
    scope: stack.backend.config.login.scope,
    resource: stack.backend.config.login.resources,
    code_challenge_method: 'S256',
    response_type: 'code',
  });
  const discovery = await fetch(`${stack.as.issuer}/.well-known/openid-configuration`);
  t.is(
    authorize?.data.authorization_endpoint,
    ((await discovery.json()) as Record<string, unknown>).authorization_endpoint,
  );
  t.false('for' in (authorize?.data ?? {}), 'a sign-in, not a consent');
  for (const name of ['code_challenge', 'state', 'nonce']) t.regex(String(authorize?.data[name]), /^.{6}….{4}$/, name);
  t.is(authorize?.data.state, `${state.slice(0, 6)}…${state.slice(-4)}`);
  t.like(callback?.data, { code: `${code.slice(0, 6)}…${code.slice(-4)}`, state_matches: true });
  t.like(redeemed?.data, { grant_type: 'authorization_code', outcome: 'ok', token_type: 'Bearer' });
  t.is(redeemed?.data.refresh_token, 'issued (kept by the backend, never shown)');
  t.is(typeof redeemed?.data.expires_in, 'number');
  // The backend runs in this process: the redemption took part of the sign-in's time, no more.
  t.true((redeemed?.ms ?? Number.NaN) <= Math.ceil(signInMs), `${redeemed?.ms} ms of ${signInMs} ms`);
  t.like(refresh?.data, { grant_type: 'refresh_token', resource: [STOCKS], scope: 'stocks:read', outcome: 'ok' });
  for (const timed of [redeemed, ...events.filter((e) => e.kind === 'refresh')]) {
    t.true(typeof timed?.ms === 'number' && timed.ms >= 0 && timed.ms < 60_000, `${timed?.kind} has a duration`);
  }

  const secrets = secretsOf(stack, code, state, String(first.body.access_token), String(fresh.body.access_token));
  t.true(secrets.length >= 5);
  for (const secret of secrets) t.false(flow.raw().includes(secret), `${secret.slice(0, 6)}… is never whole`);
});

test('mock mode: a consent shows in its session’s stream, granted or refused: the authorize request says it is a consent, and a refusal shows the AS’s error', async (t) => {
  const stack = await mockStack(t);
  const alice = stack.browser();
  await signInAs(alice, 'alice');
  const flow = await openFlow(t, alice);
  const consent = async (persona: string, consentAnswer?: 'deny') => {
    const start = await alice.fetch(`/auth/consent?resource=${encodeURIComponent(SERVICE_B)}&scope=b`);
    const callback = await signIn(start.headers.get('location') ?? '', {
      jar: alice.jar,
      persona,
      ...(consentAnswer ? { consent: consentAnswer } : {}),
    });
    return { callback, res: await alice.fetch(callback.pathname + callback.search) };
  };

  t.is((await consent('alice')).res.status, 303);
  const granted = (await flow.until('code', 2)).slice(-3);
  t.deepEqual(
    granted.map((e) => e.kind),
    ['authorize', 'callback', 'code'],
  );
  t.is(granted[0]?.data.for, 'consent (D13): the grant of this session grows');
  t.true([granted[0]?.data.resource].flat().includes(SERVICE_B), 'the grant grows by the consented resource');
  t.like(granted[2]?.data, { outcome: 'ok' });

  const denied = await consent('alice', 'deny');
  t.is(denied.res.status, 400);
  const refused = (await flow.until('code', 3)).slice(-3);
  t.deepEqual(
    refused.map((e) => e.kind),
    ['authorize', 'callback', 'code'],
  );
  t.like(refused[1]?.data, { error: 'access_denied', state_matches: true });
  t.like(refused[2]?.data, { grant_type: 'authorization_code', outcome: 'error', error: 'access_denied' });
  t.is(typeof refused[2]?.data.error_description, 'string');

  // A callback whose state is not the transaction's: the inspector says so.
  const start = await alice.fetch(`/auth/consent?resource=${encodeURIComponent(SERVICE_B)}&scope=b`);
  const callback = await signIn(start.headers.get('location') ?? '', { jar: alice.jar, persona: 'alice' });
  callback.searchParams.set('state', 'forged-state-value');
  t.is((await alice.fetch(callback.pathname + callback.search)).status, 400);
  const forged = (await flow.until('callback', 4)).filter((e) => e.kind === 'callback').at(-1);
  t.like(forged?.data, { state_matches: false });
  t.false('error' in (forged?.data ?? {}));
});

test("mock mode: a browser's stream carries its own session's events only, never another user's", async (t) => {
  const stack = await mockStack(t);
  const alice = stack.browser();
  const bob = stack.browser();
  const aliceSignIn = await signInAs(alice, 'alice');
  const bobSignIn = await signInAs(bob, 'bob');
  const bobFlow = await openFlow(t, bob);
  const aliceFlow = await openFlow(t, alice);
  await bobFlow.until('code');
  await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  await aliceFlow.until('refresh');
  // One of bob's own afterwards: his stream has caught up past alice's refresh.
  await bob.token({ resource: STOCKS, scope: 'stocks:read' });
  await bobFlow.until('refresh');

  t.deepEqual(
    bobFlow.events.map((e) => e.kind),
    ['authorize', 'callback', 'code', 'refresh'],
  );
  t.is(bobFlow.events[0]?.data.state, `${bobSignIn.state.slice(0, 6)}…${bobSignIn.state.slice(-4)}`);
  t.false(bobFlow.raw().includes(aliceSignIn.state.slice(0, 6)));
  t.deepEqual(
    aliceFlow.events.map((e) => e.kind),
    ['authorize', 'callback', 'code', 'refresh'],
  );
});

test('mock mode: sign-out shows the revocation of the refresh token, then the sign-out', async (t) => {
  const stack = await mockStack(t);
  const alice = stack.browser();
  await signInAs(alice, 'alice');
  const flow = await openFlow(t, alice);
  const out = await alice.fetch('/auth/logout', { method: 'POST', headers: { origin: stack.origin } });
  t.is(out.status, 303);
  const events = await flow.until('sign-out');
  t.deepEqual(
    events.slice(-2).map((e) => e.kind),
    ['revocation', 'sign-out'],
  );
  t.like(events.at(-2)?.data, { token_type_hint: 'refresh_token', outcome: 'revoked' });
  t.true((events.at(-2)?.ms ?? -1) >= 0);
  const signOut = events.at(-1);
  t.true(Array.isArray(signOut?.data.parameters));
  t.false(JSON.stringify(signOut).includes('eyJ'), 'the id_token_hint is not shown');
  for (const secret of secretsOf(stack)) t.false(flow.raw().includes(secret));
});

test('mock mode: a sign-out at the AS reaches the open stream as the revocation, then the back-channel logout', async (t) => {
  const stack = await mockStack(t);
  const alice = stack.browser();
  await signInAs(alice, 'alice');
  const flow = await openFlow(t, alice);
  await flow.until('code');
  t.is((await logOutAtAs(stack, alice)).status, 303);
  const events = await flow.until('backchannel-logout');
  t.deepEqual(
    events.slice(-2).map((e) => e.kind),
    ['revocation', 'backchannel-logout'],
  );
  t.like(events.at(-2)?.data, { outcome: 'revoked' });
  const named = events.at(-1)?.data.logout_token as { sid?: string } | undefined;
  t.regex(String(named?.sid), /^.{6}….{4}$|^… \(\d+ chars\)$/, 'the AS session is named, shortened');
  for (const secret of secretsOf(stack)) t.false(flow.raw().includes(secret));
});

test('the stream needs a session, refuses a cross-site request, and answers only GET', async (t) => {
  const stack = await mockStack(t);
  const stranger = await stack.browser().fetch('/_mock/flow');
  t.is(stranger.status, 400);
  t.is(((await stranger.json()) as { error?: string }).error, 'invalid_session');
  const alice = stack.browser();
  await signInAs(alice, 'alice');
  const crossSite = await alice.fetch('/_mock/flow', { headers: { 'sec-fetch-site': 'cross-site' } });
  t.is(crossSite.status, 400);
  t.is(((await crossSite.json()) as { error?: string }).error, 'invalid_session');
  t.is((await alice.fetch('/_mock/flow', { method: 'POST' })).status, 405);
});

test('mock mode off: /_mock/flow is the 404 of any unknown path', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await signInAs(alice, 'alice');
  const unknown = await alice.fetch('/no-such-path');
  const flow = await alice.fetch('/_mock/flow');
  t.is(flow.status, 404);
  t.is(await flow.text(), await unknown.text());
  t.not(flow.headers.get('content-type'), 'text/event-stream');
});
