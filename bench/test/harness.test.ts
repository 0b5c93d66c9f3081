/** The bench harness's pure parts: wrk's report read, results rendered, where a run writes. No load. */
import { readdir, readFile } from 'node:fs/promises';
import test from 'ava';
import { renderMarkdown } from '../lib/markdown.js';
import { busyTime, topSelfTime } from '../lib/profile.js';
import { outputPaths, type Results, targetsOf } from '../lib/results.js';
import { alternating } from '../lib/sequential.js';
import { microseconds, parseWrk } from '../lib/wrk.js';

const WRK_REPORT = `Running 1s test @ http://127.0.0.1:18999/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.71ms    2.31ms  20.61ms   88.13%
    Req/Sec   806.60    212.08     1.03k    70.00%
  Latency Distribution
     50%  812.00us
     75%    3.16ms
     90%    5.37ms
     99%   12.09ms
  804 requests in 1.00s, 408.46KB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:    802.50
Transfer/sec:    407.70KB
`;

test('wrk: req/s, p50 and p99 in microseconds, and the failed answers', (t) => {
  t.deepEqual(parseWrk(WRK_REPORT), {
    rps: 802.5,
    p50Us: 812,
    p99Us: 12_090,
    requests: 804,
    non2xx: 7,
    socketErrors: 3,
  });
  t.is(microseconds('2.00s'), 2_000_000);
  t.throws(() => parseWrk('Running 1s test @ http://127.0.0.1:1/\n'), { message: /wrk printed no Requests\/sec/ });
});

const RESULTS: Results = {
  date: '2026-11-30T19:11:21.123Z',
  seconds: 5,
  connections: 10,
  sequentialCount: 200,
  machine: {
    cpu: 'Test CPU',
    cpus: 2,
    ramGiB: 8,
    os: 'Linux',
    node: 'v20.20.2',
    wrk: 'wrk 4.1.0 [epoll]',
    commit: 'abc123',
  },
  rows: [
    { name: 'bare Koa route (baseline)', rps: 10_000, p50Ms: 0.8, p99Ms: 2, ratio: 1 },
    {
      name: 'bff-token, cache hit',
      store: 'redis',
      sessions: 100_000,
      rps: 7_500.4,
      p50Ms: 1.2,
      p99Ms: 3.5,
      ratio: 0.75,
    },
  ],
  targets: [
    { target: 'cache hit ≥ 0.70 × bare Koa', measured: '0.75 ×', met: true },
    { target: 'refresh ≤ 1.3 × the AS | p50', measured: '1.90 ×', met: false },
    { target: 'bff-token refresh path on lowdb ≤ 1.3 × the AS refresh latency (p50)', measured: '1.9 ×', met: false },
    { target: 'bff-token cache hit on redis: ≥ 0.70 × bare Koa req/s', measured: '0.8 ×', met: true },
  ],
  profiles: [
    {
      row: 'bff-token, cache hit (redis)',
      wallMs: 3000,
      busyMs: 2900,
      top: [{ fn: 'unseal (sealed-store.ts:12)', selfMs: 120.5, percent: 9.1 }],
    },
  ],
  notes: ['bench/scale.ts is not there: no scale rows'],
};

test('the results as Markdown: targets met and MISSED, every row with its ratio, profiles, machine', (t) => {
  const md = renderMarkdown(RESULTS);
  t.true(md.includes('| cache hit ≥ 0.70 × bare Koa | 0.75 × | met |'));
  t.true(md.includes('| refresh ≤ 1.3 × the AS \\| p50 | 1.90 × | **MISSED** |'));
  t.true(md.includes('| bff-token, cache hit | redis | 100,000 | 7500 | 1.200 | 3.500 | 0.75× |  |'));
  t.true(md.includes('| `unseal (sealed-store.ts:12)` | 120.5 | 9.1 |'));
  t.true(md.includes('busy 2900 ms of 3000 ms'));
  t.true(md.includes('- CPU: 2 × Test CPU, RAM 8 GiB'));
  t.true(md.includes('`wrk -t1 -c10 --latency`'));
  t.true(md.includes('A throughput row is 5 s of load after a 1 s warm-up,\nin 5 slices'));
  t.true(md.includes('- bench/scale.ts is not there: no scale rows'));
  // A missed target's reading is said once; a met one's is not.
  t.true(md.includes('## Reading the missed targets'));
  t.is(md.split('The refresh path on lowdb answers once').length, 2);
  t.false(md.includes('A cache hit on Redis reads two records'));
});

