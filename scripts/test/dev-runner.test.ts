// `npm run dev` as a user runs it, on ephemeral loopback ports and data folders of its own: it gets
// ready, `npm run reset` refuses while it runs, and SIGTERM or Ctrl-C leave no process behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '@tmi-bff/store/testing';
import test from 'ava';

const ROOT = resolve(import.meta.dirname, '../..');
const LOCK = 'npm-run-dev.pid';

/** The environment of a user's shell: none of the npm variables of the `npm test` running this. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' };
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_|^INIT_CWD$/i.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Every descendant of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The processes of `pids` still running (a zombie, already dead, does not count), with their command lines. */
function running(pids: number[]): string[] {
  return pids.flatMap((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return [];
      return [`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`];
    } catch {
      return [];
    }
  });
}

/** Resolves once none of `pids` runs any more, or after `ms` with those that still do. */
async function gone(pids: number[], ms = 15_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = running(pids);
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = running(pids);
  }
  return left;
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

interface Dev {
  npm: ChildProcess;
  env: NodeJS.ProcessEnv;
  urls: string[];
  dataDirs: { as: string; bff: string };
  /** Seconds, as the banner says. */
  readyIn: number;
  /** The processes under npm once ready. */
  tree: number[];
  /** Resolves with the first line matching `pattern` that npm run dev prints from now on. */
  nextLine(pattern: RegExp): Promise<string>;
}

