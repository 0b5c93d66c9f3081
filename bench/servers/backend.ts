/**
 * The reference backend as `npm start` runs it (settings from the environment: configFromEnv), plus
 * an IPC channel for the harness; each message is answered with one message:
 * - `{ eventLoop: true }`: the event-loop delay since the last ask (perf_hooks.monitorEventLoopDelay,
 *   in ms, less the sampling interval), and a new window starts;
 * - `{ profile: 'start' }` / `{ profile: 'stop', file }`: V8's CPU profiler (the one `node --cpu-prof`
 *   runs) over the load only, without the start-up; the profile written to `file` as .cpuprofile JSON.
 */
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { configFromEnv, createBackend } from '@tmi-bff/reference-backend';

// The reference backend's folder, where its defaults (.data, the sample SPA) would be: the harness sets both.
const root = fileURLToPath(new URL('../../reference-backend', import.meta.url));
const { config, host, port } = configFromEnv(process.env, root);
const backend = await createBackend({ ...config, log: (line) => console.log(line) });
const server = createServer(backend.app.callback()).listen(port, host);
await once(server, 'listening');

const RESOLUTION_MS = 2;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
/** Connected when a profile is first asked for: a connected session is not free for the load before it. */
let inspector: Session | undefined;

type Message = { eventLoop: true } | { profile: 'start' } | { profile: 'stop'; file: string };

async function answer(message: Message): Promise<object> {
  if ('eventLoop' in message) {
    // Each sample is the time between two ticks of a RESOLUTION_MS timer: the delay is what exceeds it.
    const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
    const figures = { p50Ms: ms(delay.percentile(50)), p99Ms: ms(delay.percentile(99)), maxMs: ms(delay.max) };
    delay.reset();
    return figures;
  }
  if (message.profile === 'start') {
    inspector ??= new Session();
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
    return { profiling: true };
  }
  if (!inspector) throw new Error('no profile was started');
  const { profile } = await inspector.post('Profiler.stop');
  inspector.disconnect();
  inspector = undefined;
  await writeFile(message.file, JSON.stringify(profile));
  return { file: message.file };
}

process.on('message', (message: Message) => {
  answer(message).then(
    (reply) => process.send?.(reply),
    (err: Error) => process.send?.({ error: err.message }),
  );
});
process.send?.({ ready: config.origin });
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void backend.close().finally(() => process.exit(0));
});
