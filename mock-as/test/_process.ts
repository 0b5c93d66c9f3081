/** Runs the real `src/server.ts` entry point in a child process, as `npm run dev` does. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export { freePort } from '../src/testing/index.js';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export function runServer(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', SERVER], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => stdout.push(...d.split('\n').filter(Boolean)));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => stderr.push(...d.split('\n').filter(Boolean)));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stdout, stderr, exited };
}

/** Resolves once the server prints its ready line; rejects if it exits first. */
export function ready(p: ServerProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = p.stdout.find((l) => l.startsWith('mock-as ready at'));
      if (line) {
        p.child.stdout?.off('data', check);
        resolve(line);
      }
    };
    p.child.stdout?.on('data', check);
    p.exited.then((code) => reject(new Error(`exited with ${code}: ${p.stderr.join('\n')}`)));
    check();
  });
}
