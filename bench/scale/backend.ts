/**
 * The reference backend for bench/scale.ts, in its own process: `npm start`'s configuration
 * (configFromEnv), plus what the scale run asks of it over IPC.
 *
 *   → parent  { ready: origin }    once it listens (bench/lib/processes.ts startServer)
 *   ← parent  { openMs: true }     answered with { openMs, entries }: createBackend's time on the
 *                                  stored data, and how many entries the store opened (lowdb)
 *   ← parent  { eventLoop: true }  answered with { p50Ms, p99Ms, maxMs }: the event-loop delay since
 *                                  the last ask (perf_hooks.monitorEventLoopDelay, beyond its 10 ms
 *                                  sampling interval); a new window starts
 *
 * SIGTERM (or the parent going away) closes the server and the store (lowdb flushes), then exits.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { configFromEnv, createBackend } from '@tmi-bff/reference-backend';

// The reference backend's folder, where its defaults would be: the scale run sets every one it uses.
const root = fileURLToPath(new URL('../../reference-backend', import.meta.url));
const { config, host, port } = configFromEnv(process.env, root);

// The histogram holds the time between two ticks of its timer, so `resolution` plus the delay: the
// delay reported is what lies beyond that resolution.
const RESOLUTION_MS = 10;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
const started = performance.now();
const backend = await createBackend({ ...config, log: (line) => console.log(line) });
const openMs = performance.now() - started;
const server = createServer(backend.app.callback()).listen(port, host);
await once(server, 'listening');

const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
process.on('message', (message: { openMs?: boolean; eventLoop?: boolean }) => {
  if (message.openMs) {
    process.send?.({ openMs, entries: (backend.store as { size?: number }).size });
    return;
  }
  process.send?.({ p50Ms: ms(delay.percentile(50)), p99Ms: ms(delay.percentile(99)), maxMs: ms(delay.max) });
  delay.reset();
});

let closing = false;
function close(): void {
  if (closing) return;
  closing = true;
  delay.disable();
  server.close();
  server.closeAllConnections();
  void backend.close().finally(() => process.exit(0));
}
process.once('SIGTERM', close);
process.once('disconnect', close);
process.send?.({ ready: config.origin });
