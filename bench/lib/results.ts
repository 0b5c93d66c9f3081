/**
 * A bench run's results: the machine, every row, the targets checked, the profiles of the missed
 * ones. Written to bench/results/<timestamp>.json and .md (not tracked); docs/benchmarks.md only on
 * `--write-docs`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import type { Top } from './profile.js';
import type { Row } from './result.js';

export interface Machine {
  cpu: string;
  cpus: number;
  ramGiB: number;
  os: string;
  node: string;
  wrk: string;
  /** The commit measured, with `+ uncommitted changes` when the tree was not clean. */
  commit: string;
}

/** One target of the acceptance list, and whether this run met it. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

/** The top self-time functions of the backend, rerun under `node --cpu-prof` for a missed row. */
export interface Profile {
  row: string;
  /** The time the profiler ran, and the part of it the backend was busy (not idle). */
  wallMs: number;
  busyMs: number;
  top: Top[];
}

export interface Results {
  /** ISO time the run started. */
  date: string;
  /** Measured seconds per throughput row (after a 1 s warm-up). */
  seconds: number;
  connections: number;
  /** Requests per cold-path row. */
  sequentialCount: number;
  machine: Machine;
  rows: Row[];
  targets: TargetCheck[];
  profiles: Profile[];
  /** Anything the run could not measure, and why. */
  notes: string[];
}

/** The targets rows carry themselves (the scale rows of bench/scale.ts), as target checks. */
export function targetsOf(rows: Row[]): TargetCheck[] {
  return rows.flatMap((row) => {
    if (row.target === undefined || row.met === undefined) return [];
    const at = [row.store, row.sessions === undefined ? '' : `${row.sessions.toLocaleString('en-US')} sessions`];
    const figures = `p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms`;
    return [
      {
        target: `${row.name} (${at.filter(Boolean).join(', ')}): ${row.target}`,
        measured:
          row.ratio === undefined
            ? `${figures}${row.note ? `; ${row.note}` : ''}`
            : `${row.ratio.toFixed(2)} × (${figures})`,
        met: row.met,
      },
    ];
  });
}

/** The nearest-rank percentile of `values`. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) return `${pretty} (${type()} ${release()})`;
  } catch {
    // not Linux: the kernel's name is enough
  }
  return `${type()} ${release()}`;
}

export function describeMachine(wrk: string): Machine {
  let commit = 'unknown (not a git checkout)';
  try {
    commit = git('rev-parse', '--short=12', 'HEAD');
    if (git('status', '--porcelain', '--untracked-files=no')) commit += ' + uncommitted changes';
  } catch {
    // keep 'unknown'
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    ramGiB: Math.round(totalmem() / 2 ** 30),
    os: osName(),
    node: process.version,
    wrk,
    commit,
  };
}

/** Where a run writes: its results, always; docs/benchmarks.md only when asked to. */
export function outputPaths(root: URL, date: string, writeDocs: boolean): { json: URL; md: URL; docs?: URL } {
  const stamp = date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  return {
    json: new URL(`bench/results/${stamp}.json`, root),
    md: new URL(`bench/results/${stamp}.md`, root),
    ...(writeDocs ? { docs: new URL('docs/benchmarks.md', root) } : {}),
  };
}
