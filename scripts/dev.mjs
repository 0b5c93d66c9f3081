#!/usr/bin/env node
// `npm run dev`: starts every part of the demo with prefixed logs, and prints the URLs once each
// one answers. Ctrl-C (SIGINT) or SIGTERM stops them all, and so does the end of the npm that ran it.
//
// What makes it quick: the parts start together, each straight from Node (no npm, shell or second
// watcher process in between); each server runs one bundle of its TypeScript (dev-bundles.mjs), not
// its modules one by one through tsx; only the backend waits, for the mock AS's values, which come from a
// cache when neither the seed nor the mock AS changed; the sample SPA's build yields the CPU to the servers.
import { watch } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DATA_FOLDERS, dataFolder, lock, lockHolder, unlock } from './data-folders.mjs';
import { bundleFile, watchServerBundle } from './dev-bundles.mjs';
import { output, Part } from './dev-processes.mjs';
import { mockAsValues } from './mock-as-values.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const env = process.env;
// Paths the user typed are read from where they typed the command (npm's INIT_CWD), whichever
// folder a part runs in.
const typed = (value) => resolve(env.INIT_CWD ?? '.', value);
// Mock mode: the scenario knobs under /_mock (reference-backend/src/admin.ts) and the mock AS faults
// they drive. Development only (loopback http); BFF_MOCK=0 turns both off.
if (env.BFF_MOCK !== '0') Object.assign(env, { BFF_MOCK: '1', MOCK_AS_FAULTS: '1' });
if (env.BFF_SPA_DIR && env.BFF_SPA_DIR !== 'none') env.BFF_SPA_DIR = typed(env.BFF_SPA_DIR);
if (env.MOCK_AS_SEED) env.MOCK_AS_SEED = typed(env.MOCK_AS_SEED);
const SEED_FILE = env.MOCK_AS_SEED || join(ROOT, 'mock-as', 'seed.json');
// Every part reads this one seed (a bundled server does not find it beside its sources).
env.MOCK_AS_SEED = SEED_FILE;
const dataDirs = DATA_FOLDERS.map((folder) => {
  const dir = dataFolder(folder, env);
  if (dir) env[folder.variable] = dir;
  return dir;
}).filter(Boolean);

const ISSUER = env.MOCK_AS_ISSUER || 'http://localhost:4000';
const BFF = env.BFF_ORIGIN || 'http://localhost:3000';
const API = env.API_ORIGIN || 'http://localhost:4001';
// Where the backend listens, when BFF_PORT sets it apart from the public BFF_ORIGIN.
const BFF_LISTEN = env.BFF_PORT ? `http://${env.BFF_HOST || '127.0.0.1'}:${env.BFF_PORT}` : BFF;
// Your own app instead of the sample SPA: a dev server behind the backend, or a built folder.
const OWN_APP = env.BFF_FRONTEND
  ? `your dev server ${env.BFF_FRONTEND}, proxied`
  : env.BFF_SPA_DIR && env.BFF_SPA_DIR !== 'none'
    ? `your built app from ${env.BFF_SPA_DIR}`
    : undefined;
// The sample SPA is built and served unless another app, or none (BFF_SPA_DIR=none), takes its place.
const SAMPLE_SPA = !env.BFF_FRONTEND && !env.BFF_SPA_DIR;

// Each server runs its bundle (dev-bundles.mjs) under Node's own watcher, which restarts it when
// esbuild writes a new one (the seed is no import: it is watched below).
const server = (dir) => ({
  cwd: join(ROOT, dir),
  bundle: join(ROOT, dir),
  command: [
    process.execPath,
    '--watch',
    '--watch-preserve-output',
    '--enable-source-maps',
    bundleFile(join(ROOT, dir)),
  ],
});

