/**
 * One measured figure of `npm run bench`, as the harness (bench/run.ts) and the scale runner
 * (bench/scale.ts) both write it. Latencies are in milliseconds; `rps` only for throughput rows.
 */
export interface Row {
  /** What was measured, e.g. `bff-token, cache hit`. */
  name: string;
  /** `lowdb`, `redis` or `memory` where the row depends on the store. */
  store?: string;
  /** How many sessions the store held during the row. */
  sessions?: number;
  /** Requests per second (throughput rows). */
  rps?: number;
  p50Ms: number;
  p99Ms: number;
  /** The figure divided by its reference (the bare-Koa baseline unless `note` says otherwise). */
  ratio?: number;
  /** The target in words, e.g. `≥ 0.70 × bare Koa req/s`. */
  target?: string;
  /** Whether the target was met (only on rows that have one). */
  met?: boolean;
  note?: string;
}
