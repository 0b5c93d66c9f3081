/**
 * Crash safety: the backend, and separately the mock AS, are SIGKILLed in the middle of a burst of
 * writes (sign-ins and forced refreshes in flight) and restarted on the same data folder. What was
 * acknowledged before the kill (a 200 or a completed sign-in) still works after the restart, and
 * every data file left behind parses. The one loss allowed is the protocol's own (`afterRestart`):
 * a session whose refresh was in flight may find its grant revoked by the AS's reuse detection, and
 * is then told so cleanly.
 *
 * Sizes: RELIABILITY_CRASH_USERS users signed in before the burst (default 16), who refresh
 * throughout it; RELIABILITY_CRASH_SIGN_INS more sign-ins started during it (default 24); the kill
 * comes after RELIABILITY_CRASH_KILL_AFTER acknowledgements within the burst (default 24), half the
 * new sign-ins among them (for the backend).
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ADDRESSES, loadSeed, SEED_FILE } from '@tmi-bff/mock-as';
import { freePort } from '@tmi-bff/mock-as/testing';
import { recordResult } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import { createBackend } from '../../src/index.js';
import { demoConfig, UserAgent } from '../_setup.js';
import {
  AS_TIMEOUT_MS,
  BACKEND,
  checkDataFiles,
  inParallel,
  MOCK_AS,
  mockAsAndBackendEnv,
  refresh,
  signInUsers,
  startReady,
} from './_crash.js';

const USERS = Number(process.env.RELIABILITY_CRASH_USERS ?? 16);
const SIGN_INS = Number(process.env.RELIABILITY_CRASH_SIGN_INS ?? 24);
const KILL_AFTER = Number(process.env.RELIABILITY_CRASH_KILL_AFTER ?? 24);
const PERSONAS = ['alice', 'bob'];

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bff-crash-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** One user of the burst: what the user saw acknowledged, and whether a request was in flight at the kill. */
interface Tracked {
  user: UserAgent;
  signedIn: boolean;
  refreshes: number;
  inFlight: boolean;
}

/** A user signed in before the burst, with one refresh acknowledged. */
const signedIn = (user: UserAgent): Tracked => ({ user, signedIn: true, refreshes: 1, inFlight: false });

/**
 * After the restart: each acknowledged session answers bff-sessioninfo, and a forced refresh works.
 *
 * A session whose refresh was in flight at the kill may have lost its grant: the AS rotated the
 * refresh token (and stored that), but its answer never reached the backend's store, so the backend
 * presents the token it holds, which the AS has seen used: RFC 9700 §4.14.2 reuse detection
 * revokes the grant. That is the protocol's own window, not a lost write: such a session must
 * still be there, its bff-token answers the AS's refusal cleanly (TMI-BFF-01 §4.3.3, D6), and
 * the next one says to sign in again (D13); an idle session must refresh.
 */
async function afterRestart(t: ExecutionContext, sessions: Tracked[]) {
  let working = 0;
  let rotatedAway = 0;
  const failures: string[] = [];
  await inParallel(sessions, 4, async (one) => {
    const info = await one.user.sessionInfo();
    const token = await refresh(one.user);
    if (info.status === 200 && token.status === 200) working += 1;
    else if (one.inFlight && info.status === 200 && token.status === 400 && token.body.error === 'invalid_grant') {
      // D13: the dead refresh token is forgotten; the app is told to sign the user in again.
      const again = await refresh(one.user);
      t.like(again.body, { error: 'backend_not_ready', remediation: 'sign_in' });
      rotatedAway += 1;
    } else
      failures.push(
        `${one.inFlight ? 'in flight' : 'idle'}: sessioninfo ${info.status} ${JSON.stringify(info.body)}, bff-token ${token.status} ${JSON.stringify(token.body)}`,
      );
  });
  t.log(`${working} working, ${rotatedAway} lost to a rotation in flight, ${failures.length} failed`);
  return { working, rotatedAway, failures };
}