test('a run writes its results under bench/results, and docs/benchmarks.md only with --write-docs', async (t) => {
  const root = new URL('file:///repo/');
  const plain = outputPaths(root, RESULTS.date, false);
  t.is(plain.json.href, 'file:///repo/bench/results/2026-11-30T19-11-21Z.json');
  t.is(plain.md.href, 'file:///repo/bench/results/2026-11-30T19-11-21Z.md');
  t.is(plain.docs, undefined);
  t.is(outputPaths(root, RESULTS.date, true).docs?.href, 'file:///repo/docs/benchmarks.md');
  // No other bench code builds the docs page's path (comments may name it): outputPaths is the one way to it.
  const bench = new URL('../', import.meta.url);
  const files = (await readdir(bench, { recursive: true })).filter(
    (f) => f.endsWith('.ts') && !/^(test|results|node_modules)\//.test(f),
  );
  const naming = [];
  for (const f of files)
    if ((await readFile(new URL(f, bench), 'utf8')).match(/['"`]docs\/benchmarks\.md/)) naming.push(f);
  t.deepEqual(naming, ['lib/results.ts']);
});

test('a CPU profile: self time summed per function, idle left out, the heaviest first', (t) => {
  const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(idle)') },
      { id: 2, callFrame: frame('unseal', 'file:///repo/packages/store/src/sealed-store.ts', 41) },
      { id: 3, callFrame: frame('(garbage collector)') },
    ],
    samples: [1, 2, 3, 2, 1],
    timeDeltas: [5000, 300, 100, 300, 5000],
  };
  t.deepEqual(topSelfTime(profile, 8, '/repo/'), [
    { fn: 'unseal (packages/store/src/sealed-store.ts:42)', selfMs: 0.6, percent: 85.7 },
    { fn: '(garbage collector)', selfMs: 0.1, percent: 14.3 },
  ]);
  t.deepEqual(busyTime(profile), { busyMs: 1, wallMs: 11 });
});

test('the targets the scale rows carry, with their figures', (t) => {
  const rows = [
    { name: 'bff-token, cache hit', store: 'lowdb', sessions: 100, p50Ms: 2, p99Ms: 8 },
    {
      name: 'bff-token, cache hit',
      store: 'lowdb',
      sessions: 100_000,
      p50Ms: 3,
      p99Ms: 9.5,
      ratio: 1.1875,
      target: 'p99 ≤ 1.5 × p99 at 100 sessions',
      met: true,
    },
    {
      name: 'sign-in, /auth/callback',
      store: 'lowdb',
      sessions: 100_000,
      p50Ms: 193.29,
      p99Ms: 553.35,
      note: 'event-loop max 249.26 ms',
      target: 'p50 ≤ 50 ms',
      met: false,
    },
  ];
  t.deepEqual(targetsOf(rows), [
    {
      target: 'bff-token, cache hit (lowdb, 100,000 sessions): p99 ≤ 1.5 × p99 at 100 sessions',
      measured: '1.19 × (p50 3.00 ms, p99 9.50 ms)',
      met: true,
    },
    {
      target: 'sign-in, /auth/callback (lowdb, 100,000 sessions): p50 ≤ 50 ms',
      measured: 'p50 193.29 ms, p99 553.35 ms; event-loop max 249.26 ms',
      met: false,
    },
  ]);
});

test('cold paths: a path and its reference are taken alternately, one of each per round, warm-up first', async (t) => {
  const order: string[] = [];
  const request = (name: string) => async () => void order.push(name);
  const [reference, measured] = await alternating(3, [request('as'), request('bff')], 1);
  t.deepEqual(order, ['as', 'bff', 'as', 'bff', 'as', 'bff', 'as', 'bff']);
  t.is(reference?.count, 3);
  t.is(measured?.count, 3);
  t.true((reference?.p50Us ?? -1) >= 0 && (measured?.p99Us ?? -1) >= 0);
});
