/**
 * Two backend processes on one Redis, and one of them killed (SIGKILL) in the middle of a refresh,
 * while its request waits unread at a slow AS: the lock it held on the session stays in Redis until
 * its ttl (RedisStore `lockTtlMs`, 10 s by default) and no other instance refreshes meanwhile (D10);
 * then the other instance refreshes with the refresh token the dead one never spent, and the AS sees
 * no refresh token twice (no reuse, the grant is not revoked). A holder killed after the AS has read
 * its refresh is another matter: the rotated refresh token dies with it (RedisStore's header, "Not
 * guaranteed").
 *
 * Real processes (`npm start`: node --import tsx reference-backend/src/server.ts), so that the kill
 * is a real one: no `finally`, no release, no close. The mock AS and a redis-server run in this
 * process. The test waits the default lock ttl out (about 10 s of its 17), as production would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CSRF_HEADER } from '@tmi-bff/koa';
import { backendEnv, CONTROL_PATH, DEFAULT_ADDRESSES, loadSeed, SEED_FILE, startMockAs } from '@tmi-bff/mock-as';
import { fetchWithJar, freePort } from '@tmi-bff/mock-as/testing';
import { startRedis } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { createClient } from 'redis';
import { STOCKS, UserAgent } from './_setup.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** RedisStore's default lock ttl: how long a dead holder's lock outlives it. */
const LOCK_TTL_MS = 10_000;

