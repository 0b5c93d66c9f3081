/**
 * `npm run bench`: the BFF endpoints against a bare Koa route measured in the same run, each server
 * in its own process (bench/lib/stack.ts) and wrk as the load (bench/lib/wrk.ts). Writes
 * bench/results/<time>.json and .md; `--write-docs` also rewrites docs/benchmarks.md from them.
 *
 *   npm run bench [-- --only <row>[,<row>…]] [--skip-scale] [--write-docs]
 *   BENCH_SECONDS=5   measured seconds per throughput row (after a 1 s warm-up), in 5 slices, each
 *                     paired with a slice of the baseline as long
 *   BENCH_BUDGET_SECONDS=240   when the scale run is stopped, counted from the start
 *
 * Rows: baseline, sessioninfo, token-lowdb, token-redis, express, refresh, exchange, parallel, and
 * scale (bench/scale.ts, run as a child process once the servers here are stopped, with what is
 * left of the 5-minute budget: BENCH_SCALE_DEADLINE, in ms since the epoch, is when it is stopped).
 * The baseline runs whenever a throughput row does: each of their slices next to one of its own.
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LowdbStore } from '@tmi-bff/store';
import { BareAs } from './lib/bare-as.js';
import { renderMarkdown } from './lib/markdown.js';
import { isStopping, runGroup, type Started, stopAll } from './lib/processes.js';
import { busyTime, topSelfTime } from './lib/profile.js';
import type { Row } from './lib/result.js';
import {
  describeMachine,
  outputPaths,
  type Profile,
  percentile,
  type Results,
  type TargetCheck,
  targetsOf,
} from './lib/results.js';
import { alternating, type Sequential, sequential } from './lib/sequential.js';
import { signInAt } from './lib/sign-in.js';
import { startStack } from './lib/stack.js';
import { WRK_MISSING, type WrkResult, wrk, wrkVersion } from './lib/wrk.js';

const started = performance.now();
const ROOT = new URL('../', import.meta.url);
const ROWS = ['baseline', 'sessioninfo', 'token-lowdb', 'token-redis', 'express', 'refresh', 'exchange', 'parallel'];
const SECONDS = Number(process.env.BENCH_SECONDS || 5);
/** A throughput row is ROUNDS slices of SLICE_SECONDS, each paired with a baseline slice. */
const ROUNDS = 5;
const SLICE_SECONDS = Math.max(1, Math.round(SECONDS / ROUNDS));
const CONNECTIONS = 10;
const SEQUENTIAL = 200;
const PARALLEL = 100;
const PROFILE_SECONDS = 3;
/** The whole run stays under 5 minutes: the scale rows get what is left of this. */
const RUN_BUDGET_S = Number(process.env.BENCH_BUDGET_SECONDS || 240);
const TOKEN_SOURCE = 'tmi-bff-token-source';

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    'skip-scale': { type: 'boolean', default: false },
    'write-docs': { type: 'boolean', default: false },
  },
});
const only = flags.only?.flatMap((o) => o.split(','));
for (const row of only ?? []) {
  if (![...ROWS, 'scale'].includes(row)) {
    throw new TypeError(`--only ${row}: no such row; the rows are ${[...ROWS, 'scale'].join(', ')}`);
  }
}
const wants = (row: string) => (row === 'scale' ? !flags['skip-scale'] : true) && (!only || only.includes(row));

const wrkLine = wrkVersion();
if (!wrkLine) {
  console.error(WRK_MISSING);
  process.exit(1);
}

const date = new Date().toISOString();
const rows: Row[] = [];
const targets: TargetCheck[] = [];
const profiles: Profile[] = [];
const notes: string[] = [];
const tmp = await mkdtemp(join(tmpdir(), 'tmi-bff-bench-'));
process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
const ms = (us: number) => us / 1000;
const median = (values: number[]) => percentile(values, 50);

