/**
 * Load soak: many signed-in sessions, each calling bff-sessioninfo and bff-token in a loop, with
 * access tokens so short-lived that refreshes go on all through the run; once on the lowdb store
 * with one backend instance, once on Redis with two instances sharing it (each request to the next
 * instance in turn). The mock AS and every backend instance run in processes of their own
 * (_soak-as.ts, _soak-backend.ts), so the load spreads over the machine's cores.
 *
 * Each session has its own grant: a real sign-in through the AS's forms (one grant cloned over many
 * sessions would be revoked by the AS's refresh-token reuse detection at the first rotation).
 *
 * Passes when no answer is a 5xx; no 4xx but 400 temporarily_unavailable (D6: the AS did not answer
 * within asTimeoutMs, the session and its refresh token are kept); the AS refused no token request
 * and revoked no grant (no refresh token was presented twice, D10); and afterwards every session
 * still answers bff-sessioninfo and its grant still refreshes.
 *
 * Settings (environment):
 *   RELIABILITY_SOAK_SESSIONS        sessions per run; default 1000
 *   RELIABILITY_SOAK_SECONDS         seconds of load per run, ramp included; default 30 (60 for a full run)
 *   RELIABILITY_SOAK_TTL             access token lifetime at the AS, in seconds; default 20
 *   RELIABILITY_SOAK_MARGIN          the backend's expiry margin (D8), in seconds; default 5, so each
 *                                    token is refreshed TTL − MARGIN = 15 s after it was issued
 *   RELIABILITY_SOAK_RAMP            seconds over which the sessions start; default SECONDS / 2
 *   RELIABILITY_SOAK_SIGNIN_LIMIT    sign-ins at a time during setup; default 24
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, recordResult, startRedis } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import { finalCheck, SoakAs, sharedDataKey, signInMany, soak, startBackend } from './_soak.js';
import type { AsCounts } from './_soak-as.js';

const setting = (name: string, fallback: number) => {
  const value = Number(process.env[name] || fallback);
  if (!(value > 0)) throw new TypeError(`${name} must be a positive number, got "${process.env[name]}"`);
  return value;
};
const SESSIONS = Math.round(setting('RELIABILITY_SOAK_SESSIONS', 1000));
const SECONDS = setting('RELIABILITY_SOAK_SECONDS', 30);
const TTL = Math.round(setting('RELIABILITY_SOAK_TTL', 20));
const MARGIN = setting('RELIABILITY_SOAK_MARGIN', 5);
const RAMP = setting('RELIABILITY_SOAK_RAMP', SECONDS / 2);
const SIGNIN_LIMIT = Math.round(setting('RELIABILITY_SOAK_SIGNIN_LIMIT', 24));
/** Sessions checked at a time after the soak. */
const CHECK_LIMIT = 16;

const refreshes = (counts: AsCounts) => counts.granted.refresh_token ?? 0;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Soaked {
  tried: string;
  /** The backend instances' URLs; sign-in goes through the first. */
  urls: string[];
  origin: string;
  as: SoakAs;
  logs: () => string[];
}

