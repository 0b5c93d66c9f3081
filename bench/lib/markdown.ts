/** A run's results as Markdown: the results file, and docs/benchmarks.md on `--write-docs`. */
import type { Row } from './result.js';
import type { Results } from './results.js';

const num = (n: number | undefined, digits = 2) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits));
const rps = (n: number | undefined) => (n === undefined ? '' : Math.round(n).toString());
const cell = (text: string | undefined) => (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

function rowLine(r: Row): string {
  const sessions = r.sessions === undefined ? '' : r.sessions.toLocaleString('en-US');
  const ratio = r.ratio === undefined ? '' : `${num(r.ratio)}×`;
  return `| ${cell(r.name)} | ${r.store ?? ''} | ${sessions} | ${rps(r.rps)} | ${num(r.p50Ms, 3)} | ${num(r.p99Ms, 3)} | ${ratio} | ${cell(r.note)} |`;
}

/**
 * What a missed target's cost is made of, where the design fixes it: said once per kind of miss, so
 * that the file explains itself next to the profiles.
 */
const READING: Array<{ missed: RegExp; text: string }> = [
  {
    missed: /refresh path on lowdb/,
    text: 'The refresh path on lowdb answers once the rotated refresh token is on disk (RFC 9700 §4.14.2: it is the only one that still works, and the crash tests count on every acknowledged refresh surviving a kill). So its latency is the AS request, plus one durable write of the grant (the "one durable write" row: a temporary file, fsync, rename, folder fsync), plus the request to the BFF itself. Where one durable write costs about as much as the AS request, no code change brings the ratio near 1.3: a faster disk does, or Redis.',
  },
  {
    missed: /refresh path on redis/,
    text: 'The refresh path on Redis makes six round trips to redis-server besides the AS request: the session, the grant, the lock (SET NX), the grant again under the lock, the write fenced by the lock token, and the release. On a 2-core machine redis-server, the mock AS, the BFF and the client share the CPUs, so each round trip costs a few tenths of a millisecond.',
  },
  {
    missed: /cache hit on redis/,
    text: "A cache hit on Redis reads two records from redis-server (the session, then its grant, whose key the session names), where lowdb reads them from memory: two round trips, and redis-server's own CPU, on the 2 cores the load generator and the BFF already use.",
  },
  {
    missed: /cache hit on lowdb/,
    text: "A cache hit's own work (the signed cookie, two reads from memory, the no-store headers and the JSON) is a few tens of microseconds; the rest is Node's HTTP and the socket write, which bare Koa pays too. The profile below is the backend's self time: `writev` (the socket write) comes first in both servers.",
  },
];

export function renderMarkdown(results: Results): string {
  const reading = READING.filter(({ missed }) => results.targets.some((t) => !t.met && missed.test(t.target))).map(
    ({ text }) => `- ${text}`,
  );
  const m = results.machine;
  const targets = results.targets.map(
    (t) => `| ${cell(t.target)} | ${cell(t.measured)} | ${t.met ? 'met' : '**MISSED**'} |`,
  );
  const profiles = results.profiles.map(
    (p) =>
      `### ${p.row}\n\nThe backend's top self time in V8's CPU profiler during that load only: busy ${p.busyMs} ms of ${p.wallMs} ms.\n\n| function | self ms | % |\n|---|---|---|\n${p.top
        .map((t) => `| \`${cell(t.fn)}\` | ${num(t.selfMs, 1)} | ${num(t.percent, 1)} |`)
        .join('\n')}\n`,
  );
  return `# Benchmarks

Measured by \`npm run bench\` (bench/run.ts) on ${results.date.slice(0, 10)}. Every server under test
runs in its own Node process: a bare Koa app (the baseline), the reference backend (its lowdb store
in a temporary folder, or Redis on loopback), the mock AS, an express-openid-connect app, and
redis-server. The load is wrk (\`wrk -t1 -c${results.connections} --latency\`) with the session cookie and
\`TMI-BFF-CSRF: 1\`, everything on loopback. A throughput row is ${results.seconds} s of load after a 1 s warm-up,
in 5 slices, each right after a slice of the baseline as long: the machine's speed drifts over
seconds, so each slice is divided by its own baseline slice, and the row's ratio is the median of
those five (its req/s are over all its slices; p50 and p99, the median of its slices'). The cold paths
(each request waits for the AS) are ${results.sequentialCount} requests one after the other over one
connection, timed by the client, for the BFF and for the bare AS request it wraps alike.

Absolute figures depend on the machine, and the load generator shares its CPUs with the servers;
the ratio to the baseline measured in the same run is the figure to compare. Ratios are req/s ÷ the
bare Koa req/s for throughput rows, and latency ÷ the reference its note or target names for the others.

## Targets

| target | measured | |
|---|---|---|
${targets.join('\n')}

## Figures

| row | store | sessions | req/s | p50 ms | p99 ms | ratio | note |
|---|---|---|---|---|---|---|---|
${results.rows.map(rowLine).join('\n')}
${reading.length ? `\n## Reading the missed targets\n\n${reading.join('\n')}\n` : ''}${profiles.length ? `\n## Profiles of the missed targets\n\n${profiles.join('\n')}` : ''}${
  results.notes.length ? `\n## Notes\n\n${results.notes.map((n) => `- ${n}`).join('\n')}\n` : ''
}
## Machine

- CPU: ${m.cpus} × ${m.cpu}, RAM ${m.ramGiB} GiB
- OS: ${m.os}
- Node ${m.node}, ${m.wrk}
- Commit: ${m.commit}
`;
}
