/**
 * D6 on Redis: a store that does not answer (Redis stopped, or hung) is `temporarily_unavailable`,
 * as an AS that does not answer is, within the store's own command timeout, and nothing is lost:
 * once Redis is back the same cookie has the same session, grant and cached token. Against a real
 * redis-server that keeps an append-only file, as a production Redis with AOF does.
 */
import { randomBytes } from 'node:crypto';
import { startRedis } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import { type BffResponse, STOCKS, type Stack, startStack, type UserAgent } from './_setup.js';

/** RedisStore's default `commandTimeoutMs`: the longest a call waits for a Redis that does not answer. */
const STORE_TIMEOUT_MS = 2000;

/** A backend on a Redis of its own, and alice signed in with a token in its cache. */
async function signedIn(t: ExecutionContext) {
  const redis = await startRedis({ persistent: true });
  t.teardown(() => redis.remove());
  const logs: string[] = [];
  const stack = await startStack(t, {
    backend: { redisUrl: redis.url, dataKey: new Uint8Array(randomBytes(32)), log: (line) => logs.push(line) },
  });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const token = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(token.status, 200, JSON.stringify(token.body));
  return { redis, stack, alice, logs, token: String(token.body.access_token), sid: await stack.sessionId(alice) };
}

/** D6: the spec's JSON error, never cached, never a 500; answered within the store's timeout. */
async function assertUnavailable(t: ExecutionContext, call: () => Promise<BffResponse>, what: string) {
  const started = Date.now();
  const res = await call();
  const elapsed = Date.now() - started;
  t.is(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
  t.is(res.headers.get('cache-control'), 'no-store', what);
  t.deepEqual(
    res.body,
    { error: 'temporarily_unavailable', error_description: 'the session store did not answer; try again shortly' },
    what,
  );
  t.true(elapsed < STORE_TIMEOUT_MS + 2000, `${what} answered in ${elapsed} ms, not held`);
}

/**
 * The sign-in page: a plain 503 page that says to try again, with nothing of the failure in it; the
 * log says what failed and what to check.
 */
async function assertSignInPageUnavailable(t: ExecutionContext, alice: UserAgent, logs: string[]) {
  const res = await alice.fetch('/auth/login');
  const html = await res.text();
  t.is(res.status, 503, html);
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  t.is(res.headers.get('cache-control'), 'no-store');
  t.regex(html, /try again/i);
  t.notRegex(html, /Redis|StoreUnavailable|Internal Server Error|\n\s+at /, 'no internals on the page');
  t.true(
    logs.some((line) => /Redis at redis:\/\/127\.0\.0\.1:\d+\/? does not answer .*check that it runs/.test(line)),
    logs.join('\n'),
  );
}

/** Once the store's client has reconnected (it backs off to one attempt a second), the call answers 200. */
async function untilBack(call: () => Promise<BffResponse>): Promise<BffResponse> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await call();
    if (res.status === 200 || Date.now() > deadline) return res;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Nothing lost: the same session (same sid, same claims), its cached token, then its refresh token at the AS. */
async function assertNothingLost(
  t: ExecutionContext,
  { stack, alice, token, sid }: { stack: Stack; alice: UserAgent; token: string; sid: string },
) {
  const info = await untilBack(() => alice.sessionInfo());
  t.is(info.status, 200, JSON.stringify(info.body));
  t.like(info.body, { sub: 'alice' });
  t.is(await stack.sessionId(alice), sid, 'the same session');
  const cached = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(cached.status, 200, JSON.stringify(cached.body));
  t.is(cached.body.access_token, token, 'the cached token, kept in Redis');
  // Past the cached token's lifetime: the refresh token kept in Redis still works at the AS.
  const from = stack.grants.length;
  stack.advance(600_000);
  const refreshed = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(refreshed.status, 200, JSON.stringify(refreshed.body));
  t.not(refreshed.body.access_token, token);
  t.deepEqual(
    stack.grants.slice(from).map((g) => `${g.grant_type} ${g.ok}`),
    ['refresh_token true'],
    'one refresh, no new sign-in',
  );
  t.false(
    stack.grants.slice(1).some((g) => g.grant_type === 'authorization_code'),
    'the one code exchange was the sign-in',
  );
}

test('D6: Redis stopped → bff-token and bff-sessioninfo answer temporarily_unavailable at once, sign-in a 503 page; Redis back → the same cookie has its session and grant', async (t) => {
  const signed = await signedIn(t);
  const { redis, alice } = signed;
  await redis.stop();

  await assertUnavailable(t, () => alice.token({ resource: STOCKS, scope: 'stocks:read' }), 'bff-token');
  await assertUnavailable(t, () => alice.sessionInfo(), 'bff-sessioninfo');
  await assertSignInPageUnavailable(t, alice, signed.logs);

  await redis.start();
  await assertNothingLost(t, signed);
});

test('D6: Redis hung (stopped with SIGSTOP) → temporarily_unavailable within the store timeout; Redis resumed → the same cookie has its session and grant', async (t) => {
  const signed = await signedIn(t);
  const { redis, alice } = signed;
  redis.pause();
  t.teardown(() => redis.resume());

  await assertUnavailable(t, () => alice.token({ resource: STOCKS, scope: 'stocks:read' }), 'bff-token');
  await assertUnavailable(t, () => alice.sessionInfo(), 'bff-sessioninfo');
  await assertSignInPageUnavailable(t, alice, signed.logs);

  redis.resume();
  await assertNothingLost(t, signed);
});
