/**
 * @tmi-bff/store: where a TMI-BFF backend keeps sessions, refresh tokens and cached access tokens.
 */
export { CoalescedFile, type CoalescedFileOptions } from './coalesced-file.js';
export { LeaseLost, StoreUnavailable, StoreWriteFailed } from './errors.js';
export { ExpiryIndex } from './expiry-index.js';
export { type Entry, isLive, type KeyValueStore } from './key-value-store.js';
export { DEFAULT_LEASE_MS, KeyedMutex, type KeyedMutexOptions } from './keyed-mutex.js';
export { DEFAULT_SHARDS, LOWDB_MAX_ENTRIES, LowdbStore, type LowdbStoreOptions, lowdbFolder } from './lowdb-store.js';
export { type Expired, MemoryStore, type MemoryStoreOptions, SWEEP_CHUNK } from './memory-store.js';
export { Recent } from './recent.js';
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
export { type SealableStore, SealedStore, type SealedStoreOptions } from './sealed-store.js';
export { loadOrCreateSecret, parseSecret } from './secret.js';
export { WriteTurns } from './write-turns.js';
