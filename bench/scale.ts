/**
 * Does the backend stay fast as sessions pile up? For each store (lowdb in a temporary folder, Redis
 * on loopback) and each size (stored sessions), this measures against the reference backend in its
 * own process (bench/scale/backend.ts):
 *
 * - bff-token cache hits under wrk, with one real signed-in session's cookie;
 * - real sign-ins through the mock AS's forms: the backend's /auth/callback, and the whole sequence;
 * - the backend's event-loop delay during each of the two;
 * - the backend's open time (createBackend on the stored sessions).
 *
 * The sessions are one real sign-in's records cloned (bench/scale/seed.ts), written before the
 * backend starts, sizes in turn (each adds to the last). Targets and rows: bench/scale/report.ts.
 * Run it on a quiet machine: on a loaded one, p99s move a lot from run to run, and the event-loop
 * delay also counts the time the backend's process waits for a CPU.
 *
 *   node --import tsx --conditions=development bench/scale.ts \
 *     [--json <file>] [--sessions 100,10000,100000] [--stores lowdb,redis] [--sign-ins 30]
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backendEnv, DEFAULT_ADDRESSES, loadSeed, SEED_FILE, startMockAs } from '@tmi-bff/mock-as';
import { configFromEnv, createBackend } from '@tmi-bff/reference-backend';
import { type KeyValueStore, LowdbStore, parseSecret, RedisStore } from '@tmi-bff/store';
import { startRedis } from '@tmi-bff/store/testing';
import { freePort, onStop, startServer, stopAll } from './lib/processes.js';
import type { Row } from './lib/result.js';
import { wrk } from './lib/wrk.js';
import { type EventLoopDelay, judge, type Measured, rowsOf, table } from './scale/report.js';
import { readTemplate, sealClones, type Template, writeSealed } from './scale/seed.js';
import { sessionCookieId, signOut, timedSignIn } from './scale/sign-ins.js';

const STORES = ['lowdb', 'redis'] as const;
type Store = (typeof STORES)[number];

/**
 * Records written at a time. lowdb: all of them, so each shard file is written once (a write
 * rewrites the shard it touches). Redis: pipelined, few enough that each answers within the store's
 * commandTimeoutMs on a loaded machine.
 */
const CONCURRENCY: Record<Store, number> = { lowdb: Number.POSITIVE_INFINITY, redis: 1_000 };
/** No sign-in starts after this long in one step, so a slow store still ends the run. */
const SIGN_IN_BUDGET_MS = 20_000;
/** wrk's duration; shorter at the larger sizes, where seeding and opening take most of the time. */
const wrkSeconds = (sessions: number) => (sessions >= 10_000 ? 3 : 5);

const { values: args } = parseArgs({
  options: {
    json: { type: 'string' },
    sessions: { type: 'string', default: '100,10000,100000' },
    stores: { type: 'string', default: STORES.join(',') },
    'sign-ins': { type: 'string', default: '30' },
  },
});
const sizes = args.sessions
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
if (!sizes.every((n) => Number.isInteger(n) && n > 0)) {
  throw new TypeError(`--sessions takes positive whole numbers, e.g. 100,10000,100000; got "${args.sessions}"`);
}
const stores = args.stores.split(',') as Store[];
if (!stores.every((s) => STORES.includes(s))) {
  throw new TypeError(`--stores takes ${STORES.join(' and/or ')}, e.g. lowdb,redis; got "${args.stores}"`);
}
const signInCount = Number(args['sign-ins']);
if (!(Number.isInteger(signInCount) && signInCount > 0)) {
  throw new TypeError(`--sign-ins takes a positive whole number; got "${args['sign-ins']}"`);
}

const progress = (line: string) => console.error(`scale: ${line}`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const root = fileURLToPath(new URL('../reference-backend', import.meta.url));

/** The backend in this process (no listen): for the hot sessions' sign-in. */
async function openHere(env: Record<string, string>) {
  return createBackend({ ...configFromEnv(env, root).config, log: () => {} });
}

/**
 * The store under the backend's SealedStore, opened as createBackend opens it
 * (reference-backend/src/app.ts): where the sealed clones are written.
 */
async function openInner(store: Store, env: Record<string, string>): Promise<KeyValueStore> {
  const options = { onExpired: () => {}, sweepIntervalMs: 0 };
  if (store === 'redis') return RedisStore.connect({ url: env.BFF_STORE as string, ...options });
  return LowdbStore.open({ file: join(env.BFF_DATA_DIR as string, 'bff.json'), ...options });
}

/** `count` timed sign-ins (each signed out afterwards, untimed), within SIGN_IN_BUDGET_MS. */
async function signIns(origin: string, count: number): Promise<Measured['signIns']> {
  const callbackMs: number[] = [];
  const totalMs: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    if (performance.now() - started > SIGN_IN_BUDGET_MS) {
      return { asked: count, callbackMs, totalMs, note: `stopped after ${seconds(SIGN_IN_BUDGET_MS)}` };
    }
    const one = await timedSignIn(origin);
    callbackMs.push(one.callbackMs);
    totalMs.push(one.totalMs);
    await signOut(origin, one.jar);
  }
  return { asked: count, callbackMs, totalMs };
}

