/**
 * The scale run's figures as rows (bench/lib/result.ts), its two targets judged on them, and the
 * table printed at the end.
 *
 * Targets:
 * - a cache hit does not slow down with the store's size: bff-token p99 at the largest size is at
 *   most 1.5 × its p99 at the smallest, on each store;
 * - a sign-in stays fast on the embedded store: /auth/callback p50 at the largest size on lowdb is at
 *   most 50 ms, and the backend's event loop is never blocked over 100 ms meanwhile (sign-ins and wrk).
 */
import type { Row } from '../lib/result.js';
import type { WrkResult } from '../lib/wrk.js';

/** The backend's event-loop delay over a window, in ms (bench/scale/backend.ts). */
export interface EventLoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** What one store at one size gave. */
export interface Measured {
  store: string;
  sessions: number;
  openMs: number;
  /** Sessions added before the backend started: sealed once for every store, then written into this one. */
  seeded: { count: number; sealMs: number; writeMs: number };
  wrkSeconds: number;
  cacheHit: WrkResult;
  wrkEventLoop: EventLoopDelay;
  signIns: { asked: number; callbackMs: number[]; totalMs: number[]; note?: string | undefined };
  signInEventLoop: EventLoopDelay;
}

export const ROW = {
  cacheHit: 'bff-token, cache hit',
  callback: 'sign-in, /auth/callback',
  signIn: 'sign-in, whole sequence',
  wrkEventLoop: 'event-loop delay, under wrk',
  signInEventLoop: 'event-loop delay, during sign-ins',
  open: 'backend open',
} as const;

const round = (ms: number) => Math.round(ms * 100) / 100;
const failed = (r: WrkResult) =>
  r.non2xx + r.socketErrors > 0 ? `, ${r.non2xx} not 2xx and ${r.socketErrors} socket errors` : '';

/** Nearest-rank percentile of `values` (NaN when there are none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] as number;
}

export function rowsOf(m: Measured): Row[] {
  const at = { store: m.store, sessions: m.sessions };
  const signIns = `${m.signIns.callbackMs.length} of ${m.signIns.asked} sign-ins${m.signIns.note ? `; ${m.signIns.note}` : ''}`;
  const timed = (name: string, values: number[]): Row => ({
    name,
    ...at,
    p50Ms: round(percentile(values, 50)),
    p99Ms: round(percentile(values, 99)),
    note: signIns,
  });
  const delay = (name: string, d: EventLoopDelay, during: string): Row => ({
    name,
    ...at,
    p50Ms: d.p50Ms,
    p99Ms: d.p99Ms,
    note: `max ${d.maxMs} ms, during ${during}`,
  });
  return [
    {
      name: ROW.cacheHit,
      ...at,
      rps: Math.round(m.cacheHit.rps),
      p50Ms: round(m.cacheHit.p50Us / 1000),
      p99Ms: round(m.cacheHit.p99Us / 1000),
      note: `wrk -t1 -c10 -d${m.wrkSeconds}s, ${m.cacheHit.requests} requests${failed(m.cacheHit)}`,
    },
    timed(ROW.callback, m.signIns.callbackMs),
    timed(ROW.signIn, m.signIns.totalMs),
    delay(ROW.wrkEventLoop, m.wrkEventLoop, 'the wrk run'),
    delay(ROW.signInEventLoop, m.signInEventLoop, 'the sign-ins'),
    {
      name: ROW.open,
      ...at,
      p50Ms: round(m.openMs),
      p99Ms: round(m.openMs),
      note: `createBackend on the stored sessions, once; ${m.seeded.count} sessions added before it (sealed in ${round(m.seeded.sealMs / 1000)} s, written in ${round(m.seeded.writeMs / 1000)} s)`,
    },
  ];
}

const maxOf = (row: Row | undefined) => Number(/max ([\d.]+) ms/.exec(row?.note ?? '')?.[1] ?? Number.NaN);

/** Sets `ratio`, `target` and `met` on the rows the targets are judged on. */
export function judge(rows: Row[]): void {
  const find = (name: string, store: string, sessions: number) =>
    rows.find((r) => r.name === name && r.store === store && r.sessions === sessions);
  for (const store of new Set(rows.map((r) => r.store ?? ''))) {
    const sizes = rows.filter((r) => r.store === store && r.name === ROW.cacheHit).map((r) => r.sessions ?? 0);
    if (sizes.length === 0) continue;
    const [small, large] = [Math.min(...sizes), Math.max(...sizes)];
    const base = find(ROW.cacheHit, store, small);
    const top = find(ROW.cacheHit, store, large);
    if (base && top && large > small) {
      top.ratio = round(top.p99Ms / base.p99Ms);
      top.target = `p99 ≤ 1.5 × p99 at ${small} sessions (${base.p99Ms} ms)`;
      top.met = top.ratio <= 1.5;
    }
    const callback = find(ROW.callback, store, large);
    if (store === 'lowdb' && callback) {
      const blocked = Math.max(
        maxOf(find(ROW.signInEventLoop, store, large)),
        maxOf(find(ROW.wrkEventLoop, store, large)),
      );
      callback.target = 'p50 ≤ 50 ms, and no event-loop delay over 100 ms (sign-ins, wrk)';
      callback.met = callback.p50Ms <= 50 && blocked <= 100;
      callback.note = `${callback.note}; event-loop max ${blocked} ms`;
    }
  }
}

/** The rows as a plain-text table. */
export function table(rows: readonly Row[]): string {
  const head = ['store', 'sessions', 'what', 'req/s', 'p50 ms', 'p99 ms', 'target', '', 'note'];
  const body = rows.map((r) => [
    r.store ?? '',
    String(r.sessions ?? ''),
    r.name,
    r.rps === undefined ? '' : String(r.rps),
    String(r.p50Ms),
    String(r.p99Ms),
    r.target ? `${r.target}${r.ratio === undefined ? '' : ` [ratio ${r.ratio}]`}` : '',
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
    r.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}
