/**
 * Disk faults on the lowdb store: the backend's data folder full (its writes fail with EFBIG, under a
 * file size limit set on the running process with `prlimit`), or read-only (permission bits do not
 * stop root: as root, the backend runs in a mount namespace of its own, `unshare --mount`, where its
 * data folder is a bind mount that `nsenter … mount -o remount,bind,ro` makes read-only; as another
 * user, `chmod`). Each gives a clear error (bff-token: D6's JSON error,
 * sign-in: an error page, start-up: a message naming BFF_DATA_DIR) and loses nothing already stored:
 * once space or permission is back, every earlier session works, also after a SIGKILL and restart.
 *
 * Needs `prlimit` and, as root, `unshare`, `nsenter` and `mount` (util-linux): a missing one fails the test.
 *
 * Size: RELIABILITY_DISK_USERS users signed in before the fault (default 6).
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signIn } from '@tmi-bff/mock-as/testing';
import { recordResult } from '@tmi-bff/store/testing';
import test, { type ExecutionContext } from 'ava';
import { UserAgent } from '../_setup.js';
import {
  BACKEND,
  checkDataFiles,
  mockAsAndBackendEnv,
  refresh,
  type ServerProcess,
  type SpawnOptions,
  signInUsers,
  startReady,
  startServer,
} from './_crash.js';

const USERS = Number(process.env.RELIABILITY_DISK_USERS ?? 6);
const asRoot = process.getuid?.() === 0;

/** The path of a system tool; fails the test (never skips it) when it is missing. */
function tool(t: ExecutionContext, name: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    t.fail(`${name} (util-linux) is needed for this test: apt-get install util-linux`);
    throw new Error(`${name} missing`);
  }
}

/** The mock AS in this process, a data folder, and the backend's settings. */
async function world(t: ExecutionContext) {
  const parent = await mkdtemp(join(tmpdir(), 'bff-disk-'));
  t.teardown(async () => {
    await chmodTree(parent, 0o700);
    await rm(parent, { recursive: true, force: true });
  });
  const dataDir = join(parent, 'data');
  // Info: the store's line once it is written again.
  const { origin, env } = await mockAsAndBackendEnv(t, dataDir, { BFF_LOG_LEVEL: 'info', HOME: parent });
  return { origin, parent, dataDir, env };
}

/**
 * A folder the backend cannot write: `spawn` runs it with `dir` writable (`readOnlyAtStart`: not),
 * `set` changes that while it runs. As root, a bind mount of `dir` in the backend's own mount
 * namespace, remounted read-only (EROFS); as another user, its permission bits (EACCES).
 */
