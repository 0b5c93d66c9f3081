/**
 * A real redis-server for tests (this package's and the backend's), started
 * on loopback on a free port, and stopped afterwards. By default nothing is persisted (a restart
 * comes back empty); `persistent` keeps an append-only file in its folder, so a restart comes back
 * with every write it acknowledged, as a production Redis with AOF does. redis-server comes from
 * Debian (`apt-get install -y redis-server`); without it the tests fail with that instruction, in CI
 * and locally alike (they are never skipped).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM: a persistent one flushes its append-only file) and resolves once it has exited. */
  stop(): Promise<void>;
  /**
   * Starts it again on the same port and resolves once it answers PING: empty, or, when persistent,
   * with what it held.
   */
  start(): Promise<void>;
  /**
   * Freezes the process (SIGSTOP): it keeps its port and its connections but answers nothing, as a
   * hung or swapped-out Redis would, until `resume`.
   */
  pause(): void;
  /** Lets a paused server run again (SIGCONT); it answers what it was sent meanwhile. */
  resume(): void;
  /** Stops it for good and removes its folder. */
  remove(): Promise<void>;
}

export interface StartRedisOptions {
  /** The redis-server binary (for tests of this helper). Default: `redis-server` on the PATH. */
  bin?: string;
  /**
   * Keep the data across `stop` and `start`: an append-only file, fsynced on every write, in the
   * server's own folder. Default: false (nothing persisted).
   */
  persistent?: boolean;
}

const MISSING =
  'redis-server is not installed: install it with `apt-get install -y redis-server` (Debian; .ci/run does this in CI)';

/** A loopback port that was free a moment ago, for a server whose URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Whether something on `port` answers PING with PONG. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
  });
}

/** Starts redis-server on a free loopback port, in a folder of its own. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const bin = options.bin ?? 'redis-server';
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'redis-'));
  const persistence = options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(
      bin,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk) => {
      stderr += chunk.toString();
    });
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? new Error(MISSING) : err));
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it answered: ${stderr}`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      await Promise.race([failed, new Promise((resolve) => setTimeout(resolve, 20))]);
      if (await pong(port)) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on port ${port} within 10 s`);
    }
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGCONT'); // a paused server must run to take the SIGTERM
    proc.kill('SIGTERM');
    await exited;
  };

  const signal = (name: 'SIGSTOP' | 'SIGCONT') => {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} is not running`);
    }
    child.kill(name);
  };

  try {
    await start();
  } catch (err) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    remove: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