/** `npm run dev` in a process group of its own, as a terminal starts it; resolves once its banner says ready. */
async function startDev(extra: Record<string, string> = {}): Promise<Dev> {
  const [as, bff, api] = [await freePort(), await freePort(), await freePort()];
  const base = mkdtempSync(join(tmpdir(), 'tmi-bff-dev-'));
  const dataDirs = { as: join(base, 'mock-as'), bff: join(base, 'reference-backend') };
  const urls = [`http://localhost:${as}`, `http://localhost:${bff}`, `http://localhost:${api}`];
  const env = userEnv({
    MOCK_AS_ISSUER: urls[0] as string,
    BFF_ORIGIN: urls[1] as string,
    API_ORIGIN: urls[2] as string,
    MOCK_AS_DATA_DIR: dataDirs.as,
    BFF_DATA_DIR: dataDirs.bff,
    ...extra,
  });
  const npm = spawn('npm', ['run', 'dev'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const printed = new EventEmitter();
  for (const stream of [npm.stdout, npm.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      printed.emit('line', line);
    });
  }
  const nextLine = (pattern: RegExp) =>
    new Promise<string>((resolve) => {
      const onLine = (line: string) => {
        if (!pattern.test(line)) return;
        printed.off('line', onLine);
        resolve(line);
      };
      printed.on('line', onLine);
    });
  const readyIn = await new Promise<number>((ready, fail) => {
    const onExit = (code: number | null) => fail(new Error(`npm run dev exited (${code}):\n${lines.join('\n')}`));
    npm.once('exit', onExit);
    printed.on('line', function onBanner(line: string) {
      const m = /^tmi-bff is ready in ([\d.]+) s, on Node v\d+\.\d+\.\d+:$/.exec(line);
      if (!m) return;
      printed.off('line', onBanner);
      npm.off('exit', onExit);
      ready(Number(m[1]));
    });
  });
  return { npm, env, urls, dataDirs, readyIn, tree: descendants(npm.pid as number), nextLine };
}

test.serial(
  'npm run reset while npm run dev runs: refuses, says to stop dev first, and keeps the data; SIGTERM then stops every process',
  async (t) => {
    const dev = await startDev();
    t.log(`ready in ${dev.readyIn} s`);
    // npm, its shell, the runner, and each part's watcher and server.
    t.true(dev.tree.length >= 8, running(dev.tree).join('\n'));
    t.true(existsSync(join(dev.dataDirs.as, LOCK)));

    const refused = await run('npm', ['run', 'reset', '--silent'], dev.env);
    t.is(refused.code, 1);
    t.regex(refused.stderr, /npm run dev is running on this data:/);
    t.true(refused.stderr.includes(`mock-as: ${dev.dataDirs.as} (npm run dev, pid `));
    t.true(refused.stderr.includes('Stop `npm run dev` first (Ctrl-C), then run `npm run reset`.'));
    // Nothing was removed, and the servers still serve what they hold.
    t.true(readdirSync(dev.dataDirs.as).includes('keys.json'));
    t.true(readdirSync(dev.dataDirs.bff).includes('bff.key'));
    const metadata = await fetch(`${dev.urls[0]}/.well-known/openid-configuration`);
    t.is(metadata.status, 200);

    dev.npm.kill('SIGTERM');
    await once(dev.npm, 'exit');
    t.deepEqual(await gone(dev.tree), []);
    for (const url of dev.urls) t.false(await answers(url), url);
    t.false(existsSync(join(dev.dataDirs.as, LOCK)), 'the runner removes its lock');

    const reset = await run('npm', ['run', 'reset', '--silent'], dev.env);
    t.is(reset.code, 0, reset.stderr);
    t.true(reset.stdout.includes(`mock-as: removed ${dev.dataDirs.as}`));
    t.false(existsSync(dev.dataDirs.as));
    t.false(existsSync(dev.dataDirs.bff));
  },
);

test.serial(
  'a change to the seed restarts the parts that read it; Ctrl-C (SIGINT to the process group) then stops every process',
  async (t) => {
    const seed = join(mkdtempSync(join(tmpdir(), 'tmi-bff-seed-')), 'seed.json');
    copyFileSync(join(ROOT, 'mock-as', 'seed.json'), seed);
    const dev = await startDev({ MOCK_AS_SEED: seed });
    t.log(`ready in ${dev.readyIn} s`);

    const restarting = dev.nextLine(
      /^tmi-bff: seed\.json changed: restarting the mock AS, the backend and the demo APIs$/,
    );
    const backendBack = dev.nextLine(/^\[bff\] reference-backend ready at /);
    const edited = JSON.parse(readFileSync(seed, 'utf8'));
    edited.users[0].persona = 'Edited while npm run dev runs';
    writeFileSync(seed, JSON.stringify(edited, null, 2));
    await restarting;
    await backendBack;
    // The backend restarted with the values of the new seed: the sample SPA's settings show the edit.
    const home = await (await fetch(`${dev.urls[1]}/`)).text();
    t.true(home.includes('Edited while npm run dev runs'));
    const tree = descendants(dev.npm.pid as number);
    t.notDeepEqual(tree, dev.tree, 'the restarted parts are new processes');

    process.kill(-(dev.npm.pid as number), 'SIGINT');
    t.deepEqual(await gone([dev.npm.pid as number, ...dev.tree, ...tree]), []);
    for (const url of dev.urls) t.false(await answers(url), url);
    t.false(existsSync(join(dev.dataDirs.bff, LOCK)));
  },
);

for (const [holder, pid] of [
  [
    'is gone (killed with SIGKILL)',
    async () => {
      const exited = spawn(process.execPath, ['-e', '0']);
      await once(exited, 'exit');
      return exited.pid as number;
    },
  ],
  ['names another program now', async () => process.pid],
] as const) {
  test(`a lock whose pid ${holder} does not stop npm run reset`, async (t) => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tmi-bff-reset-')), 'mock-as');
    mkdirSync(dir);
    writeFileSync(join(dir, LOCK), `${await pid()}\n`);
    const reset = await run(process.execPath, ['scripts/reset.mjs', 'mock-as'], userEnv({ MOCK_AS_DATA_DIR: dir }));
    t.is(reset.code, 0, reset.stderr);
    t.is(reset.stdout, `mock-as: removed ${dir} (sessions, grants, refresh tokens, signing keys)\n`);
    t.false(existsSync(dir));
  });
}