/** Slices of one row as one result: req/s over them all; p50 and p99, the median of the slices'. */
function combined(slices: WrkResult[]): WrkResult {
  const sum = (pick: (r: WrkResult) => number) => slices.reduce((total, r) => total + pick(r), 0);
  return {
    rps: sum((r) => r.requests) / (slices.length * SLICE_SECONDS),
    requests: sum((r) => r.requests),
    p50Us: median(slices.map((r) => r.p50Us)),
    p99Us: median(slices.map((r) => r.p99Us)),
    non2xx: sum((r) => r.non2xx),
    socketErrors: sum((r) => r.socketErrors),
  };
}

function print(row: Row): Row {
  const figures = [
    row.rps === undefined ? '' : `${Math.round(row.rps)} req/s`,
    `p50 ${row.p50Ms.toFixed(3)} ms`,
    `p99 ${row.p99Ms.toFixed(3)} ms`,
    row.ratio === undefined ? '' : `ratio ${row.ratio.toFixed(2)}`,
  ].filter(Boolean);
  const store = row.store ? ` [${row.store}]` : '';
  console.log(`${row.name}${store}: ${figures.join(', ')}${row.note ? ` (${row.note})` : ''}`);
  rows.push(row);
  return row;
}

function check(target: string, measured: string, met: boolean): boolean {
  targets.push({ target, measured, met });
  console.log(`  target ${target}: ${measured} → ${met ? 'met' : 'MISSED'}`);
  return met;
}

