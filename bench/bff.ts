/**
 * `npm run bench`: throughput and latency of the BFF endpoints against a bare Koa route, measured in
 * the same run on the same machine, so the ratios mean something where absolute numbers do not.
 * Everything runs on loopback: the mock AS and the backend in this process, autocannon as the load.
 * Results go to docs/benchmarks.md.
 */
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { backendSettings, DEFAULT_ADDRESSES, loadSeed, SEED_FILE, startMockAs } from '@tmi-bff/mock-as';
import { CookieJar, fetchWithJar, signIn } from '@tmi-bff/mock-as/testing';
import { createBackend, withDefaults } from '@tmi-bff/reference-backend';
import autocannon from 'autocannon';
import Koa from 'koa';

const DURATION = Number(process.env.BENCH_SECONDS || 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 10);

async function listen(handler: Parameters<typeof createServer>[1]) {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function measure(name: string, url: string, headers: Record<string, string> = {}): Promise<Result> {
  // A short warm-up, then the measured run.
  await autocannon({ url, connections: CONNECTIONS, duration: 1, headers });
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers });
  const result = { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx };
  console.log(
    `${name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, non-2xx ${result.non2xx}`,
  );
  return result;
}

// The baseline: a bare Koa route.
const bare = new Koa();
bare.use((ctx) => {
  ctx.body = 'hello';
});
const baseline = await listen(bare.callback());

// The stack.
const app = createServer();
app.listen(0, '127.0.0.1');
await once(app, 'listening');
const origin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: origin });
const as = await startMockAs({ seed, log: () => {} });
const demo = withDefaults({ origin, issuer: as.issuer, ...backendSettings(seed) });
const backend = await createBackend({ ...demo, sessionMaxAgeMs: 3600_000, log: () => {} });
app.on('request', backend.app.callback());

const jar = new CookieJar();
const start = await fetchWithJar(jar, `${origin}/auth/login`);
const callback = await signIn(start.headers.get('location') ?? '', { persona: 'alice', jar });
await fetchWithJar(jar, `${origin}${callback.pathname}${callback.search}`);
const headers = { cookie: jar.header(origin), 'TMI-BFF-CSRF': '1' };
const tokenUrl = `${origin}/.well-known/bff-token?resource=${encodeURIComponent(demo.login.resources[0] ?? '')}&scope=stocks%3Aread`;
const primed = await fetch(tokenUrl, { headers });
if (primed.status !== 200) throw new Error(`bff-token answered ${primed.status}: ${await primed.text()}`);

const results = [
  await measure('bare Koa route (baseline)', baseline.url),
  await measure('bff-sessioninfo', `${origin}/.well-known/bff-sessioninfo`, headers),
  await measure('bff-token, cache hit', tokenUrl, headers),
  await measure('bff-token, no session (invalid_session)', tokenUrl, { 'TMI-BFF-CSRF': '1' }),
];
const base = results[0]?.rps ?? 1;

const rows = results.map(
  (r) => `| ${r.name} | ${r.rps.toFixed(0)} | ${(r.rps / base).toFixed(2)} | ${r.p50} | ${r.p99} |`,
);
const doc = `# Benchmarks

Measured by \`npm run bench\` (\`bench/bff.ts\`): ${DURATION} s per row after a 1 s warm-up,
${CONNECTIONS} connections, autocannon in the same process as the servers, everything on loopback.
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.
Absolute numbers depend on the machine and move ±30 % between runs here; the ratio to the bare Koa
route measured in the same run is the number to compare.

| endpoint | req/s | ratio to bare Koa | p50 ms | p99 ms |
|---|---|---|---|---|
${rows.join('\n')}

What each row does per request:

- bare Koa: nothing but the response.
- bff-sessioninfo: koa-session (signed cookie check, store read), the CSRF and session checks, JSON.
- bff-token, cache hit: the same, plus the grant record read and the cache lookup; no AS call.
- no session: the checks fail fast with \`invalid_session\`.

Last run: ${new Date().toISOString().slice(0, 10)}.
`;
await writeFile(new URL('../docs/benchmarks.md', import.meta.url), doc);
console.log('wrote docs/benchmarks.md');

baseline.server.close();
app.close();
app.closeAllConnections();
await backend.close();
await as.close();