/** Signs the sessions in, runs the soak, checks every session, asserts and records the row. */
async function soakAndCheck(t: ExecutionContext, run: Soaked) {
  const started = performance.now();
  const setup = await signInMany(run.origin, SESSIONS, SIGNIN_LIMIT);
  t.log(`setup: ${SESSIONS} sign-ins in ${seconds(setup.ms)}`);

  const before = await run.as.counts();
  const halfway = delay((SECONDS * 1000) / 2).then(() => run.as.counts());
  const figures = await soak(setup.users, run.urls, SECONDS, RAMP);
  const after = await run.as.counts();
  const secondHalf = refreshes(after) - refreshes(await halfway);
  const during = refreshes(after) - refreshes(before);
  const failures = Object.fromEntries(figures.failures);
  t.log(
    `soak: ${figures.requests} requests in ${figures.seconds.toFixed(1)} s, p50 ${figures.p50.toFixed(0)} ms, p99 ${figures.p99.toFixed(0)} ms; ${during} refreshes at the AS (${secondHalf} in the second half); not 200: ${JSON.stringify(failures)}`,
  );

  const checkStarted = performance.now();
  const check = await finalCheck(setup.users, run.urls, CHECK_LIMIT);
  const end = await run.as.counts();
  t.log(
    `check: ${SESSIONS} sessions in ${seconds(performance.now() - checkStarted)}, ${check.retried} asked again after temporarily_unavailable; whole run ${seconds(performance.now() - started)}`,
  );
  const logs = run.logs();
  if (logs.length) t.log(`backend warn/error lines: ${logs.length}, first: ${logs.slice(0, 3).join(' | ')}`);

  const serverErrors = Object.keys(failures).filter((key) => Number(key.split(' ')[0]) >= 500);
  const temporarilyUnavailable = failures['400 temporarily_unavailable'] ?? 0;
  const refused4xx = Object.keys(failures).filter(
    (key) => !key.startsWith('0 ') && Number(key.split(' ')[0]) < 500 && key !== '400 temporarily_unavailable',
  );
  const unanswered = Object.keys(failures).filter((key) => key.startsWith('0 '));
  recordResult(t, {
    area: 'Load',
    tried: run.tried,
    cases: figures.requests,
    figures:
      `${serverErrors.reduce((n, key) => n + (failures[key] ?? 0), 0)} 5xx, ` +
      `${unanswered.reduce((n, key) => n + (failures[key] ?? 0), 0)} requests without an answer, ` +
      `${check.lost.length} lost sessions, ${end.revoked} revoked grants, ${check.unrefreshable.length} grants that no longer refresh; ` +
      `${figures.requests} requests (${figures.tokens} tokens) in ${figures.seconds.toFixed(1)} s, p50 ${figures.p50.toFixed(0)} ms, p99 ${figures.p99.toFixed(0)} ms; ` +
      `${during} refreshes at the AS (${secondHalf} in the second half); ` +
      `4xx: ${temporarilyUnavailable} temporarily_unavailable (D6), ${refused4xx.length ? refused4xx.join(', ') : 'no other'}; ` +
      `setup: ${SESSIONS} sign-ins in ${seconds(setup.ms)}`,
  });

  t.deepEqual(serverErrors, [], 'no 5xx');
  t.deepEqual(unanswered, [], 'every request answered');
  t.deepEqual(refused4xx, [], 'no 4xx but temporarily_unavailable (D6)');
  t.deepEqual(end.refused, {}, 'the AS refused no token request');
  t.is(end.revoked, 0, 'the AS revoked no grant (no refresh token presented twice)');
  t.deepEqual(check.lost, [], 'every session still answers bff-sessioninfo');
  t.deepEqual(check.unrefreshable, [], "every session's grant still refreshes");
  t.true(refreshes(end) - refreshes(after) >= SESSIONS, 'the check refreshed every grant at the AS');
  t.true(secondHalf > 0, 'refreshes went on in the second half of the soak');
  t.true(figures.tokens > 0);
}

test.serial(
  'load soak, lowdb store, one instance: every session keeps working, no 5xx, no grant revoked',
  async (t) => {
    t.timeout(600_000);
    const dataDir = await mkdtemp(join(tmpdir(), 'soak-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const { as, issuer } = await SoakAs.start(t, origin, TTL);
    const backend = await startBackend(t, { origin, port, issuer, dataDir, marginSeconds: MARGIN });
    await soakAndCheck(t, {
      tried: `${SESSIONS} sessions calling bff-token and bff-sessioninfo in a loop for ${SECONDS} s, ${TTL} s access tokens: lowdb store, one instance`,
      urls: [backend.url],
      origin,
      as,
      logs: () => backend.logs,
    });
  },
);

test.serial(
  'load soak, Redis store, two instances: every session keeps working, no 5xx, no grant revoked',
  async (t) => {
    t.timeout(600_000);
    const redis = await startRedis();
    t.teardown(() => redis.remove());
    const ports = [await freePort(), await freePort()];
    const origin = `http://127.0.0.1:${ports[0]}`;
    const { as, issuer } = await SoakAs.start(t, origin, TTL);
    const dataKey = sharedDataKey();
    const backends = await Promise.all(
      ports.map((port) =>
        startBackend(t, { origin, port, issuer, redisUrl: redis.url, dataKey, marginSeconds: MARGIN }),
      ),
    );
    await soakAndCheck(t, {
      tried: `${SESSIONS} sessions calling bff-token and bff-sessioninfo in a loop for ${SECONDS} s, ${TTL} s access tokens: Redis store, two instances, requests alternating`,
      urls: backends.map((b) => b.url),
      origin,
      as,
      logs: () => backends.flatMap((b) => b.logs),
    });
  },
);
