/**
 * The oidc-provider storage adapter: every model (Session, Grant, Interaction, AuthorizationCode,
 * RefreshToken, …) in one keyed table, kept in memory and, when a file is given, persisted with
 * lowdb through a coalesced writer. Expired rows are never returned and are swept on a timer.
 *
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#adapter
 */

import { CoalescedFile } from '@tmi-bff/store';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

interface Row {
  payload: AdapterPayload;
  /** Epoch milliseconds; absent means no expiry. */
  expiresAt?: number;
}

interface Document {
  version: 1;
  rows: Record<string, Row>;
}

const key = (model: string, id: string) => `${model}:${id}`;

export interface TokenStoreOptions {
  /** The lowdb file. Without it the store lives in memory only (tests). */
  file?: string | undefined;
  /** How often expired rows are removed, in milliseconds. Default: 60 000. */
  sweepIntervalMs?: number;
  /** Clock, for tests. Default: Date.now. */
  now?: () => number;
}

/** One store per AS process. `adapter` is what oidc-provider's `adapter` option takes. */
export class TokenStore {
  readonly #file: CoalescedFile<Document> | undefined;
  readonly #now: () => number;
  readonly #sweepIntervalMs: number;
  #rows: Record<string, Row> = {};
  /** `<model>:<uid>` → row key, and `<model>:<userCode>` → row key: lookups stay within a model. */
  readonly #byUid = new Map<string, string>();
  readonly #byUserCode = new Map<string, string>();
  readonly #byGrant = new Map<string, Set<string>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: TokenStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    this.#file = options.file ? new CoalescedFile<Document>(options.file, { version: 1, rows: {} }) : undefined;
  }

  /** Loads the file (if any), drops expired rows and starts the sweeper. */
  async open(): Promise<void> {
    if (this.#file) {
      await this.#file.open();
      this.#rows = this.#file.data.rows;
    }
    for (const [k, row] of Object.entries(this.#rows)) this.#index(k, row);
    this.sweep();
    this.#timer = setInterval(() => this.sweep(), this.#sweepIntervalMs);
    this.#timer.unref();
  }

  /** Stops the sweeper and waits for the last write. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#persist();
  }

  /** How many times the data file was replaced (0 in memory). */
  get fileWrites(): number {
    return this.#file?.writes ?? 0;
  }

  /** Number of rows, per model. */
  count(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of Object.keys(this.#rows)) {
      const model = k.slice(0, k.indexOf(':'));
      out[model] = (out[model] ?? 0) + 1;
    }
    return out;
  }

  /** Removes every expired row. Returns how many went. */
  sweep(): number {
    const now = this.#now();
    let removed = 0;
    for (const [k, row] of Object.entries(this.#rows)) {
      if (row.expiresAt !== undefined && row.expiresAt <= now) {
        this.#remove(k);
        removed += 1;
      }
    }
    if (removed > 0) void this.#persist().catch(() => {});
    return removed;
  }

  readonly adapter: AdapterFactory = (model: string): Adapter => {
    const store = this;
    return {
      async upsert(id, payload, expiresIn) {
        const k = key(model, id);
        store.#remove(k);
        const row: Row = { payload, ...(expiresIn ? { expiresAt: store.#now() + expiresIn * 1000 } : {}) };
        store.#rows[k] = row;
        store.#index(k, row);
        await store.#persist();
      },
      async find(id) {
        return store.#live(key(model, id));
      },
      async findByUid(uid) {
        const k = store.#byUid.get(key(model, uid));
        return k ? store.#live(k) : undefined;
      },
      async findByUserCode(userCode) {
        const k = store.#byUserCode.get(key(model, userCode));
        return k ? store.#live(k) : undefined;
      },
      async consume(id) {
        const row = store.#rows[key(model, id)];
        if (!row) return;
        row.payload.consumed = Math.floor(store.#now() / 1000);
        await store.#persist();
      },
      async destroy(id) {
        if (store.#remove(key(model, id))) await store.#persist();
      },
      async revokeByGrantId(grantId) {
        const prefix = key(model, '');
        const keys = [...(store.#byGrant.get(grantId) ?? [])].filter((k) => k.startsWith(prefix));
        for (const k of keys) store.#remove(k);
        if (keys.length > 0) await store.#persist();
      },
    };
  };

  #live(k: string): AdapterPayload | undefined {
    const row = this.#rows[k];
    if (!row) return undefined;
    if (row.expiresAt !== undefined && row.expiresAt <= this.#now()) return undefined;
    return row.payload;
  }

  #index(k: string, row: Row): void {
    const { uid, userCode, grantId } = row.payload;
    const model = k.slice(0, k.indexOf(':'));
    if (uid) this.#byUid.set(key(model, uid), k);
    if (userCode) this.#byUserCode.set(key(model, userCode), k);
    if (grantId) {
      const set = this.#byGrant.get(grantId) ?? new Set<string>();
      this.#byGrant.set(grantId, set.add(k));
    }
  }

  #remove(k: string): boolean {
    const row = this.#rows[k];
    if (!row) return false;
    const { uid, userCode, grantId } = row.payload;
    const model = k.slice(0, k.indexOf(':'));
    if (uid && this.#byUid.get(key(model, uid)) === k) this.#byUid.delete(key(model, uid));
    if (userCode && this.#byUserCode.get(key(model, userCode)) === k) this.#byUserCode.delete(key(model, userCode));
    if (grantId) {
      const set = this.#byGrant.get(grantId);
      set?.delete(k);
      if (set?.size === 0) this.#byGrant.delete(grantId);
    }
    delete this.#rows[k];
    return true;
  }

  #persist(): Promise<void> {
    return this.#file ? this.#file.flush() : Promise.resolve();
  }
}
