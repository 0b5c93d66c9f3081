/**
 * A `KeyValueStore` wrapper that keeps a backend's secrets unreadable at rest. Keys keep their
 * namespace (`session:`, `grant:`, `login:`) and hash the rest, so a leaked data file cannot be
 * replayed as cookies; values are JSON sealed with AES-256-GCM, bound to their stored key.
 *
 *   stored key   = namespace + base64url(HMAC-SHA256(hashKey, key))
 *   stored value = { v: 1, iv, ct, tag }   AES-256-GCM(encryptionKey, JSON), AAD = stored key
 *   subkeys      = HKDF-SHA256(secret, info) with one `info` per use
 *
 * Expiry stays with the inner store, in clear.
 *
 * A hot key costs neither its HMAC nor its decryption twice: the store remembers the stored key of
 * the last `KEY_CACHE_SIZE` keys, and what it opened, by envelope. An inner store that hands out
 * its own object until the key is set again (MemoryStore, LowdbStore) is remembered per object; one
 * that decodes each read anew (RedisStore) by the envelope's GCM tag, unique per seal with a random
 * IV, and only when the IV, ciphertext and stored key are the same as when it opened. `get` returns
 * the opened value deep-frozen (the `KeyValueStore.get` contract: read-only).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { invalidValue } from './errors.js';
import type { KeyValueStore } from './key-value-store.js';
import { deepFreeze } from './memory-store.js';
import { Recent } from './recent.js';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ENCRYPTION_INFO = 'tmi-bff/store v1 value encryption';
const KEY_HASHING_INFO = 'tmi-bff/store v1 key hashing';
/** How many keys' stored keys (HMACs) a SealedStore remembers. */
export const KEY_CACHE_SIZE = 10_000;
/** How many opened values a SealedStore remembers by their envelope's tag (inner stores that decode each read). */
export const OPENED_CACHE_SIZE = 4096;

export interface SealedStoreOptions {
  /** 32 random bytes; see `parseSecret` and `loadOrCreateSecret`. Both subkeys derive from it. */
  secret: Uint8Array;
  /**
   * Told when a stored value does not open (tampered with, moved under another key, sealed with
   * another secret, or not sealed at all); the value then reads as absent. The message names the
   * stored (hashed) key and holds no secret material. Default: none.
   */
  onError?: (message: string) => void;
}

/** What a `SealedStore` wraps: any store; `sweep` and `size` are passed through when it has them. */
export type SealableStore = KeyValueStore & { sweep?(): number; readonly size?: number | undefined };

/** A sealed value as the inner store holds it; every field but `v` is base64url. */
interface Envelope {
  v: 1;
  iv: string;
  ct: string;
  tag: string;
}

const isEnvelope = (raw: unknown): raw is Envelope =>
  typeof raw === 'object' &&
  raw !== null &&
  (raw as Envelope).v === 1 &&
  ['iv', 'ct', 'tag'].every((field) => typeof (raw as Record<string, unknown>)[field] === 'string');

/** What an envelope opened to, and where: a remembered value is used only for the same stored key. */
interface Opened {
  storedKey: string;
  iv: string;
  ct: string;
  value: unknown;
}

const subkey = (secret: Uint8Array, info: string): KeyObject =>
  createSecretKey(Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), info, 32)));

export class SealedStore implements KeyValueStore {
  readonly #inner: SealableStore;
  readonly #encryptionKey: KeyObject;
  readonly #hashKey: KeyObject;
  readonly #onError: SealedStoreOptions['onError'];
  readonly #storedKeys = new Recent<string, string>(KEY_CACHE_SIZE);
  readonly #openedEnvelopes = new WeakMap<object, Opened>();
  readonly #openedTags = new Recent<string, Opened>(OPENED_CACHE_SIZE);
  #decrypted = 0;

  constructor(inner: SealableStore, options: SealedStoreOptions) {
    if (!(options.secret instanceof Uint8Array) || options.secret.length !== 32) {
      throw invalidValue('options.secret must be 32 random bytes (see parseSecret and loadOrCreateSecret)');
    }
    this.#inner = inner;
    this.#encryptionKey = subkey(options.secret, ENCRYPTION_INFO);
    this.#hashKey = subkey(options.secret, KEY_HASHING_INFO);
    this.#onError = options.onError;
  }

