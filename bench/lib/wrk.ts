/**
 * The load generator: wrk (https://github.com/wg/wrk), one thread, a fixed number of connections, a
 * fixed duration, on loopback. Its `--latency` distribution gives p50 and p99 at microsecond
 * resolution.
 */
import { execFile, spawnSync } from 'node:child_process';
import { assertRunning, track } from './processes.js';

export const WRK_MISSING = 'wrk is not installed: apt-get install -y wrk';

/** wrk's version line, e.g. `wrk 4.1.0 [epoll]`; undefined when wrk is not installed. */
export function wrkVersion(): string | undefined {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  return /wrk \S+( \[\w+\])?/.exec(`${probe.stdout}${probe.stderr}`)?.[0] ?? 'wrk (version unknown)';
}

export interface WrkResult {
  rps: number;
  p50Us: number;
  p99Us: number;
  requests: number;
  /** Answers outside 2xx/3xx. */
  non2xx: number;
  /** connect, read, write and timeout errors. */
  socketErrors: number;
}

const UNIT_US: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000, m: 60_000_000 };

/** A wrk duration such as `812.00us`, `1.23ms` or `2.00s`, in microseconds. */
export function microseconds(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`wrk printed a latency I cannot read: "${text}"`);
  return Number(m[1]) * (UNIT_US[m[2] ?? ''] ?? Number.NaN);
}

/** The figures of wrk's `--latency` report. */
export function parseWrk(output: string): WrkResult {
  const percentile = (p: number) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(output);
    if (!m?.[1]) throw new Error(`wrk printed no ${p}% latency:\n${output}`);
    return microseconds(m[1]);
  };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output)?.[1];
  const requests = /^\s+(\d+) requests in /m.exec(output)?.[1];
  if (!rps || !requests) throw new Error(`wrk printed no Requests/sec:\n${output}`);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    rps: Number(rps),
    p50Us: percentile(50),
    p99Us: percentile(99),
    requests: Number(requests),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

export interface WrkOptions {
  seconds: number;
  connections?: number;
  headers?: Record<string, string>;
}

/** `wrk -t1 -c<connections> -d<seconds>s --latency [-H …] url`. */
export async function wrk(url: string, { seconds, connections = 10, headers = {} }: WrkOptions): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '5s'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  assertRunning('wrk');
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile('wrk', [...args, url], { timeout: (seconds + 15) * 1000 }, (err, out) =>
      err ? reject(err) : resolve(out),
    );
    track(child);
  });
  return parseWrk(stdout);
}