/** `npm start` with `env`; resolves once it is ready, with a way to kill it. */
async function startInstance(t: ExecutionContext, name: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import=tsx', '--conditions=development', join(root, 'src', 'server.ts')],
    { cwd: root, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit');
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const take = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('reference-backend ready at')) resolve();
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    void exited.then(() => reject(new Error(`${name} ended before it was ready:\n${output}`)));
  });
  await ready;
  return {
    output: () => output,
    /** SIGKILL: the process ends where it is. Resolves once it has. */
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

test('D10 across instances: one of two killed (SIGKILL) while its refresh waits at the AS; its lock outlives it until its ttl, then the other refreshes with the unspent refresh token, and the grant lives on', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.remove());
  const [port1, port2] = [await freePort(), await freePort()];
  // One public origin for both, as behind a load balancer; each listens on its own port.
  const origin = `http://127.0.0.1:${port1}`;
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: origin });
  const as = await startMockAs({ seed, log: () => {}, faults: { enabled: true } });
  t.teardown(() => as.close());

  // What the AS did with every token request (and when), and any grant it revoked (as it does on reuse).
  const grants: string[] = [];
  const refreshedAt: number[] = [];
  const revoked: string[] = [];
  const grantType = (ctx: KoaContextWithOIDC) => (ctx.oidc.params as { grant_type?: string } | undefined)?.grant_type;
  as.provider.on('grant.success', (ctx) => {
    grants.push(`${grantType(ctx)} ok`);
    if (grantType(ctx) === 'refresh_token') refreshedAt.push(Date.now());
  });
  as.provider.on('grant.error', (ctx, err) => grants.push(`${grantType(ctx)} ${(err as { error?: string }).error}`));
  as.provider.on('grant.revoked', (_ctx, grantId) => revoked.push(String(grantId)));
  const { token_endpoint } = (await (await fetch(`${as.issuer}/.well-known/openid-configuration`)).json()) as {
    token_endpoint: string;
  };

  const env = {
    ...backendEnv(seed, as.issuer),
    BFF_ORIGIN: origin,
    BFF_STORE: redis.url,
    BFF_DATA_KEY: randomBytes(32).toString('base64url'),
    BFF_AS_TIMEOUT_MS: '2000',
    // Mock mode, for its knobs: expire the session's cached tokens, slow the AS down.
    BFF_MOCK: '1',
    BFF_MOCK_AS_CONTROL: `${as.issuer}${CONTROL_PATH}`,
  };
  const [first] = await Promise.all([
    startInstance(t, 'instance 1', { ...env, BFF_PORT: String(port1) }),
    startInstance(t, 'instance 2', { ...env, BFF_PORT: String(port2) }),
  ]);
  const alice = new UserAgent(origin);
  /** A request of alice's browser that the load balancer sent to instance 2. */
  const viaSecond = async (path: string, init: RequestInit = {}) => {
    const res = await fetchWithJar(alice.jar, `http://127.0.0.1:${port2}${path}`, {
      ...init,
      headers: { [CSRF_HEADER]: '1', ...init.headers },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const tokenQuery = `/.well-known/bff-token?resource=${encodeURIComponent(STOCKS)}&scope=stocks:read`;
  const expireTokens = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };

  // Signed in, and a token cached, through instance 1; then the cached token expired.
  t.is((await alice.signIn({ persona: 'alice' })).status, 303, first.output());
  const cached = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(cached.status, 200, JSON.stringify(cached.body));
  const expired = await alice.bff('/_mock/session/expire-tokens', expireTokens);
  t.is(expired.status, 200, JSON.stringify(expired.body));

  // The AS holds the next token request 3 s before it reads it (a slow AS); instance 1 dies meanwhile.
  const slow = await alice.bff('/_mock/as/fail', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count: 1, delayMs: 3000 }),
  });
  t.is(slow.status, 200, JSON.stringify(slow.body));
  const from = grants.length;
  const received = new Promise<void>((resolve) => {
    as.server.on('request', function refreshArrived(req: IncomingMessage) {
      if (req.method !== 'POST' || req.url !== new URL(token_endpoint).pathname) return;
      as.server.off('request', refreshArrived);
      resolve();
    });
  });
  // When its 3 s are up, the AS finds the request's body gone with its sender: no grant_type, no
  // refresh token read, nothing spent (oidc-provider answers invalid_request to no one).
  const dropped = new Promise<void>((resolve) => {
    as.provider.on('grant.error', function bodyGone(ctx) {
      if (grantType(ctx) !== undefined) return;
      as.provider.off('grant.error', bodyGone);
      resolve();
    });
  });
  const dying = alice.token({ resource: STOCKS, scope: 'stocks:read' }).then(
    (res) => `answered ${res.status}`,
    (err: Error) => `no answer (${err.message})`,
  );
  await received;
  await first.kill();
  const killedAt = Date.now();
  t.regex(await dying, /^no answer/, 'instance 1 died before it could answer');

  // The dead holder's lock on the session stays in Redis, for at most the lock ttl.
  const client = createClient({ url: redis.url });
  await client.connect();
  t.teardown(() => client.destroy());
  const locks = await client.keys('tmi-bff:lock:*');
  t.is(locks.length, 1, 'the session is locked');
  const asked = Date.now();
  const pttl = await client.pTTL(String(locks[0]));
  t.true(pttl > 0 && pttl <= LOCK_TTL_MS, `the lock lapses by itself, within the lock ttl (PTTL ${pttl} ms)`);
  // Redis answered PTTL after `asked`: the lock lapses no earlier than this.
  const lapsesAt = asked + pttl;

  await dropped;
  t.deepEqual(grants.slice(from), ['undefined invalid_request'], 'the dead instance’s refresh token was not read');

  // Instance 2: temporarily_unavailable while the dead holder's lock lasts, then the token. Retried
  // as an app would: each answer awaited, then a short pause (an answer may come at once).
  const answers: string[] = [];
  let got: { status: number; body: Record<string, unknown> } | undefined;
  while (Date.now() < lapsesAt + 10_000) {
    const res = await viaSecond(tokenQuery);
    answers.push(`${res.status} ${res.body.error ?? 'token'}`);
    if (res.status === 200) {
      got = res;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const tookMs = Date.now() - killedAt;
  t.truthy(got, `instance 2 answered ${answers.join(', ')}`);
  t.deepEqual(
    [...new Set(answers.slice(0, -1))],
    answers.length > 1 ? ['400 temporarily_unavailable'] : [],
    'only temporarily_unavailable before the token',
  );
  t.like(got?.body, { scope: 'stocks:read' });
  t.is(typeof got?.body.access_token, 'string');
  t.not(got?.body.access_token, cached.body.access_token, 'a new token, from a refresh');
  t.deepEqual(grants.slice(from + 1), ['refresh_token ok'], 'one refresh at the AS: instance 2’s');
  // D10: no refresh while the lock held; the next holder takes it as soon as it lapses.
  const lateBy = Number(refreshedAt.at(-1)) - lapsesAt;
  t.true(lateBy >= -5, `not refreshed before the lock lapsed (${lateBy} ms after)`);
  t.true(lateBy < 5000, `refreshed soon after the lock lapsed (${lateBy} ms after)`);

  // Not burned: the grant lives on, and its rotated refresh token works again.
  const again = await viaSecond('/_mock/session/expire-tokens', expireTokens);
  t.is(again.status, 200, JSON.stringify(again.body));
  const next = await viaSecond(tokenQuery);
  t.is(next.status, 200, JSON.stringify(next.body));
  t.not(next.body.access_token, got?.body.access_token);
  t.deepEqual(grants.slice(from + 1), ['refresh_token ok', 'refresh_token ok']);
  t.deepEqual(revoked, [], 'no grant revoked: no refresh token was presented twice');
  t.log(
    `lock PTTL ${pttl} ms at the kill; instance 2 got its token ${tookMs} ms after it, ` +
      `${lateBy} ms after the lock lapsed, after ${answers.length - 1} temporarily_unavailable`,
  );
});