  /** The readable part of a key: up to and including its first ':', or '' when it has none. */
  static namespaceOf(key: string): string {
    return key.slice(0, key.indexOf(':') + 1);
  }

  /** The key under which the inner store holds `key`'s value. */
  storedKey(key: string): string {
    const known = this.#storedKeys.get(key);
    if (known !== undefined) return known;
    const stored = SealedStore.namespaceOf(key) + createHmac('sha256', this.#hashKey).update(key).digest('base64url');
    this.#storedKeys.set(key, stored);
    return stored;
  }

  /** How many values this store has decrypted since it was made (a value read again is not). */
  get decrypted(): number {
    return this.#decrypted;
  }

  /** The value, deep-frozen: it may be the one an earlier `get` returned. */
  async get<T>(key: string): Promise<T | undefined> {
    const stored = this.storedKey(key);
    const raw = await this.#inner.get(stored);
    if (raw === undefined) return undefined;
    const opened = this.#remembered(stored, raw);
    if (opened) return opened.value as T;
    const value = this.unseal(stored, raw);
    if (value === undefined) return undefined;
    const envelope = raw as Envelope;
    const entry: Opened = { storedKey: stored, iv: envelope.iv, ct: envelope.ct, value: deepFreeze(value) };
    if (Object.isFrozen(envelope)) this.#openedEnvelopes.set(envelope, entry);
    else this.#openedTags.set(envelope.tag, entry);
    return entry.value as T;
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    const stored = this.storedKey(key);
    await this.#inner.set(stored, this.#seal(stored, value), ttlMs);
  }

  delete(key: string): Promise<void> {
    return this.#inner.delete(this.storedKey(key));
  }

  withLock<T>(key: string, fn: () => Promise<T>, options?: { leaseMs?: number }): Promise<T> {
    return this.#inner.withLock(this.storedKey(key), fn, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** The inner store's sweep: expired entries go to its `onExpired` still sealed (see `unseal`). */
  sweep(): number {
    return this.#inner.sweep?.() ?? 0;
  }

  /** The inner store's entry count, when it keeps one. */
  get size(): number | undefined {
    return this.#inner.size;
  }

  /**
   * Opens a value as the inner store holds it, e.g. the one an `onExpired` listener receives.
   * @returns the value, or undefined (reported to `onError`) when it does not open.
   */
  unseal(storedKey: string, raw: unknown): unknown {
    if (!isEnvelope(raw)) return this.#refuse(`${storedKey}: the stored value is not sealed`);
    try {
      const decipher = createDecipheriv(CIPHER, this.#encryptionKey, Buffer.from(raw.iv, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(storedKey));
      this.#decrypted++;
      decipher.setAuthTag(Buffer.from(raw.tag, 'base64url'));
      const json = Buffer.concat([decipher.update(Buffer.from(raw.ct, 'base64url')), decipher.final()]);
      return JSON.parse(json.toString('utf8'));
    } catch {
      return this.#refuse(
        `${storedKey}: the sealed value does not open (tampered with, moved from another key, or sealed with another secret)`,
      );
    }
  }

  /** What `raw` opened to before under `storedKey`, if it is the same envelope. */
  #remembered(storedKey: string, raw: unknown): Opened | undefined {
    if (typeof raw !== 'object' || raw === null) return undefined;
    const byObject = this.#openedEnvelopes.get(raw);
    if (byObject) return byObject.storedKey === storedKey ? byObject : undefined;
    const { tag, iv, ct } = raw as Partial<Envelope>;
    if (typeof tag !== 'string') return undefined;
    const byTag = this.#openedTags.get(tag);
    return byTag && byTag.storedKey === storedKey && byTag.iv === iv && byTag.ct === ct ? byTag : undefined;
  }

  #seal(storedKey: string, value: unknown): Envelope {
    const json = JSON.stringify(value);
    if (json === undefined) throw invalidValue('a SealedStore value must be JSON');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.#encryptionKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(storedKey));
    const ct = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
    return {
      v: 1,
      iv: iv.toString('base64url'),
      ct: ct.toString('base64url'),
      tag: cipher.getAuthTag().toString('base64url'),
    };
  }

  #refuse(message: string): undefined {
    try {
      this.#onError?.(message);
    } catch {
      // A failing reporter must not turn a read into a throw.
    }
    return undefined;
  }
}
