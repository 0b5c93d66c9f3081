/**
 * A `KeyValueStore` in Redis, shared by every backend instance that names the same Redis and prefix:
 * sessions, grants and cached tokens survive a restart and are served by any instance, and
 * `withLock` excludes holders across instances, so a rotating refresh token is spent by one of them.
 *
 * Client: `redis` (node-redis, the client Redis itself maintains). It speaks RESP3, reconnects with
 * a strategy we choose, can refuse commands while offline instead of queueing them
 * (`disableOfflineQueue`), and takes a timeout per command: the three things that make an outage
 * fail fast here.
 *
 * Layout, under `prefix` (default `tmi-bff:`):
 *
 *   <prefix>kv:<key>     the value: JSON of { v: value, e?: expiresAt (epoch ms) }, with PX when it expires
 *   <prefix>lock:<key>   the lock on <key>: a random token, with PX (the lock's time to live)
 *   <prefix>expiry       only with `onExpired`: a sorted set, member <key>, score its expiresAt
 *
 * Expiry. A value with a ttl gets `PX ttl`, so Redis drops it by itself. With `onExpired`, the value
 * must still be readable when it is reported, so it is kept `expiredRetentionMs` longer in Redis,
 * reads treat it as absent from its `e` on, and an expiry index (sorted set by expiresAt) is swept
 * every `sweepIntervalMs`: one Lua script takes the due members, reads, deletes and unindexes them
 * at once, so across instances sweeping the same prefix each expired value is reported once (at
 * most once: a process that dies between the script and its listener loses that report). Keyspace
 * notifications were not chosen: Redis sends them after the value is gone, to every subscriber.
 * The `e` check uses this process's clock; instances should keep their clocks in sync (NTP).
 *
 * Locks and leases. `withLock(key, fn, { leaseMs })` takes `SET lock token NX PX ttl` and polls with
 * a short backoff while another holder has it. The lock's time to live in Redis is `lockTtlMs`
 * (default 10 s) and is renewed every third of it while `fn` runs (compare-and-set in Lua: only
 * while the lock still holds our token), never beyond `leaseMs` after `fn` started; it is released
 * with compare-and-delete. So a crashed or killed holder frees its key within `lockTtlMs`, and a
 * live one keeps it up to its lease. What a holder is guaranteed:
 *
 * - While renewals reach Redis in time, no other holder holds the key until `fn` settles or
 *   `leaseMs` has passed.
 * - If the lock is lost before `leaseMs` (no renewal succeeded for `lockTtlMs`: the process was
 *   paused, or Redis unreachable; or a renewal found another token), `fn`'s `AbortSignal` is
 *   aborted with `LeaseLost`, `onLeaseLost` is told, and every `set`/`delete` that `fn` makes
 *   through this store from then on rejects with `LeaseLost` and writes nothing. Writes made while
 *   the lease is held are fenced in Redis itself: one Lua script checks the lock token and writes,
 *   so a write never lands after another holder took the key, even if the lease ran out an instant
 *   before. Reads are not fenced.
 * - A holder past its own `leaseMs` is treated as the `KeyValueStore` contract says: the key passes
 *   on, `onLeaseExpired` is told, and its later writes land unfenced (last writer wins). Callers
 *   choose a lease longer than anything `fn` awaits.
 * - Not guaranteed: a request `fn` already sent (e.g. a refresh at the authorization server) is not
 *   recalled. If the holder pauses longer than `lockTtlMs` after sending it, the next holder may
 *   send the same refresh token again; pass the signal to the request so that it is cancelled as
 *   soon as the loss is seen, and keep `lockTtlMs` well above the pauses the process can have.
 *
 * Outages. Commands are not queued while Redis is unreachable: every call rejects at once with
 * `StoreUnavailable` (and one that gets no answer within `commandTimeoutMs` too, as from a hung
 * Redis; such a write may still be carried out once Redis answers again); the client keeps
 * reconnecting in the background, and calls succeed again once Redis is back.
 *
 * Scripts name keys they compute (the sweep), so the store runs against one Redis, not a Cluster.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { createClient, ErrorReply, type RedisClientType } from 'redis';
import { invalidValue, LeaseLost, StoreUnavailable } from './errors.js';
import type { KeyValueStore } from './key-value-store.js';
import { DEFAULT_LEASE_MS } from './keyed-mutex.js';

export interface RedisStoreOptions {
  /** The Redis to use, e.g. `redis://127.0.0.1:6379/0` (`rediss://` for TLS). Required. */
  url: string;
  /** Prepended to every Redis key this store uses; stores with one prefix share their data. Default: `tmi-bff:`. */
  prefix?: string;
  /** How long a command may wait for Redis's answer before it rejects with `StoreUnavailable`. Default: 2000. */
  commandTimeoutMs?: number;
  /**
   * The lock's time to live in Redis, renewed every third of it while its holder runs: how soon the
   * key is free again after its holder's process died, and how long a pause the holder survives.
   * Default: 10 000.
   */
  lockTtlMs?: number;
  /** The longest wait between two attempts to take a held lock (the backoff starts at 2 ms). Default: 50. */
  lockRetryMaxMs?: number;
  /**
   * Called by `sweepExpired()` once for each expired value it removed, with the key (without the prefix)
   * and the value. Setting it turns on the expiry index (see above). A listener that throws or
   * rejects becomes a process warning. Default: none (values simply expire in Redis).
   */
  onExpired?: (key: string, value: unknown) => void | Promise<void>;
  /**
   * The clock values expire by (their `e`, and the sweep's "now"), for tests; Redis's own `PX` runs
   * on real time, so a test clock needs `onExpired` (which keeps values `expiredRetentionMs` longer).
   * Default: Date.now.
   */
  now?: () => number;
  /** How often the expiry index is swept; 0 sweeps only when `sweepExpired()` is called. Default: 60 000. */
  sweepIntervalMs?: number;
  /** How long an expired value stays in Redis for `sweepExpired` to report it. Default: 10 minutes. */
  expiredRetentionMs?: number;
  /** Told when a holder outlived its `leaseMs`. Default: a process warning `TMI_BFF_STORE_LEASE_EXPIRED`. */
  onLeaseExpired?: (key: string, leaseMs: number) => void;
  /** Told when a holder lost its lock before its lease ran out. Default: a process warning `TMI_BFF_STORE_LEASE_LOST`. */
  onLeaseLost?: (key: string) => void;
  /**
   * Told when the connection to Redis fails, once per outage, and when it is back. Default: a
   * process warning `TMI_BFF_STORE_UNAVAILABLE` for the failure.
   */
  onConnection?: (event: { state: 'lost' | 'back'; message: string }) => void;
}

