/**
 * The processes of a bench run: every server under test in its own Node process (tsx, the workspace
 * packages from source), each reporting `{ ready: url }` over IPC once it listens, and all of them
 * stopped when the run ends, fails or is interrupted (SIGINT, SIGTERM): no orphans.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export { freePort } from '@tmi-bff/store/testing';

export interface Started {
  name: string;
  url: string;
  child: ChildProcess;
  /** Sends `message` over IPC and resolves with the next message the child sends back. */
  ask<T>(message: object): Promise<T>;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Node flags before the script, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** Where its stdout and stderr go (a file: the logs of a server under load stay out of the pipes). */
  logFile: string;
  /** Default: 30 000. */
  timeoutMs?: number;
}

const running = new Set<() => Promise<void>>();
const children = new Set<ChildProcess>();
let stopping = false;

/** Whether the run was interrupted (SIGINT, SIGTERM) and is stopping. */
export const isStopping = () => stopping;

/** Throws once the run is stopping, so that nothing new starts while the servers go. */
export function assertRunning(what: string): void {
  if (stopping) throw new Error(`the run is stopping: ${what} not started`);
}

/** A child that is not a server (wrk): killed with SIGTERM when the run stops. */
export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  onStop(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
}

/** Runs `fn` at the end of the run, whatever ends it (see `stopAll`). */
export function onStop(fn: () => Promise<void>): void {
  running.add(fn);
}

/** Stops every process started through this module, in parallel. */
export async function stopAll(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.allSettled(all.map((fn) => fn()));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopping = true;
    console.error(`bench: ${signal}, stopping every server`);
    void stopAll().finally(() => process.exit(130));
  });
}
// Last resort on an abrupt exit: no waiting possible, so a plain SIGKILL to each child.
const groups = new Set<number>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const pid of groups) signalGroup(pid, 'SIGKILL');
});

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/**
 * Runs `args` (Node flags and a script) in a Node process and process group of its own, its output
 * on this one's, and stops the whole group (the script's own servers too) after `budgetMs` or when
 * the run stops: SIGTERM, then SIGKILL 10 s later.
 */
export async function runGroup(
  args: string[],
  budgetMs: number,
  env: Record<string, string> = {},
): Promise<{ code: number | null; timedOut: boolean }> {
  assertRunning(args.at(-1) ?? 'a child');
  const child = spawn(process.execPath, args, { stdio: 'inherit', detached: true, env: { ...process.env, ...env } });
  const pid = child.pid ?? 0;
  groups.add(pid);
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  onStop(stop);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stop();
  }, budgetMs);
  const [code] = await exited;
  clearTimeout(timer);
  // Whatever the script left behind in its group goes with it.
  signalGroup(pid, 'SIGKILL');
  groups.delete(pid);
  return { code, timedOut };
}

/** Stops a child: SIGTERM (the servers close and exit 0, so `--cpu-prof` writes its profile), then SIGKILL. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Starts `script` (a path relative to bench/) in its own Node process and waits until it listens. */
export async function startServer(name: string, script: string, options: StartOptions): Promise<Started> {
  assertRunning(name);
  const out = openSync(options.logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=development',
      ...(options.nodeArgs ?? []),
      fileURLToPath(new URL(`../${script}`, import.meta.url)),
    ],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', out, out, 'ipc'] },
  );
  closeSync(out);
  children.add(child);
  child.once('exit', () => children.delete(child));
  const stop = () => terminate(child);
  onStop(stop);
  const tail = () => readFileSync(options.logFile, 'utf8').split('\n').slice(-15).join('\n');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${tail()}`)),
      timeoutMs,
    );
    child.once('message', (message: { ready?: string }) => {
      clearTimeout(timer);
      if (message.ready) resolve(message.ready);
      else reject(new Error(`${name} sent ${JSON.stringify(message)} instead of its URL`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it listened:\n${tail()}`));
    });
  });
  return {
    name,
    url,
    child,
    ask<T>(message: object) {
      const answer = once(child, 'message').then(([reply]) => reply as T);
      child.send(message);
      return answer;
    },
    stop,
  };
}