function readOnlyFolder(t: ExecutionContext, dir: string, readOnlyAtStart = false) {
  if (!asRoot) {
    return {
      spawn: async (): Promise<SpawnOptions> => {
        if (readOnlyAtStart) await chmod(dir, 0o500);
        return {};
      },
      set: async (_pid: number, readOnly: boolean) => chmod(dir, readOnly ? 0o500 : 0o700),
    };
  }
  const [unshare, nsenter] = [tool(t, 'unshare'), tool(t, 'nsenter'), tool(t, 'mount')];
  const remount = (readOnly: boolean) => `mount -o remount,bind,${readOnly ? 'ro' : 'rw'} "$0"`;
  return {
    spawn: async (): Promise<SpawnOptions> => ({
      // unshare execs sh, which execs node: one process, in a mount namespace with `dir` bound onto itself.
      wrapper: [
        unshare as string,
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount --bind "$0" "$0" && ${readOnlyAtStart ? `${remount(true)} && ` : ''}exec "$@"`,
        dir,
      ],
    }),
    set: async (pid: number, readOnly: boolean) => {
      execFileSync(nsenter as string, ['--target', String(pid), '--mount', 'sh', '-c', remount(readOnly), dir]);
    },
  };
}

async function chmodTree(dir: string, mode: number): Promise<void> {
  await chmod(dir, mode).catch(() => {});
  for (const sub of ['data', 'data/bff']) await chmod(join(dir, sub), mode).catch(() => {});
}

/** A sign-in started (its login transaction stored), to be finished at the AS later. */
async function startSignIn(t: ExecutionContext, origin: string) {
  const user = new UserAgent(origin);
  const start = await user.fetch('/auth/login');
  t.is(start.status, 303);
  return { user, location: start.headers.get('location') ?? '' };
}

/** An error page: 503, HTML, saying what to do, without a stack trace or an error code. */
async function assertErrorPage(t: ExecutionContext, res: Response) {
  t.is(res.status, 503);
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  const page = await res.text();
  t.regex(page, /Try again/);
  t.notRegex(page, /at .*\.ts:\d+|EFBIG|EACCES|EROFS|node:internal/, 'no stack trace or error code on the page');
}

/**
 * While the fault lasts: bff-token's forced refresh is D6's JSON error (`temporarily_unavailable`),
 * bff-sessioninfo still answers (it only reads), and a sign-in gets an error page, never a 500:
 * one started then, and one started before whose callback comes then.
 */
async function duringFault(
  t: ExecutionContext,
  users: UserAgent[],
  origin: string,
  started: { user: UserAgent; location: string },
) {
  const statuses: number[] = [];
  for (const user of users) {
    const token = await refresh(user);
    statuses.push(token.status);
    t.is(token.status, 400, JSON.stringify(token.body));
    t.like(token.body, { error: 'temporarily_unavailable' });
    t.is(token.headers.get('cache-control'), 'no-store');
    t.is((await user.sessionInfo()).status, 200);
  }
  const newcomer = new UserAgent(origin);
  const login = await newcomer.fetch('/auth/login');
  statuses.push(login.status);
  await assertErrorPage(t, login);
  const back = await signIn(started.location, { jar: started.user.jar, persona: 'alice' });
  const callback = await started.user.fetch(back.pathname + back.search);
  statuses.push(callback.status);
  await assertErrorPage(t, callback);
  return statuses;
}

/**
 * Once space or permission is back, the store writes what it holds by itself (its log says so), so
 * that a SIGKILL right after loses nothing: the refresh tokens the AS rotated while the disk was
 * full are on disk, and every earlier session works after the restart, a forced refresh included;
 * every data file parses.
 */
async function afterFault(t: ExecutionContext, server: ServerProcess, users: UserAgent[], dataDir: string) {
  t.true(await server.until(/store: .* is written again: every change is on disk/), server.output());
  let working = 0;
  for (const user of users) if ((await user.sessionInfo()).status === 200) working += 1;
  t.is(working, users.length);
  await server.restart();
  let afterRestart = 0;
  for (const user of users) {
    const info = await user.sessionInfo();
    const token = await refresh(user);
    t.is(info.status, 200);
    t.is(token.status, 200, JSON.stringify(token.body));
    if (info.status === 200 && token.status === 200) afterRestart += 1;
  }
  const files = await checkDataFiles(dataDir);
  t.deepEqual(files.unparsable, []);
  return { working, afterRestart, files };
}

test('Crash safety: a full disk (writes fail with EFBIG) gives temporarily_unavailable and an error page, and loses no stored session', async (t) => {
  t.timeout(90_000);
  const prlimit = tool(t, 'prlimit');
  const { origin, dataDir, env } = await world(t);
  const server = await startReady(t, BACKEND, env);
  const users = await signInUsers(t, origin, USERS, 3);
  const started = await startSignIn(t, origin);

  // No file of the process may grow past 1 byte: every replacement of a data file fails.
  const pid = String(server.child.pid);
  execFileSync(prlimit, ['--pid', pid, '--fsize=1:']);
  const statuses = await duringFault(t, users, origin, started);
  t.regex(server.output(), /EFBIG/, 'the log names the failure');
  t.deepEqual((await checkDataFiles(dataDir)).unparsable, []);
  execFileSync(prlimit, ['--pid', pid, '--fsize=unlimited:']);

  const { files, ...outcome } = await afterFault(t, server, users, dataDir);
  recordResult(t, {
    area: 'Crash safety',
    tried: "disk full: every write of the backend's lowdb store fails (EFBIG), then space returns",
    cases: statuses.length,
    figures:
      `${users.length} forced refreshes answered 400 temporarily_unavailable and 2 sign-ins (one at its start, one at its callback) a 503 page while full; ` +
      `${outcome.working} of ${users.length} earlier sessions working once space returned, ${outcome.afterRestart} after a SIGKILL and restart (forced refresh); ` +
      `${files.files} data files, ${files.unparsable.length} unparsable`,
  });
});

test('Crash safety: a read-only data folder gives temporarily_unavailable, an error page, and a start-up message naming BFF_DATA_DIR; no stored session is lost', async (t) => {
  t.timeout(90_000);
  const { origin, dataDir, env } = await world(t);
  // Start-up in an empty data folder it cannot write: a message naming BFF_DATA_DIR and what to do.
  await mkdir(dataDir, { mode: 0o700 });
  const refusing = readOnlyFolder(t, dataDir, true);
  const refused = startServer(t, BACKEND, env, await refusing.spawn());
  t.is(await refused.exited, 1, refused.output());
  t.regex(refused.output(), /reference-backend: BFF_DATA_DIR .* cannot be written \((EROFS|EACCES): /);
  t.regex(refused.output(), /give this user write access to it and free space on its disk, or set BFF_DATA_DIR/);
  t.notRegex(refused.output(), /ready at|\n\s+at /);
  await chmod(dataDir, 0o700);

  // The folder the store writes in: made now, so that it can be bound (as root) before the backend starts.
  const folder = asRoot ? dataDir : join(dataDir, 'bff');
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const readOnly = readOnlyFolder(t, folder);
  const server = await startReady(t, BACKEND, env, await readOnly.spawn());
  const users = await signInUsers(t, origin, USERS, 3);
  const started = await startSignIn(t, origin);

  // Read-only: no file of the store can be created or replaced.
  await readOnly.set(server.child.pid as number, true);
  const statuses = await duringFault(t, users, origin, started);
  t.regex(server.output(), /EROFS|EACCES/, 'the log names the failure');
  await readOnly.set(server.child.pid as number, false);

  const { files, ...outcome } = await afterFault(t, server, users, dataDir);
  recordResult(t, {
    area: 'Crash safety',
    tried: "read-only data folder: at start-up, and under the backend's running lowdb store, then writable again",
    cases: statuses.length + 1,
    figures:
      `start-up refused with a message naming BFF_DATA_DIR; ${users.length} forced refreshes answered 400 temporarily_unavailable ` +
      `and 2 sign-ins (one at its start, one at its callback) a 503 page while read-only; ${outcome.working} of ${users.length} earlier sessions working once writable, ` +
      `${outcome.afterRestart} after a SIGKILL and restart (forced refresh); ${files.files} data files, ${files.unparsable.length} unparsable`,
  });
});
