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
  for (let i = 0; i < warmup; i += 1) await request();
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await request();
    times.push((performance.now() - started) * 1000);
  }
  return { p50Us: percentile(times, 50), p99Us: percentile(times, 99), count };
}