async function main(): Promise<Row[]> {
  const work = await mkdtemp(join(tmpdir(), 'tmi-bff-scale-'));
  // Once every process is gone (the end, or SIGINT/SIGTERM: stopAll, then exit), not while a
  // backend still writes its store or its log there.
  process.once('exit', () => rmSync(work, { recursive: true, force: true }));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: origin });
  const as = await startMockAs({ seed, log: () => {} });
  onStop(() => as.close());
  const redis = stores.includes('redis') ? await startRedis() : undefined;
  if (redis) onStop(() => redis.remove());
  const base: Record<string, string> = {
    ...backendEnv(seed, as.issuer),
    BFF_ORIGIN: origin,
    BFF_SPA_DIR: 'none',
    BFF_DATA_KEY: randomBytes(32).toString('base64url'),
  };
  const resource = base.BFF_RESOURCES?.split(' ')[0] ?? '';
  const tokenUrl = `${origin}/.well-known/bff-token?resource=${encodeURIComponent(resource)}&scope=stocks%3Aread`;

  const secret = parseSecret(base.BFF_DATA_KEY as string, 'BFF_DATA_KEY');
  const envOf = (store: Store) => ({
    ...base,
    BFF_DATA_DIR: join(work, store),
    ...(redis && store === 'redis' ? { BFF_STORE: redis.url } : {}),
  });

  // One real session per store, signed in against the backend in this process: the one wrk uses.
  // The first is also the template of the clones.
  const hot = new Map<Store, Record<string, string>>();
  let template: Template | undefined;
  for (const store of stores) {
    const here = await openHere(envOf(store));
    const server = createServer(here.app.callback()).listen(port, '127.0.0.1');
    await once(server, 'listening');
    const { jar } = await timedSignIn(origin);
    server.close();
    server.closeAllConnections();
    template ??= await readTemplate(here.store, sessionCookieId(origin, jar));
    await here.close();
    hot.set(store, { cookie: jar.header(origin), 'TMI-BFF-CSRF': '1' });
  }

  const measured: Measured[] = [];
  // Every measured sign-in is signed out again: the sessions stored stay the hot one and the clones.
  let stored = 1;
  for (const sessions of sizes) {
    const count = Math.max(0, sessions - stored);
    const sealStarted = performance.now();
    const records = await sealClones(secret, template as Template, count);
    const sealMs = performance.now() - sealStarted;
    stored += count;
    const writeMs = new Map<Store, number>();
    for (const store of stores) {
      const started = performance.now();
      const inner = await openInner(store, envOf(store));
      await writeSealed(inner, records, CONCURRENCY[store]);
      await inner.close();
      writeMs.set(store, performance.now() - started);
    }

    for (const store of stores) {
      const headers = hot.get(store) as Record<string, string>;
      const seeded = { count, sealMs, writeMs: writeMs.get(store) ?? 0 };
      const backend = await startServer(`backend (${store}, ${sessions} sessions)`, 'scale/backend.ts', {
        env: envOf(store),
        logFile: join(work, `${store}-${sessions}.log`),
        timeoutMs: 120_000,
      });
      const eventLoop = () => backend.ask<EventLoopDelay>({ eventLoop: true });
      try {
        const { openMs, entries } = await backend.ask<{ openMs: number; entries?: number }>({ openMs: true });
        // Each session is about five records: fewer means the clones went where the backend does not look.
        if (entries !== undefined && entries < sessions * 4) {
          throw new Error(
            `the backend opened ${entries} entries for ${sessions} sessions: does openInner still open the store as reference-backend/src/app.ts does?`,
          );
        }
        const primed = await fetch(tokenUrl, { headers });
        if (primed.status !== 200) throw new Error(`bff-token answered ${primed.status}: ${await primed.text()}`);
        await wrk(tokenUrl, { headers, seconds: 1 });
        await eventLoop();
        const cacheHit = await wrk(tokenUrl, { headers, seconds: wrkSeconds(sessions) });
        const wrkEventLoop = await eventLoop();
        const signedIn = await signIns(origin, signInCount);
        const signInEventLoop = await eventLoop();
        measured.push({
          store,
          sessions,
          openMs,
          seeded,
          wrkSeconds: wrkSeconds(sessions),
          cacheHit,
          wrkEventLoop,
          signIns: signedIn,
          signInEventLoop,
        });
        progress(
          `${store} at ${sessions} sessions: ${count} added (sealed ${seconds(sealMs)}, written ${seconds(seeded.writeMs)}), ` +
            `open ${Math.round(openMs)} ms, cache hit p99 ${cacheHit.p99Us / 1000} ms, ${signedIn.callbackMs.length} sign-ins`,
        );
      } finally {
        await backend.stop();
      }
    }
  }
  // Store by store, each in order of size.
  measured.sort(
    (a, b) => stores.indexOf(a.store as Store) - stores.indexOf(b.store as Store) || a.sessions - b.sessions,
  );
  const rows = measured.flatMap(rowsOf);
  judge(rows);
  return rows;
}

// SIGINT and SIGTERM stop every process (bench/lib/processes.ts); what fails because of it is no error.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
  });
}

const started = performance.now();
try {
  const rows = await main();
  console.log(table(rows));
  if (args.json) await writeFile(args.json, `${JSON.stringify(rows, null, 2)}\n`);
  progress(`done in ${seconds(performance.now() - started)}${args.json ? `; rows in ${args.json}` : ''}`);
} catch (err) {
  if (!interrupted) throw err;
  process.exitCode = 130;
} finally {
  await stopAll();
}