/** The parts of the stack: how to start each, and the URL that answers once it is ready. */
const specs = [
  {
    name: 'as',
    title: 'Mock authorization server',
    ...server('mock-as'),
    url: ISSUER,
    ready: `${ISSUER}/.well-known/openid-configuration`,
    prefixColor: 'magenta',
  },
  SAMPLE_SPA && {
    name: 'spa',
    title: 'Sample SPA build (esbuild, watching)',
    cwd: join(ROOT, 'sample-spa'),
    command: [process.execPath, '--import=tsx', 'scripts/build.ts', '--watch'],
    // esbuild's first build takes CPU the servers need to start; the backend serves the last build meanwhile.
    nice: 10,
    // Served by the backend: ready once the backend serves the first build.
    ready: `${BFF_LISTEN}/assets/app.js`,
    prefixColor: 'green',
  },
  {
    name: 'bff',
    title: `Reference backend (BFF)${OWN_APP ? ' + your app' : SAMPLE_SPA ? ' + sample SPA' : ''}`,
    ...server('reference-backend'),
    url: BFF,
    // Behind another server (e.g. Vite's proxy at BFF_ORIGIN), the backend listens elsewhere.
    listen: BFF_LISTEN,
    // With your app in front, `/` is your app's (a dev server may start later): a route of the backend's own.
    ...(SAMPLE_SPA ? { ready: `${BFF_LISTEN}/` } : { ready: `${BFF_LISTEN}/auth/signed-out`, readyStatus: 303 }),
    prefixColor: 'cyan',
  },
  {
    name: 'api',
    title: 'Demo APIs (Stocks, A → B → C)',
    ...server('packages/demo-apis'),
    url: API,
    // Any answer means it listens: without a token every API says 401.
    ready: `${API}/stocks/quotes`,
    readyStatus: 401,
    prefixColor: 'yellow',
  },
].filter(Boolean);

// A port that already answers belongs to another process (often an earlier `npm run dev`):
// starting would fail, and the banner below would be a lie.
const busy = (
  await Promise.all(
    specs
      .filter((s) => s.url)
      .map((s) =>
        fetch(s.listen ?? s.url, { signal: AbortSignal.timeout(1000) }).then(
          () => `${s.title}: ${s.listen ?? s.url} already answers`,
          () => undefined, // free, as it should be
        ),
      ),
  )
).filter(Boolean);
// Two runs on one data folder would overwrite each other's sessions and keys.
for (const dir of dataDirs) {
  const pid = lockHolder(dir);
  if (pid !== undefined) busy.push(`the data folder ${dir} is in use by another npm run dev (pid ${pid})`);
}
if (busy.length) {
  console.error(
    `tmi-bff: cannot start, these are taken:\n  ${busy.join('\n  ')}\n` +
      'Stop the other process (an earlier npm run dev?), or move a part with MOCK_AS_ISSUER, BFF_ORIGIN or API_ORIGIN ' +
      '(and its data with MOCK_AS_DATA_DIR or BFF_DATA_DIR).',
  );
  process.exit(1);
}
// `npm run reset` refuses while this lock names a live runner.
for (const dir of dataDirs) lock(dir);

// --- Lifecycle: every way out stops every part, and frees the data folders.

const parts = specs.map((spec) => new Part(spec, crashed));
const part = (name) => parts.find((p) => p.name === name);
let stopping;
let seedWatcher;
/** The esbuild watchers of the servers' bundles. */
const bundles = [];

function shutdown(code) {
  stopping ??= (async () => {
    clearInterval(orphanCheck);
    seedWatcher?.close();
    await Promise.all([...parts.map((p) => p.stop()), ...bundles.map((b) => b.dispose())]);
    for (const dir of dataDirs) unlock(dir);
    process.exit(code);
  })();
  return stopping;
}

function crashed(p, code) {
  console.error(`tmi-bff: ${p.title} stopped (exit code ${code}), so the others stop too. Read its lines above.`);
  void shutdown(1);
}

function onSignal() {
  // A second Ctrl-C does not wait for the servers to close.
  if (stopping) for (const p of parts) p.kill('SIGKILL');
  void shutdown(0);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);
// npm forwards SIGTERM to the shell that runs this script, and the shell may die without passing it
// on. Seeing our parent go is the sign to stop.
const parent = process.ppid;
const orphanCheck = setInterval(() => {
  if (process.ppid !== parent) void shutdown(0);
}, 250);
// Whatever ends this process (even an error of its own) takes the parts with it.
process.on('exit', () => {
  for (const p of parts) p.kill();
  for (const dir of dataDirs) unlock(dir);
});

// --- Start: every part at once, each server once its bundle is built; the backend also waits
// for the mock AS's values.

// The backend knows nothing of the mock AS: its settings (issuer, the seed's client, scopes and
// resources, what the sample SPA shows, and in mock mode the AS's control routes) are passed in here,
// as a user passes another AS's. A variable already set wins.
const backendEnv = async () => ({
  ...(await mockAsValues(env, { seedFile: SEED_FILE, mock: env.BFF_MOCK === '1' })),
  ...env,
});

