// The parts of `npm run dev` as child processes. Each runs in a process group of its own, so that
// stopping a part stops all of it: the file watcher and the server it runs (and esbuild's service).
// Their output is prefixed line by line with the part's name.
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';

const COLORS = { magenta: 35, green: 32, cyan: 36, yellow: 33 };
const COLOR = process.stdout.isTTY && !process.env.NO_COLOR;
/** How long a part has to close its servers after SIGTERM before it gets SIGKILL. */
const GRACE_MS = 5000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Emits 'line' (part, line) for every line any part prints. */
export const output = new EventEmitter();

// Windows has no process groups: there, only each part's first process gets the signal.
const GROUPS = process.platform !== 'win32';

/** Whether any process of the part `child` leads is still there. */
function groupAlive(child) {
  if (!GROUPS) return child.exitCode === null && child.signalCode === null;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function signalGroup(child, signal) {
  try {
    if (GROUPS) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

export class Part {
  /**
   * @param {{ name: string, title: string, command: string[], cwd: string, prefixColor: string, nice?: number }} spec
   *   `nice`: a lower CPU priority, for work that must not slow the servers' start (inherited by its children).
   * @param {(part: Part, code: number | null) => void} onExit an exit nobody asked for (a crash).
   */
  constructor(spec, onExit) {
    Object.assign(this, spec);
    this.prefix = COLOR ? `\x1b[${COLORS[spec.prefixColor]}m[${spec.name}]\x1b[39m` : `[${spec.name}]`;
    this.onExit = onExit;
    this.child = undefined;
  }

  start(env) {
    const [file, ...args] = this.command;
    // detached: a new process group (and session), led by this child: `-pid` names all of it.
    const child = spawn(file, args, { cwd: this.cwd, env, detached: GROUPS, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    if (this.nice && child.pid) {
      try {
        setPriority(child.pid, this.nice);
      } catch {
        // not allowed here: it only runs at the same priority
      }
    }
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      createInterface({ input: stream }).on('line', (line) => {
        out.write(`${this.prefix} ${line}\n`);
        output.emit('line', this, line);
      });
    }
    child.on('exit', (code) => {
      if (this.child === child && !child.stopping) this.onExit(this, code);
    });
  }

  /** Stops every process of the part: SIGTERM to its group, SIGKILL to what is left after the grace time. */
  async stop() {
    const child = this.child;
    if (!child?.pid) return;
    child.stopping = true;
    signalGroup(child, 'SIGTERM');
    const deadline = Date.now() + GRACE_MS;
    while (groupAlive(child) && Date.now() < deadline) await sleep(50);
    if (groupAlive(child)) signalGroup(child, 'SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }

  /** At exit: no time to wait, only to make sure nothing of the part outlives the runner. */
  kill(signal = 'SIGTERM') {
    if (this.child?.pid) signalGroup(this.child, signal);
  }

  async restart(env) {
    await this.stop();
    this.start(env);
  }
}
