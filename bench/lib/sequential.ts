/**
 * The cold paths, where each request waits for the AS: one request at a time over one keep-alive
 * connection (fetch), `count` of them, timed on this side. wrk cannot chain requests (a rotated
 * refresh token), so these are measured here, the same way for the BFF and for the bare AS.
 */
import { percentile } from './results.js';

export interface Sequential {
  p50Us: number;
  p99Us: number;
  count: number;
}

/** Runs `request` `count` times in a row (after `warmup` untimed runs); it throws on a wrong answer. */
export async function sequential(count: number, request: () => Promise<void>, warmup = 10): Promise<Sequential> {
  const [timed] = await alternating(count, [request], warmup);
  return timed as Sequential;
}

/**
 * Runs each of `requests` in turn, `count` rounds (after `warmup` untimed rounds), each one timed:
 * a path and its reference taken alternately see the machine at the same speed, where two runs one
 * after the other would see it drift. One result per request, in order.
 */
export async function alternating(
  count: number,
  requests: Array<() => Promise<void>>,
  warmup = 10,
): Promise<Sequential[]> {
  for (let i = 0; i < warmup; i += 1) for (const request of requests) await request();
  const times = requests.map((): number[] => []);
  for (let i = 0; i < count; i += 1) {
    for (const [j, request] of requests.entries()) {
      const started = performance.now();
      await request();
      times[j]?.push((performance.now() - started) * 1000);
    }
  }
  return times.map((t) => ({ p50Us: percentile(t, 50), p99Us: percentile(t, 99), count }));
}