const throughputRows = ['sessioninfo', 'token-lowdb', 'token-redis', 'express'].filter(wants);
try {
  const stack = await startStack(
    {
      baseline: wants('baseline') || throughputRows.length > 0,
      lowdb: ['sessioninfo', 'token-lowdb', 'express', 'refresh', 'parallel'].some(wants),
      redis: wants('token-redis') || wants('refresh'),
      exchange: wants('exchange'),
      express: wants('express'),
    },
    tmp,
  );
  const { as, bare, lowdb, redis, exchange, express, tokenPath, headersOf } = stack;

  /** V8's CPU profile of `backend` while `load` runs: its top self-time functions, for a missed target. */
  async function profileDuring(backend: Started, row: string, load: () => Promise<unknown>) {
    const file = join(tmp, `profile-${profiles.length}.cpuprofile`);
    await backend.ask({ profile: 'start' });
    await load();
    await backend.ask({ profile: 'stop', file });
    const profile = JSON.parse(await readFile(file, 'utf8'));
    profiles.push({ row, ...busyTime(profile), top: topSelfTime(profile, 8, fileURLToPath(ROOT)) });
  }

  // Throughput at 10 connections, paired with the baseline: after a warm-up, ROUNDS rounds of one
  // baseline slice and one slice of the row, back to back. The machine's speed drifts by tens of per
  // cent over seconds (a shared host); a ratio taken within a round sees both sides at one speed, and
  // the median of the rounds' ratios is the row's ratio. The backend's event-loop delay meanwhile.
  const baseSlices: WrkResult[] = [];
  async function throughput(
    name: string,
    url: string,
    headers: Record<string, string>,
    extra: Partial<Row> = {},
    server?: Started,
  ): Promise<Row & { p99Ratio: number }> {
    if (!bare) throw new Error('throughput rows are paired with the baseline: it must run');
    await wrk(url, { seconds: 1, connections: CONNECTIONS, headers });
    await server?.ask({ eventLoop: true });
    const slices: WrkResult[] = [];
    const ratios: number[] = [];
    const p99Ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const base = await wrk(bare.url, { seconds: SLICE_SECONDS, connections: CONNECTIONS });
      const slice = await wrk(url, { seconds: SLICE_SECONDS, connections: CONNECTIONS, headers });
      baseSlices.push(base);
      slices.push(slice);
      ratios.push(slice.rps / base.rps);
      p99Ratios.push(slice.p99Us / base.p99Us);
    }
    const loop = await server?.ask<{ p99Ms: number; maxMs: number }>({ eventLoop: true });
    const result = combined(slices);
    const note = [
      extra.note ?? '',
      result.non2xx ? `${result.non2xx} non-2xx answers` : '',
      result.socketErrors ? `${result.socketErrors} socket errors` : '',
      `rounds' ratios ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
      loop ? `event-loop delay p99 ${loop.p99Ms} ms, max ${loop.maxMs} ms` : '',
    ].filter(Boolean);
    const row = print({
      name,
      ...extra,
      rps: result.rps,
      p50Ms: ms(result.p50Us),
      p99Ms: ms(result.p99Us),
      ratio: median(ratios),
      note: note.join('; '),
    });
    return Object.assign(row, { p99Ratio: median(p99Ratios) });
  }

  const firstRow = rows.length;
  if (lowdb && wants('sessioninfo')) {
    const url = `${lowdb.url}/.well-known/bff-sessioninfo`;
    await throughput('bff-sessioninfo', url, headersOf(lowdb), { store: 'lowdb' }, lowdb);
  }
  const cacheHits: Array<{ backend: Started; row: Row }> = [];
  let comparedMissed = false;
  for (const [store, backend] of [
    ['lowdb', lowdb],
    ['redis', redis],
  ] as const) {
    if (!backend || !wants(`token-${store}`)) continue;
    const url = `${backend.url}${tokenPath}`;
    const row = await throughput('bff-token, cache hit', url, headersOf(backend), { store }, backend);
    const p99 = row.p99Ratio;
    row.target = '≥ 0.70 × bare Koa req/s, p99 ≤ 2 × bare Koa p99';
    row.met = check(
      `bff-token cache hit on ${store}: ≥ 0.70 × bare Koa req/s at ${CONNECTIONS} connections, p99 ≤ 2 ×`,
      `${(row.ratio ?? 0).toFixed(2)} × req/s, p99 ${p99.toFixed(2)} ×`,
      (row.ratio ?? 0) >= 0.7 && p99 <= 2,
    );
    cacheHits.push({ backend, row });
  }

  if (express) {
    const cookie = await signInAt(express.url, '/login');
    const first = await fetch(`${express.url}/token`, { headers: { cookie } });
    if (first.status !== 200) throw new Error(`express-openid-connect /token answered ${first.status}`);
    const row = await throughput(
      'express-openid-connect GET /token',
      `${express.url}/token`,
      { cookie },
      {
        store: 'cookie',
        note: 'its session: the tokens in its encrypted cookie',
      },
    );
    const ours = cacheHits[0]?.row;
    if (ours?.ratio && row.ratio) {
      // Each against the baseline of its own rounds: the ratio of the two ratios.
      const times = ours.ratio / row.ratio;
      comparedMissed = !check(
        `bff-token cache hit (${ours.store}) ≥ 3 × express-openid-connect's token route`,
        `${times.toFixed(2)} × (${Math.round(ours.rps ?? 0)} vs ${Math.round(row.rps ?? 0)} req/s)`,
        times >= 3,
      );
    }
  }

  // The baseline's row, first in the table: all its slices, or a run of its own when no row was paired.
  if (bare && (baseSlices.length > 0 || wants('baseline'))) {
    if (baseSlices.length === 0) baseSlices.push(await wrk(bare.url, { seconds: SECONDS, connections: CONNECTIONS }));
    const result = combined(baseSlices);
    const row = print({
      name: 'bare Koa route (baseline)',
      rps: result.rps,
      p50Ms: ms(result.p50Us),
      p99Ms: ms(result.p99Us),
      ratio: 1,
      note: `${baseSlices.length} slices of ${SLICE_SECONDS} s, next to the rows' own`,
    });
    rows.splice(rows.indexOf(row), 1);
    rows.splice(firstRow, 0, row);
  }

  // The cold paths: one request at a time, each waiting for the AS, against the bare AS request.
  const bareAs =
    wants('refresh') || wants('exchange')
      ? await BareAs.signIn(stack.issuer, stack.world, `${stack.lowdbOrigin}/auth/callback`, stack.resource)
      : undefined;
  /** bff-token with `fresh=1`, which must reach the AS and be answered from `source`. */
  const fresh = (backend: Started, source: string) => async () => {
    const res = await fetch(`${backend.url}${tokenPath}&fresh=1`, { headers: headersOf(backend) });
    await res.arrayBuffer();
    if (res.status !== 200 || res.headers.get(TOKEN_SOURCE) !== source) {
      throw new Error(`${backend.name}: bff-token fresh=1 answered ${res.status}, ${res.headers.get(TOKEN_SOURCE)}`);
    }
  };
  /** The BFF's request and the bare AS request it wraps, taken alternately (one of each per round). */
  async function coldPath(name: string, bff: () => Promise<void>, atAs: () => Promise<unknown>, store = 'lowdb') {
    const [reference, measured] = (await alternating(SEQUENTIAL, [async () => void (await atAs()), bff])) as [
      Sequential,
      Sequential,
    ];
    const each = `${SEQUENTIAL} sequential requests, alternating with the bare AS request`;
    print({
      name: `${name}: the bare AS request`,
      p50Ms: ms(reference.p50Us),
      p99Ms: ms(reference.p99Us),
      note: `${SEQUENTIAL} sequential requests`,
    });
    const p99 = (measured.p99Us / reference.p99Us).toFixed(2);
    return print({
      name: `${name}: bff-token fresh=1`,
      store,
      p50Ms: ms(measured.p50Us),
      p99Ms: ms(measured.p99Us),
      ratio: measured.p50Us / reference.p50Us,
      note: `ratio: p50 ÷ the bare AS request's p50 (p99: ${p99} ×); ${each}`,
    });
  }
  // What the refresh path on lowdb waits for besides the AS: one durable write of the grant (the
  // rotated refresh token is on disk before the answer), timed alone on the same disk.
  if (lowdb && wants('refresh')) {
    const probe = await LowdbStore.open({ file: join(tmp, 'write-probe', 'bff.json'), sweepIntervalMs: 0 });
    const grant = { refresh_token: 'r'.repeat(64), tokens: { key: { access_token: 'a'.repeat(900), expires_at: 0 } } };
    let n = 0;
    const writes = await sequential(SEQUENTIAL / 2, () => probe.set(`grant:${n++ % 8}`, grant));
    await probe.close();
    print({
      name: 'one durable write of a grant',
      store: 'lowdb',
      p50Ms: ms(writes.p50Us),
      p99Ms: ms(writes.p99Us),
      note: `LowdbStore.set, timed in the harness: a private temporary file, fsync, rename, folder fsync; ${SEQUENTIAL / 2} writes in a row`,
    });
  }
  // The refresh path on each store: on lowdb it includes the durable write of the rotated refresh
  // token (fsync, rename, folder fsync) before the answer, which Redis does not wait for on disk.
  for (const [store, backend] of [
    ['lowdb', lowdb],
    ['redis', redis],
  ] as const) {
    if (!backend || !bareAs || !wants('refresh')) continue;
    const row = await coldPath('refresh', fresh(backend, 'refresh'), () => bareAs.refresh('stocks:read'), store);
    row.target = '≤ 1.3 × the AS refresh (p50)';
    row.met = check(
      `bff-token refresh path on ${store} ≤ 1.3 × the AS refresh latency (p50)`,
      `${(row.ratio ?? 0).toFixed(2)} ×`,
      (row.ratio ?? Number.POSITIVE_INFINITY) <= 1.3,
    );
    if (!row.met) {
      const refresh = fresh(backend, 'refresh');
      await profileDuring(backend, `bff-token fresh=1, refresh at the AS (${store})`, () =>
        sequential(100, refresh, 0),
      );
    }
  }
  if (exchange && bareAs && wants('exchange')) {
    // The broad token for the resource, as the backend holds it, narrowed by RFC 8693 each time.
    const { access_token: broad } = await bareAs.refresh();
    await coldPath('token exchange', fresh(exchange, 'exchange'), () => bareAs.exchange(broad, 'stocks:read'));
  }

  // After expiry, many requests at once: one refresh at the AS, every caller served by it.
  if (lowdb && wants('parallel')) {
    const headers = headersOf(lowdb);
    const expired = await fetch(`${lowdb.url}/_mock/session/expire-tokens`, { method: 'POST', headers });
    if (expired.status !== 200) throw new Error(`expire-tokens answered ${expired.status}: ${await expired.text()}`);
    await as.ask({ reset: true });
    const times: number[] = [];
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        const sent = performance.now();
        const res = await fetch(`${lowdb.url}${tokenPath}`, { headers });
        await res.arrayBuffer();
        times.push((performance.now() - sent) * 1000);
        return { status: String(res.status), source: res.headers.get(TOKEN_SOURCE) ?? 'none' };
      }),
    );
    const { counts } = await as.ask<{ counts: Record<string, number> }>({ count: true });
    const asCalls = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const tally = (key: 'status' | 'source') => {
      const count = new Map<string, number>();
      for (const a of answers) count.set(a[key], (count.get(a[key]) ?? 0) + 1);
      return [...count].map(([k, n]) => `${n}× ${k}`).join(', ');
    };
    const met = asCalls === 1 && answers.every((a) => a.status === '200');
    print({
      name: `${PARALLEL} parallel bff-token requests after expiry`,
      store: 'lowdb',
      p50Ms: ms(percentile(times, 50)),
      p99Ms: ms(percentile(times, 99)),
      target: 'exactly 1 AS token request',
      met,
      note: `AS token requests: ${asCalls} (${JSON.stringify(counts)}); answers ${tally('status')}; TMI-BFF-Token-Source ${tally('source')}`,
    });
    check(`${PARALLEL} parallel expired requests → exactly 1 AS call`, `${asCalls} AS token request(s)`, met);
  }

  // A missed throughput target (its own, or the comparison with express-openid-connect): the same
  // row again, the backend under V8's CPU profiler.
  for (const [i, { backend, row }] of cacheHits.entries()) {
    if (row.met !== false && !(i === 0 && comparedMissed)) continue;
    await profileDuring(backend, `bff-token, cache hit (${row.store})`, () =>
      wrk(`${backend.url}${tokenPath}`, {
        seconds: PROFILE_SECONDS,
        connections: CONNECTIONS,
        headers: headersOf(backend),
      }),
    );
  }
} catch (err) {
  // Interrupted: what failed was cut short by the stop, and the SIGINT handler ends the process.
  if (isStopping()) await new Promise(() => undefined);
  throw err;
} finally {
  await stopAll();
}

