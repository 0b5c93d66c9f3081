/**
 * The load soak's parts (soak.test.ts): many real sign-ins, then every session calling bff-token and
 * bff-sessioninfo in a loop across one or more backend instances, with each answer counted and timed,
 * and the refresh traffic the AS saw. The AS and each backend instance are forked (_soak-as.ts,
 * _soak-backend.ts); the sessions' browsers are this process.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CSRF_HEADER } from '@tmi-bff/koa';
import type { ExecutionContext } from 'ava';
import { SERVICE_A, STOCKS, UserAgent } from '../_setup.js';
import type { AsCounts } from './_soak-as.js';
import type { SoakBackendOptions } from './_soak-backend.js';

/** The two APIs the sessions ask bff-token for (`pairsOf`). */
export const PAIRS = [
  { resource: STOCKS, scope: 'stocks:read' },
  { resource: SERVICE_A, scope: 'a' },
] as const;

const CHILD_ARGS = ['--import=tsx', '--conditions=development', '--no-warnings'];

/** A forked part of the soak, and the IPC messages it sends. */
class Child {
  readonly process: ChildProcess;
  readonly stderr: string[] = [];
  readonly logs: string[] = [];
  #exited: Promise<never>;

  constructor(t: ExecutionContext, file: string, env: Record<string, string>) {
    this.process = fork(fileURLToPath(new URL(file, import.meta.url)), {
      env: { ...process.env, ...env },
      execArgv: CHILD_ARGS,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.process.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.process.on('message', (message: { log?: string }) => {
      if (message.log) this.logs.push(message.log);
    });
    this.#exited = new Promise((_, reject) =>
      this.process.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${this.stderr.join('')}`))),
    );
    this.#exited.catch(() => {});
    t.teardown(async () => {
      if (this.process.exitCode !== null || this.process.signalCode !== null) return;
      const exit = once(this.process, 'exit');
      this.process.disconnect();
      await exit;
    });
  }

  /** The next message that has `key`, or a rejection if the process exits first. */
  next<T>(key: string): Promise<T> {
    const answer = new Promise<T>((resolve) => {
      const listener = (message: Record<string, unknown>) => {
        if (!(key in message)) return;
        this.process.off('message', listener);
        resolve(message[key] as T);
      };
      this.process.on('message', listener);
    });
    return Promise.race([answer, this.#exited]);
  }
}

/** The soak's AS (_soak-as.ts), in its own process. */
export class SoakAs extends Child {
  static async start(t: ExecutionContext, bffOrigin: string, ttl: number) {
    const as = new SoakAs(t, './_soak-as.ts', { SOAK_AS: JSON.stringify({ bffOrigin, ttl }) });
    return { as, issuer: await as.next<string>('issuer') };
  }

  counts(): Promise<AsCounts> {
    const answer = this.next<AsCounts>('counts');
    this.process.send('counts');
    return answer;
  }
}

/** One backend instance (_soak-backend.ts) in its own process; resolves with its URL once it listens. */
export async function startBackend(t: ExecutionContext, options: SoakBackendOptions) {
  const backend = new Child(t, './_soak-backend.ts', { SOAK_BACKEND: JSON.stringify(options) });
  await backend.next('listening');
  return { url: `http://127.0.0.1:${options.port}`, logs: backend.logs };
}

/** A store key the instances of one soak share, so each may unseal what another wrote. */
export const sharedDataKey = () => randomBytes(32).toString('base64url');

/** Runs `work` over `items` with at most `limit` at a time. */
export async function bounded<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** `count` browsers, each signed in through the AS's real forms (its own grant), `limit` at a time. */
export async function signInMany(origin: string, count: number, limit: number) {
  const started = performance.now();
  const personas = ['alice', 'bob'];
  const users = await bounded(
    Array.from({ length: count }, (_, i) => i),
    limit,
    async (i) => {
      const user = new UserAgent(origin);
      const res = await user.signIn({ persona: personas[i % personas.length] ?? 'alice' });
      await res.body?.cancel();
      if (res.status !== 303) throw new Error(`sign-in ${i} ended with ${res.status}`);
      return user;
    },
  );
  return { users, ms: performance.now() - started };
}

/** One answer of the soak: its status and, when it failed, its `error`. */
interface Answer {
  status: number;
  error?: string;
  ms: number;
}

/** What the soak saw. */
export interface SoakFigures {
  /** Answers, of every kind. */
  requests: number;
  /** bff-token answers with a token. */
  tokens: number;
  /** `<status> <error>` → how many, for every answer that was not 200. */
  failures: Map<string, number>;
  /** Latency percentiles over every answer, in ms. */
  p50: number;
  p99: number;
  /** How long the loops ran, ramp included, in seconds. */
  seconds: number;
}

/**
 * The soak's balancer: a pool of at most `BALANCER_SOCKETS` kept-alive connections to each backend
 * instance, which every session's requests share, as a load balancer's upstream pool does. A
 * connection per request in flight (fetch's pool, unbounded) would open a thousand at once, and an
 * instance busy with the load accepts them too slowly (connect timeouts) before it ever sees the requests.
 */
export const BALANCER_SOCKETS = 64;
const balancer = new Agent({ keepAlive: true, maxSockets: BALANCER_SOCKETS });

/** One GET through the balancer: status and body text, with the jar's cookies sent and its Set-Cookie kept. */
function get(user: UserAgent, url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const cookie = user.jar.header(url);
    const req = request(
      url,
      { agent: balancer, headers: { [CSRF_HEADER]: '1', ...(cookie ? { cookie } : {}) } },
      (res) => {
        const headers = new Headers();
        for (const line of res.headers['set-cookie'] ?? []) headers.append('set-cookie', line);
        user.jar.capture(url, { headers } as Response);
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A BFF endpoint call of `user`'s browser at `origin` (one instance), as the SDK makes it. */
async function call(user: UserAgent, origin: string, path: string): Promise<Answer> {
  const started = performance.now();
  let res: { status: number; text: string };
  try {
    res = await get(user, `${origin}${path}`);
  } catch (err) {
    // No HTTP answer at all: the connection failed (status 0, with the network error's code).
    const code = (err as { code?: string }).code;
    return { status: 0, error: `no answer: ${code ?? String(err)}`, ms: performance.now() - started };
  }
  const ms = performance.now() - started;
  if (res.status === 200) return { status: 200, ms };
  let error = 'not JSON';
  try {
    error = String(JSON.parse(res.text).error);
  } catch {}
  return { status: res.status, error, ms };
}

export const tokenPath = (pair: { resource: string; scope: string }, fresh = false) =>
  `/.well-known/bff-token?${new URLSearchParams({ resource: pair.resource, scope: pair.scope, ...(fresh ? { fresh: '1' } : {}) })}`;
export const SESSIONINFO_PATH = '/.well-known/bff-sessioninfo';

/**
 * What session `i` asks bff-token for on each turn: one of the two APIs, and every fourth session
 * both at once (its two refreshes then spend one rotating refresh token under the session's lock, D10).
 */
export const pairsOf = (i: number) => (i % 4 === 3 ? PAIRS : [PAIRS[i % 2] ?? PAIRS[0]]);

/**
 * Every session in a loop until `seconds` have passed: its bff-token requests and bff-sessioninfo
 * at once, then again. The sessions start spread over `rampSeconds`, so their tokens (and refreshes)
 * come due spread over time, not all in one instant. Each request goes to the next of `origins` in
 * turn (a round-robin balancer).
 */
export async function soak(
  users: readonly UserAgent[],
  origins: readonly string[],
  seconds: number,
  rampSeconds: number,
) {
  const started = performance.now();
  const until = started + seconds * 1000;
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let tokens = 0;
  let turn = 0;
  const next = () => origins[turn++ % origins.length] ?? '';
  const note = (a: Answer) => {
    latencies.push(a.ms);
    if (a.status !== 200) {
      const key = `${a.status} ${a.error}`;
      failures.set(key, (failures.get(key) ?? 0) + 1);
    }
  };
  await Promise.all(
    users.map(async (user, i) => {
      await delay((rampSeconds * 1000 * i) / users.length);
      while (performance.now() < until) {
        const [info, ...answers] = await Promise.all([
          call(user, next(), SESSIONINFO_PATH),
          ...pairsOf(i).map((pair) => call(user, next(), tokenPath(pair))),
        ]);
        note(info as Answer);
        for (const a of answers) {
          note(a);
          if (a.status === 200) tokens += 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, tokens, failures, p50: at(0.5), p99: at(0.99), seconds: elapsed };
}

/** What became of every session after the soak. */
export interface FinalCheck {
  /** Sessions that no longer answer bff-sessioninfo with 200: index and answer. */
  lost: string[];
  /** Sessions whose grant no longer refreshes (bff-token with fresh=1): index and answer. */
  unrefreshable: string[];
  /** temporarily_unavailable answers on the way (D6: the AS was slow; asked again). */
  retried: number;
}

/**
 * After the soak: does every session still answer bff-sessioninfo, and does its grant still refresh
 * (bff-token with fresh=1 for the API it used)? An answer of temporarily_unavailable (D6: the AS
 * did not answer in time, the session and its refresh token are kept) is asked again, up to 3 times.
 */
export async function finalCheck(users: readonly UserAgent[], origins: readonly string[], limit: number) {
  const check: FinalCheck = { lost: [], unrefreshable: [], retried: 0 };
  const ask = async (user: UserAgent, origin: string, path: string) => {
    let answer = await call(user, origin, path);
    for (let again = 0; again < 3 && answer.error === 'temporarily_unavailable'; again += 1) {
      check.retried += 1;
      answer = await call(user, origin, path);
    }
    return answer;
  };
  await bounded(users, limit, async (user, i) => {
    const origin = origins[i % origins.length] ?? '';
    const info = await ask(user, origin, SESSIONINFO_PATH);
    if (info.status !== 200) check.lost.push(`${i}: ${info.status} ${info.error}`);
    const fresh = await ask(user, origin, tokenPath(pairsOf(i)[0] ?? PAIRS[0], true));
    if (fresh.status !== 200) check.unrefreshable.push(`${i}: ${fresh.status} ${fresh.error}`);
  });
  return check;
}
