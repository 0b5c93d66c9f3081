#!/usr/bin/env node
// `npm run dev`: starts every part of the demo with prefixed logs, and prints the URLs once each
// one answers. Ctrl-C stops them all.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import concurrently from 'concurrently';

const env = process.env;
// Mock mode: the scenario knobs under /_mock (reference-backend/src/admin.ts) and the mock AS faults
// they drive. Development only (loopback http); BFF_MOCK=0 turns both off.
if (env.BFF_MOCK !== '0') Object.assign(env, { BFF_MOCK: '1', MOCK_AS_FAULTS: '1' });
// The backend runs in its own folder: a built app's folder is named from where the command was typed.
if (env.BFF_SPA_DIR && env.BFF_SPA_DIR !== 'none') env.BFF_SPA_DIR = resolve(env.INIT_CWD ?? '.', env.BFF_SPA_DIR);
const ISSUER = env.MOCK_AS_ISSUER || 'http://localhost:4000';
// The backend knows nothing of the mock AS: its settings (issuer, the seed's client, scopes and
// resources, what the sample SPA shows, and in mock mode the AS's control routes) are passed in here,
// as a user passes another AS's. A variable already set wins.
let mockAsValues;
try {
  mockAsValues = JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--import=tsx',
        '--conditions=development',
        'mock-as/src/backend-env.ts',
        ...(env.BFF_MOCK === '1' ? ['--mock'] : []),
      ],
      { cwd: resolve(import.meta.dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  );
} catch {
  // mock-as printed why (a seed or address setting).
  process.exit(1);
}
for (const [name, value] of Object.entries(mockAsValues)) env[name] ??= value;
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

/** The parts of the stack: how to start each, and the URL that answers once it is ready. */
const parts = [
  {
    name: 'as',
    title: 'Mock authorization server',
    command: 'npm run dev --silent -w @tmi-bff/mock-as',
    url: ISSUER,
    ready: `${ISSUER}/.well-known/openid-configuration`,
    prefixColor: 'magenta',
  },
  SAMPLE_SPA && {
    name: 'spa',
    title: 'Sample SPA build (esbuild, watching)',
    command: 'npm run dev --silent -w @tmi-bff/sample-spa',
    // Served by the backend: ready once the backend serves the first build.
    ready: `${BFF_LISTEN}/assets/app.js`,
    prefixColor: 'green',
  },
  {
    name: 'bff',
    title: `Reference backend (BFF)${OWN_APP ? ' + your app' : SAMPLE_SPA ? ' + sample SPA' : ''}`,
    command: 'npm run dev --silent -w @tmi-bff/reference-backend',
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
    command: 'npm run dev --silent -w @tmi-bff/demo-apis',
    url: API,
    // Any answer means it listens: without a token every API says 401.
    ready: `${API}/stocks/quotes`,
    readyStatus: 401,
    prefixColor: 'yellow',
  },
].filter(Boolean);

// A port that already answers belongs to another process (often an earlier `npm run dev`):
// starting would fail, and the banner below would be a lie.
const busy = [];
for (const p of parts.filter((part) => part.url)) {
  try {
    await fetch(p.listen ?? p.url, { signal: AbortSignal.timeout(1000) });
    busy.push(`${p.title}: ${p.listen ?? p.url} already answers`);
  } catch {
    // free, as it should be
  }
}
if (busy.length) {
  console.error(
    `tmi-bff: cannot start, these addresses are taken:\n  ${busy.join('\n  ')}\n` +
      'Stop the other process (an earlier npm run dev?), or move a part with MOCK_AS_ISSUER, BFF_ORIGIN or API_ORIGIN.',
  );
  process.exit(1);
}

const { result, commands } = concurrently(
  parts.map(({ name, command, prefixColor }) => ({ name, command, prefixColor })),
  { prefix: 'name', killOthersOn: ['failure', 'success'], restartTries: 0 },
);
// Resolves with the exit code once every part has stopped (one failing stops the others).
const exitCode = result.then(
  () => 0,
  () => 1,
);
let stopped = false;
exitCode.then(() => {
  stopped = true;
});

async function waitFor(url, status, deadline) {
  while (Date.now() < deadline && !stopped) {
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
      if (status ? res.status === status : res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

const started = Date.now();
const ready = await Promise.all(parts.map((p) => waitFor(p.ready, p.readyStatus, started + 60_000)));
if (stopped) {
  // A part exited during start-up; its own log lines above say why.
} else if (ready.every(Boolean)) {
  const width = Math.max(...parts.map((p) => p.title.length));
  console.log(
    [
      '',
      `tmi-bff is up (${((Date.now() - started) / 1000).toFixed(1)} s):`,
      ...parts.filter((p) => p.url).map((p) => `  ${p.title.padEnd(width)}  ${p.url}`),
      '  Personas: alice/alice, bob/bob, carol/carol (see mock-as/seed.json)',
      SAMPLE_SPA
        ? `  Open ${BFF}/ : the sample SPA walks through the flow; its flow inspector shows every request.`
        : `  Open ${BFF}/ : ${OWN_APP ?? (env.BFF_PORT ? `your app, with the backend behind it at ${BFF_LISTEN}` : "the backend's plain home page")} (docs/walkthrough/07-own-frontend.md).`,
      ...(env.BFF_MOCK === '1' ? ['  Mock mode: scenario knobs under /_mock (a panel in the sample SPA)'] : []),
      '  Stop with Ctrl-C. Forget every session, grant and key with: npm run reset',
      '',
    ].join('\n'),
  );
} else {
  const late = parts.filter((_, i) => !ready[i]).map((p) => `${p.title} (${p.ready})`);
  console.error(`\ntmi-bff: not ready after 60 s: ${late.join(', ')}. Read the log lines above.`);
}

const stop = () => {
  for (const c of commands) c.kill('SIGTERM');
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
process.exit(await exitCode);