// The scale rows (stored sessions), a run of their own once every server here is gone.
const scaleScript = fileURLToPath(new URL('scale.ts', import.meta.url));
if (wants('scale') && !existsSync(scaleScript)) notes.push('bench/scale.ts is not there: no scale rows');
if (wants('scale') && existsSync(scaleScript)) {
  const file = join(tmp, 'scale.json');
  const budgetS = Math.max(30, RUN_BUDGET_S - (performance.now() - started) / 1000);
  const deadline = String(Date.now() + budgetS * 1000);
  const { code, timedOut } = await runGroup(
    ['--import', 'tsx', '--conditions=development', scaleScript, '--json', file],
    budgetS * 1000,
    { BENCH_SCALE_DEADLINE: deadline },
  );
  if (timedOut) notes.push(`bench/scale.ts did not end within ${Math.round(budgetS)} s (BENCH_BUDGET_SECONDS)`);
  else if (code !== 0) notes.push(`bench/scale.ts exited with ${code}: its rows may be missing`);
  if (existsSync(file)) {
    const written = JSON.parse(await readFile(file, 'utf8')) as Row[] | { rows: Row[] };
    const scaleRows = Array.isArray(written) ? written : written.rows;
    rows.push(...scaleRows);
    targets.push(...targetsOf(scaleRows));
  }
}

const results: Results = {
  date,
  seconds: SECONDS,
  connections: CONNECTIONS,
  sequentialCount: SEQUENTIAL,
  machine: describeMachine(wrkLine),
  rows,
  targets,
  profiles,
  notes,
};
const paths = outputPaths(ROOT, date, flags['write-docs']);
const markdown = renderMarkdown(results);
await mkdir(new URL('bench/results/', ROOT), { recursive: true });
await writeFile(paths.json, `${JSON.stringify(results, null, 2)}\n`);
await writeFile(paths.md, markdown);
console.log(`\nwrote ${fileURLToPath(paths.json)} and .md (${Math.round((performance.now() - started) / 1000)} s)`);
if (paths.docs) {
  await writeFile(paths.docs, markdown);
  console.log(`wrote ${fileURLToPath(paths.docs)}`);
}