test('Crash safety: the backend SIGKILLed mid-burst of sign-ins and refreshes keeps every acknowledged session, every refresh token not in flight refreshes, and its data files parse', async (t) => {
  t.timeout(120_000);
  const dataDir = await tempDir(t);
  const { origin, env } = await mockAsAndBackendEnv(t, dataDir, { BFF_LOG_LEVEL: 'warn' });
  const first = await startReady(t, BACKEND, env);

  // Before the burst: users signed in, each with one refresh acknowledged.
  const tracked = (await signInUsers(t, origin, USERS, 4)).map(signedIn);

  // The burst: the users refresh in a loop, new users sign in, until the kill.
  let acknowledged = 0;
  let signInsAcknowledged = 0;
  let killed = false;
  const busy = new Set<Tracked>();
  const kill = () => {
    if (killed) return;
    killed = true;
    for (const one of [...tracked, ...newcomers]) one.inFlight = busy.has(one);
    void first.kill();
  };
  // The kill comes once refreshes and half the new sign-ins are acknowledged: both kinds are in the store.
  const acknowledge = () => {
    acknowledged += 1;
    if (acknowledged >= KILL_AFTER && signInsAcknowledged >= SIGN_INS / 2) kill();
  };
  const refreshing = tracked.map(async (one) => {
    while (!killed) {
      busy.add(one);
      const res = await refresh(one.user).catch(() => undefined);
      busy.delete(one);
      if (killed) return;
      t.is(res?.status, 200, JSON.stringify(res?.body));
      one.refreshes += 1;
      acknowledge();
    }
  });
  const newcomers: Tracked[] = Array.from({ length: SIGN_INS }, () => ({
    user: new UserAgent(origin),
    signedIn: false,
    refreshes: 0,
    inFlight: false,
  }));
  const signingIn = newcomers.map(async (one, i) => {
    busy.add(one);
    const res = await one.user.signIn({ persona: PERSONAS[i % PERSONAS.length] as string }).catch(() => undefined);
    busy.delete(one);
    if (killed) return;
    t.is(res?.status, 303);
    one.signedIn = true;
    signInsAcknowledged += 1;
    acknowledge();
  });
  await Promise.all([...refreshing, ...signingIn]);
  await first.exited;
  t.true(killed, 'killed in the middle of the burst');
  const signInsInFlight = newcomers.filter((one) => one.inFlight).length;
  const refreshesInFlight = tracked.filter((one) => one.inFlight).length;
  t.true(signInsInFlight + refreshesInFlight > 0, 'requests were in flight at the kill');

  const files = await checkDataFiles(dataDir);
  t.deepEqual(files.unparsable, []);
  t.true(files.files > 2, `${files.files} data files`);

  // Restarted on the same folder: every acknowledged session still works, and refreshes.
  const second = await first.restart();
  const sessions = [...tracked, ...newcomers].filter((one) => one.signedIn);
  const outcome = await afterRestart(t, sessions);
  t.deepEqual(outcome.failures, []);
  t.is(outcome.working + outcome.rotatedAway, sessions.length);
  // Sign-ins not acknowledged: signed in or not, each answers cleanly.
  for (const one of newcomers.filter((n) => !n.signedIn)) {
    const info = await one.user.sessionInfo();
    t.true(info.status === 200 || info.body.error === 'invalid_session', JSON.stringify(info.body));
  }
  await second.kill();
  t.deepEqual((await checkDataFiles(dataDir)).unparsable, []);
  const refreshesBefore = tracked.reduce((n, one) => n + one.refreshes, 0);
  recordResult(t, {
    area: 'Crash safety',
    tried: 'backend SIGKILLed mid-burst of sign-ins and forced refreshes (lowdb store), restarted on its data folder',
    cases: sessions.length,
    figures:
      `${sessions.length} sessions and ${refreshesBefore} refreshes acknowledged before the kill; ` +
      `${signInsInFlight} sign-ins and ${refreshesInFlight} refreshes in flight at it; ` +
      `${outcome.working} of ${sessions.length} sessions working after restart (sessioninfo and a forced refresh), ` +
      `${outcome.rotatedAway} whose refresh was in flight lost their grant to the AS's reuse detection; ` +
      `${files.files} data files, ${files.unparsable.length} unparsable, ${files.temporary} temporary files left`,
  });
});

test('Crash safety: the mock AS SIGKILLed mid-burst of refreshes and restarted on its data: every refresh token not in flight still refreshes, and its data file parses', async (t) => {
  t.timeout(120_000);
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const asPort = await freePort();
  const issuer = `http://127.0.0.1:${asPort}`;
  const dataDir = await tempDir(t);
  const first = await startReady(t, MOCK_AS, { MOCK_AS_ISSUER: issuer, MOCK_AS_DATA_DIR: dataDir, BFF_ORIGIN: origin });

  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, ISSUER: issuer, BFF_ORIGIN: origin });
  const demo = demoConfig(seed, origin, issuer);
  const backend = await createBackend({
    ...demo,
    tokens: { ...demo.tokens, asTimeoutMs: AS_TIMEOUT_MS },
    log: () => {},
  });
  server.on('request', backend.app.callback());
  t.teardown(async () => {
    server.close();
    server.closeAllConnections();
    await backend.close();
  });

  const users = (await signInUsers(t, origin, USERS, 4)).map(signedIn);

  let acknowledged = 0;
  let killed = false;
  const busy = new Set<Tracked>();
  const unavailable: number[] = [];
  await Promise.all(
    users.map(async (one) => {
      while (!killed) {
        busy.add(one);
        const res = await refresh(one.user);
        busy.delete(one);
        if (killed) {
          // D6: the AS gone mid-request is temporarily_unavailable, and the session is kept.
          if (res.status !== 200) {
            t.like(res.body, { error: 'temporarily_unavailable' });
            unavailable.push(res.status);
          }
          return;
        }
        t.is(res.status, 200, JSON.stringify(res.body));
        one.refreshes += 1;
        acknowledged += 1;
        if (acknowledged >= KILL_AFTER && !killed) {
          killed = true;
          for (const other of users) other.inFlight = busy.has(other);
          void first.kill();
        }
      }
    }),
  );
  await first.exited;
  const inFlight = users.filter((one) => one.inFlight).length;
  t.true(inFlight > 0, 'refreshes were in flight at the kill');
  const files = await checkDataFiles(dataDir);
  t.deepEqual(files.unparsable, []);

  const second = await first.restart();
  const outcome = await afterRestart(t, users);
  t.deepEqual(outcome.failures, []);
  t.is(outcome.working + outcome.rotatedAway, users.length);
  await second.kill();
  t.deepEqual((await checkDataFiles(dataDir)).unparsable, []);
  recordResult(t, {
    area: 'Crash safety',
    tried: 'mock AS SIGKILLed mid-burst of forced refreshes (lowdb data), restarted on its data folder',
    cases: users.length,
    figures:
      `${acknowledged + users.length} refreshes acknowledged before the kill, ${inFlight} in flight at it ` +
      `(${unavailable.length} answered temporarily_unavailable); ${outcome.working} of ${users.length} refresh tokens refresh after restart, ` +
      `${outcome.rotatedAway} whose refresh was in flight lost their grant to the AS's reuse detection; ` +
      `${files.files} data files, ${files.unparsable.length} unparsable`,
  });
});