/** Builds the part's bundle (if it runs one) and starts it; a part that cannot start stops the run. */
async function startPart(p, partEnv) {
  try {
    if (p.bundle) {
      const bundle = await watchServerBundle(p.bundle, (line) => console.error(`${p.prefix} ${line}`));
      bundles.push(bundle);
      if (stopping) return;
    }
    p.start(await partEnv());
  } catch (err) {
    console.error(`tmi-bff: ${p.title} cannot start: ${err.message}`);
    await shutdown(1);
  }
}
await Promise.all(
  parts.map((p) =>
    startPart(p, async () => {
      if (p.name !== 'bff') return env;
      try {
        return await backendEnv();
      } catch (err) {
        throw new Error(`the mock AS's seed or settings: ${err.message}`);
      }
    }),
  ),
);

// The seed is read by the mock AS, the demo APIs and (through the values above) the backend.
let seedTimer;
seedWatcher = watch(dirname(SEED_FILE), (_event, name) => {
  if (name !== basename(SEED_FILE) || stopping) return;
  clearTimeout(seedTimer);
  seedTimer = setTimeout(async () => {
    let values;
    try {
      values = await backendEnv();
    } catch (err) {
      console.error(`tmi-bff: the changed seed does not load, the parts keep the previous one: ${err.message}`);
      return;
    }
    console.log(`tmi-bff: ${basename(SEED_FILE)} changed: restarting the mock AS, the backend and the demo APIs`);
    await Promise.all([part('as').restart(env), part('bff').restart(values), part('api').restart(env)]);
  }, 200);
});

// --- Ready: each part answers its URL.

/**
 * Resolves true once the part's URL answers (with `readyStatus`, or any 2xx), false if it failed
 * first. It asks again whenever the part prints a line, else every 250 ms.
 */
async function waitFor(p, deadline) {
  let failed = false;
  let woken = false;
  let wake;
  const onLine = (from, line) => {
    // The watcher keeps running when its server fails at start; it says so in this line.
    if (from === p && line.startsWith('Failed running')) failed = true;
    // A server prints a line when it listens (the sample SPA is served by the backend).
    if (from === p || (p.name === 'spa' && from.name === 'bff')) {
      woken = true;
      wake?.();
    }
  };
  output.on('line', onLine);
  try {
    while (Date.now() < deadline && !failed && !stopping) {
      try {
        const res = await fetch(p.ready, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
        if (p.readyStatus ? res.status === p.readyStatus : res.ok) return true;
      } catch {
        // not listening yet
      }
      if (!woken) {
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(resolve, 250);
        });
      }
      woken = false;
      wake = undefined;
    }
    return false;
  } finally {
    output.off('line', onLine);
  }
}

const ready = await Promise.all(parts.map((p) => waitFor(p, Date.now() + 60_000)));
// Since this process started (performance's time origin), npm's own start-up aside.
const seconds = (performance.now() / 1000).toFixed(1);
if (stopping) {
  // A part exited during start-up; its own log lines above say why.
} else if (ready.every(Boolean)) {
  const width = Math.max(...parts.map((p) => p.title.length));
  console.log(
    [
      '',
      `tmi-bff is ready in ${seconds} s, on Node ${process.version}:`,
      ...parts.filter((p) => p.url).map((p) => `  ${p.title.padEnd(width)}  ${p.url}`),
      '  Personas: alice/alice, bob/bob, carol/carol (see mock-as/seed.json)',
      SAMPLE_SPA
        ? `  Open ${BFF}/ : the sample SPA walks through the flow; its flow inspector shows every request.`
        : `  Open ${BFF}/ : ${OWN_APP ?? (env.BFF_PORT ? `your app, with the backend behind it at ${BFF_LISTEN}` : "the backend's plain home page")} (docs/walkthrough/07-own-frontend.md).`,
      ...(env.BFF_MOCK === '1' ? ['  Mock mode: scenario knobs under /_mock (a panel in the sample SPA)'] : []),
      '  Stop with Ctrl-C. Then, to forget every session, grant and key: npm run reset',
      '',
    ].join('\n'),
  );
} else {
  const late = parts.filter((_, i) => !ready[i]).map((p) => `${p.title} (${p.ready})`);
  console.error(
    `\ntmi-bff: not ready after ${seconds} s: ${late.join(', ')}. Read the log lines above; ` +
      'a server that failed restarts when you save a fix. Ctrl-C stops everything.',
  );
}