/** One `withLock` holder, as the writes it makes see it. */
interface Holder {
  store: RedisStore;
  lockKey: string;
  token: string;
  deadline: number;
  state: 'held' | 'expired' | 'lost';
  controller: AbortController;
}

// KEYS: value, index, lock... ARGV: op, json, px ('0': none), score ('': unindex), member, token...
// Returns 0 once written, or the 1-based position of the first lock that no longer holds its token.
const WRITE = `
for i = 3, #KEYS do
  if redis.call('GET', KEYS[i]) ~= ARGV[i + 3] then return i - 2 end
end
if ARGV[1] == 'del' then
  redis.call('DEL', KEYS[1])
elseif ARGV[3] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5]) else redis.call('ZREM', KEYS[2], ARGV[5]) end
return 0`;

// KEYS: lock. ARGV: token, px. Extends the lock only while it holds our token.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

// KEYS: lock. ARGV: token. Deletes the lock only while it holds our token.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// KEYS: index. ARGV: now, limit, value key prefix. Takes due members: [member, json, member, json, ...].
const SWEEP = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {}
for _, member in ipairs(due) do
  local key = ARGV[3] .. member
  local json = redis.call('GET', key)
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], member)
  if json then
    out[#out + 1] = member
    out[#out + 1] = json
  end
end
return out`;

const SWEEP_BATCH = 500;

/** What a value is stored as. */
interface Stored {
  v: unknown;
  e?: number;
}

const warn = (code: string) => (message: string) => process.emitWarning(message, { code });
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RedisStore implements KeyValueStore {
  readonly #client: RedisClientType;
  readonly #url: string;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #lockTtlMs: number;
  readonly #lockRetryMaxMs: number;
  readonly #retentionMs: number;
  readonly #now: () => number;
  readonly #onExpired: RedisStoreOptions['onExpired'];
  readonly #onLeaseExpired: NonNullable<RedisStoreOptions['onLeaseExpired']>;
  readonly #onLeaseLost: NonNullable<RedisStoreOptions['onLeaseLost']>;
  readonly #onConnection: NonNullable<RedisStoreOptions['onConnection']>;
  readonly #holders = new AsyncLocalStorage<Holder[]>();
  #timer: NodeJS.Timeout | undefined;
  #down = false;
  #connected = false;

  /** Connects to Redis; rejects with `StoreUnavailable` when it cannot be reached within `commandTimeoutMs`. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options);
    try {
      await store.#client.connect();
      store.#connected = true;
    } catch (err) {
      store.#client.destroy();
      throw store.#unavailable(err);
    }
    store.#startSweeping(options.sweepIntervalMs ?? 60_000);
    return store;
  }

  private constructor(options: RedisStoreOptions) {
    if (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url)) {
      throw invalidValue('options.url must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');
    }
    this.#url = options.url;
    this.#prefix = options.prefix ?? 'tmi-bff:';
    this.#timeout = options.commandTimeoutMs ?? 2000;
    this.#lockTtlMs = options.lockTtlMs ?? 10_000;
    this.#lockRetryMaxMs = options.lockRetryMaxMs ?? 50;
    this.#retentionMs = options.expiredRetentionMs ?? 600_000;
    this.#now = options.now ?? Date.now;
    this.#onExpired = options.onExpired;
    this.#onLeaseExpired =
      options.onLeaseExpired ??
      ((key, leaseMs) =>
        warn('TMI_BFF_STORE_LEASE_EXPIRED')(
          `a holder of the lock on ${key} outlived its ${leaseMs} ms lease; the next holder proceeds while it still runs`,
        ));
    this.#onLeaseLost =
      options.onLeaseLost ??
      ((key) =>
        warn('TMI_BFF_STORE_LEASE_LOST')(
          `a holder of the lock on ${key} lost it before its lease ran out (no renewal within ${this.#lockTtlMs} ms); its writes are refused`,
        ));
    this.#onConnection =
      options.onConnection ??
      ((event) => (event.state === 'lost' ? warn('TMI_BFF_STORE_UNAVAILABLE')(event.message) : undefined));
    this.#client = createClient({
      url: options.url,
      // Fail fast while Redis is away (StoreUnavailable), instead of queueing calls until it is back.
      disableOfflineQueue: true,
      // `#command` bounds every call itself: no node-redis timeout (an AbortSignal.timeout per command).
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: this.#timeout,
        // Once connected, reconnect for ever in the background, backing off to one attempt a second;
        // a first connection that fails makes `connect` reject instead.
        reconnectStrategy: (retries, cause) => (this.#connected ? Math.min(50 * 2 ** retries, 1000) : cause),
      },
    }) as RedisClientType;
    this.#client.on('error', (err: unknown) => {
      if (this.#down) return;
      this.#down = true;
      this.#onConnection({ state: 'lost', message: this.#unavailable(err).message });
    });
    this.#client.on('ready', () => {
      if (!this.#down) return;
      this.#down = false;
      this.#onConnection({ state: 'back', message: `Redis at ${this.#redacted()} answers again` });
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    const json = await this.#command<string | null>(['GET', this.#valueKey(key)]);
    if (json === null) return undefined;
    const stored = JSON.parse(json) as Stored;
    return stored.e !== undefined && stored.e <= this.#now() ? undefined : (stored.v as T);
  }

  set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    const expires = ttlMs !== undefined && ttlMs > 0;
    const expiresAt = expires ? this.#now() + ttlMs : undefined;
    const json = JSON.stringify({ v: value, ...(expiresAt === undefined ? {} : { e: expiresAt }) });
    const indexed = expires && this.#onExpired !== undefined;
    const px = !expires ? '0' : String(Math.ceil(ttlMs + (indexed ? this.#retentionMs : 0)));
    return this.#write(key, ['set', json, px, indexed ? String(expiresAt) : '']);
  }

  delete(key: string): Promise<void> {
    return this.#write(key, ['del', '', '0', '']);
  }

  /**
   * Runs `fn` holding the lock on `key` across every store on this Redis and prefix (see the file
   * header for the lease, its renewal, and what a holder that lost its lock is told). `fn` receives
   * a signal that aborts when the lease runs out or is lost.
   */
  async withLock<T>(
    key: string,
    fn: (signal: AbortSignal) => Promise<T>,
    options: { leaseMs?: number } = {},
  ): Promise<T> {
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(leaseMs > 0)) throw new RangeError(`leaseMs must be a positive number of milliseconds, not ${leaseMs}`);
    const lockKey = this.#lockKey(key);
    const token = randomBytes(16).toString('base64url');
    const takenAt = await this.#acquire(lockKey, token, Math.min(this.#lockTtlMs, leaseMs));
    const holder: Holder = {
      store: this,
      lockKey,
      token,
      // From before Redis got the SET, so the lease runs out here no later than the lock in Redis.
      deadline: takenAt + leaseMs,
      state: 'held',
      controller: new AbortController(),
    };
    let confirmedAt = takenAt;
    const renewal = setInterval(async () => {
      const remaining = holder.deadline - Date.now();
      if (holder.state !== 'held' || remaining <= 0) return;
      if (Date.now() - confirmedAt >= this.#lockTtlMs) {
        this.#lose(holder, key);
        return;
      }
      try {
        const renewed = await this.#command<number>([
          'EVAL',
          RENEW,
          '1',
          lockKey,
          token,
          String(Math.min(this.#lockTtlMs, remaining)),
        ]);
        if (renewed === 1) confirmedAt = Date.now();
        else if (holder.state === 'held' && Date.now() < holder.deadline) this.#lose(holder, key);
      } catch {
        // Redis unreachable: the next tick tries again, and gives up once lockTtlMs has passed.
      }
    }, this.#lockTtlMs / 3);
    renewal.unref();
    const lease = setTimeout(() => {
      if (holder.state === 'lost') return;
      holder.state = 'expired';
      this.#onLeaseExpired(key, leaseMs);
      holder.controller.abort(new LeaseLost(`the ${leaseMs} ms lease on ${key} ran out`));
    }, holder.deadline - Date.now());
    lease.unref();
    const outer = this.#holders.getStore() ?? [];
    try {
      return await this.#holders.run([...outer, holder], () => fn(holder.controller.signal));
    } finally {
      clearInterval(renewal);
      clearTimeout(lease);
      // Compare-and-delete: never frees a lock that passed to another holder. A failure leaves it to expire.
      await this.#command(['EVAL', RELEASE, '1', lockKey, token]).catch(() => undefined);
    }
  }

  /**
   * Removes what expired from the expiry index (only with `onExpired`) and reports it; returns how
   * many values went. Each value is taken by exactly one sweeping store.
   */
  async sweepExpired(): Promise<number> {
    if (!this.#onExpired) return 0;
    let count = 0;
    for (;;) {
      const taken = await this.#command<string[]>([
        'EVAL',
        SWEEP,
        '1',
        this.#indexKey(),
        String(this.#now()),
        String(SWEEP_BATCH),
        `${this.#prefix}kv:`,
      ]);
      for (let i = 0; i < taken.length; i += 2) this.#report(taken[i] as string, taken[i + 1] as string);
      count += taken.length / 2;
      if (taken.length / 2 < SWEEP_BATCH) return count;
    }
  }

  /**
   * Stops the sweep timer and closes the connection once the calls already made are answered, or
   * after `commandTimeoutMs` when Redis does not answer them.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (!this.#client.isOpen) return;
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      this.#client.close().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#timeout);
      }),
    ]);
    clearTimeout(timer);
    if (!closed && this.#client.isOpen) this.#client.destroy();
  }

  #report(member: string, json: string): void {
    const listener = this.#onExpired;
    if (!listener) return;
    (async () => listener(member, (JSON.parse(json) as Stored).v))().catch((err: unknown) => {
      warn('TMI_BFF_STORE_ON_EXPIRED')(
        `onExpired listener failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
  }

  #startSweeping(interval: number): void {
    if (!this.#onExpired || !(interval > 0)) return;
    this.#timer = setInterval(() => {
      this.sweepExpired().catch(() => undefined); // An outage is reported by the connection; the next sweep catches up.
    }, interval);
    this.#timer.unref();
  }

  /**
   * Takes the lock, waiting with a short, growing, jittered backoff while another holder has it.
   * @returns when the SET that took it was sent.
   */
  async #acquire(lockKey: string, token: string, px: number): Promise<number> {
    for (let attempt = 0; ; attempt += 1) {
      const sentAt = Date.now();
      let taken: string | null;
      try {
        taken = await this.#command<string | null>(['SET', lockKey, token, 'NX', 'PX', String(px)]);
      } catch (err) {
        // A SET that got no answer may still take the lock once Redis answers again: release it right
        // after (same connection, so in order), rather than leave the key locked for `px` by no one.
        if (err instanceof StoreUnavailable) void this.#command(['EVAL', RELEASE, '1', lockKey, token]).catch(() => {});
        throw err;
      }
      if (taken === 'OK') return sentAt;
      const wait = Math.min(2 * 2 ** attempt, this.#lockRetryMaxMs);
      await delay(wait / 2 + Math.random() * (wait / 2));
    }
  }

  /** A write, fenced by the locks of every holder it is made under (this store's, in this async context). */
  async #write(key: string, argv: [op: string, json: string, px: string, score: string]): Promise<void> {
    const valueKey = this.#valueKey(key);
    for (;;) {
      const holders = (this.#holders.getStore() ?? []).filter((h) => h.store === this && h.state !== 'expired');
      const lost = holders.find((h) => h.state === 'lost');
      if (lost) throw this.#leaseLost(lost);
      const stale = await this.#command<number>([
        'EVAL',
        WRITE,
        String(2 + holders.length),
        valueKey,
        this.#indexKey(),
        ...holders.map((h) => h.lockKey),
        ...argv,
        key,
        ...holders.map((h) => h.token),
      ]);
      if (stale === 0) return;
      const holder = holders[stale - 1] as Holder;
      // Past its deadline the lease ran out (the contract's last writer wins): write without it.
      if (Date.now() >= holder.deadline) holder.state = 'expired';
      else this.#lose(holder, holder.lockKey.slice(`${this.#prefix}lock:`.length));
    }
  }

  #lose(holder: Holder, key: string): void {
    if (holder.state !== 'held') return;
    holder.state = 'lost';
    holder.controller.abort(this.#leaseLost(holder));
    try {
      this.#onLeaseLost(key);
    } catch {
      // A failing reporter must not break the renewal timer.
    }
  }

  #leaseLost(holder: Holder): LeaseLost {
    const key = holder.lockKey.slice(`${this.#prefix}lock:`.length);
    return new LeaseLost(
      `the lock on ${key} was lost before its lease ran out (no renewal within lockTtlMs, ${this.#lockTtlMs} ms); this write was refused, and another holder may hold the key`,
    );
  }

  /**
   * Sends one command; anything but Redis's own error reply becomes `StoreUnavailable`, and so does
   * no answer within `commandTimeoutMs`. node-redis's own per-command `timeout` ends once the command
   * is written: a Redis that takes it and never answers (hung, stopped with SIGSTOP, a half-open
   * connection) would hold the call for ever, so the wait is bounded here. The command stays in the
   * connection's queue: a write that timed out may still be carried out once Redis answers again.
   */
  async #command<T>(args: string[]): Promise<T> {
    const sent = this.#client.sendCommand(args);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        sent.catch(() => undefined); // its eventual outcome has no one waiting for it
        reject(new Error(`no answer within ${this.#timeout} ms (commandTimeoutMs)`));
      }, this.#timeout);
    });
    try {
      return (await Promise.race([sent, late])) as T;
    } catch (err) {
      if (err instanceof ErrorReply && !/^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN)\b/.test(err.message)) throw err;
      throw this.#unavailable(err);
    } finally {
      clearTimeout(timer);
    }
  }

  #unavailable(cause: unknown): StoreUnavailable {
    const reason = cause instanceof Error ? cause.message || cause.name : String(cause);
    return new StoreUnavailable(
      `Redis at ${this.#redacted()} does not answer (${reason}); check that it runs and that the store's Redis URL names it`,
      { cause },
    );
  }

  /** The URL without its password, for messages. */
  #redacted(): string {
    const url = new URL(this.#url);
    if (url.password) url.password = '***';
    return url.toString();
  }

  #valueKey(key: string): string {
    return `${this.#prefix}kv:${key}`;
  }

  #lockKey(key: string): string {
    return `${this.#prefix}lock:${key}`;
  }

  #indexKey(): string {
    return `${this.#prefix}expiry`;
  }
}
